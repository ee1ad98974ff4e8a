import DataLoader from 'dataloader';
import { In, type DataSource } from 'typeorm';
import { OrganizationEntity } from '../modules/organization/organization.entity';

/** Batches `ids` into one `WHERE id IN (…)` and returns rows in the order asked (null when absent). */
export function byIdLoader<T extends { id: string }>(load: (ids: string[]) => Promise<T[]>): DataLoader<string, T | null> {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = await load([...ids]);
    const map = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => map.get(id) ?? null);
  });
}

/** Per-request loaders: made fresh for every request so nothing is cached across callers. */
export function createLoaders(db: DataSource) {
  return {
    organizationById: byIdLoader((ids) => db.getRepository(OrganizationEntity).findBy({ id: In(ids) })),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
