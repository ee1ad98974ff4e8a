import DataLoader from 'dataloader';
import { In, type DataSource } from 'typeorm';
import { OrganizationEntity } from '../modules/organization/organization.entity';
import type { Grant } from '../modules/agreement/agreement.status';
import { loadGrants } from '../modules/agreement/grant.service';

/** Batches `ids` into one `WHERE id IN (…)` and returns rows in the order asked (null when absent). */
export function byIdLoader<T extends { id: string }>(load: (ids: string[]) => Promise<T[]>): DataLoader<string, T | null> {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = await load([...ids]);
    const map = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => map.get(id) ?? null);
  });
}

/** Per-request loaders: made fresh for every request so nothing is cached across callers. */
export function createLoaders(db: DataSource, now: Date = new Date()) {
  return {
    organizationById: byIdLoader((ids) => db.getRepository(OrganizationEntity).findBy({ id: In(ids) })),
    /** Organizations by their (upper-case) code, e.g. an `insurerCode` argument; null when unknown. */
    organizationByCode: new DataLoader<string, OrganizationEntity | null>(async (codes) => {
      const rows = await db.getRepository(OrganizationEntity).findBy({ code: In([...codes]) });
      return codes.map((code) => rows.find((row) => row.code === code) ?? null);
    }),
    /** Key `${organizationId}:${insurerId}` (grantKey): the scopes held now, one query per batch (GrantService). */
    grants: new DataLoader<string, Grant>((keys) => loadGrants(db.manager, keys, now)),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
