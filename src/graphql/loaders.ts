import DataLoader from 'dataloader';
import { In, type DataSource } from 'typeorm';
import { OrganizationEntity } from '../modules/organization/organization.entity';
import type { Grant } from '../modules/agreement/agreement.status';
import { loadGrants } from '../modules/agreement/grant.queries';
import { PersonEntity } from '../modules/policy/person.entity';
import type { ShownPerson } from '../modules/policy/person.mapper';
import { PolicyBeneficiaryEntity } from '../modules/policy/policy.entity';

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
  // Holds what person.mapper shows: a read that primes it may select only those columns (the point read does).
  const personById = byIdLoader<ShownPerson>((ids) => db.getRepository(PersonEntity).findBy({ id: In(ids) }));
  return {
    organizationById: byIdLoader((ids) => db.getRepository(OrganizationEntity).findBy({ id: In(ids) })),
    /** Organizations by their (upper-case) code, e.g. an `insurerCode` argument; null when unknown. */
    organizationByCode: new DataLoader<string, OrganizationEntity | null>(async (codes) => {
      const rows = await db.getRepository(OrganizationEntity).findBy({ code: In([...codes]) });
      return codes.map((code) => rows.find((row) => row.code === code) ?? null);
    }),
    /** Key `${organizationId}:${insurerId}` (grantKey): the scopes held now, one query per batch (GrantService). */
    grants: new DataLoader<string, Grant>((keys) => loadGrants(db.manager, keys, now)),
    /** People of the policies being resolved (one query per batch; person.mapper decides what of them is shown). */
    personById,
    /**
     * Beneficiary rows of each policy, in their order, with their people
     * joined and handed to `personById` (one query per batch of policies:
     * issue 10 (a), measured by the read bench, the people were a query of
     * their own).
     */
    beneficiariesByPolicyId: new DataLoader<string, PolicyBeneficiaryEntity[]>(async (policyIds) => {
      const rows = (await db
        .getRepository(PolicyBeneficiaryEntity)
        .createQueryBuilder('b')
        .leftJoinAndMapOne('b.joinedPerson', PersonEntity, 'bp', 'bp.id = b.person_id')
        .where('b.policy_id IN (:...policyIds)', { policyIds: [...policyIds] })
        .orderBy('b.ord', 'ASC')
        .addOrderBy('b.id', 'ASC')
        .getMany()) as Array<PolicyBeneficiaryEntity & { joinedPerson?: PersonEntity | null }>;
      const byPolicy = new Map<string, PolicyBeneficiaryEntity[]>();
      for (const row of rows) {
        if (row.joinedPerson) personById.prime(row.joinedPerson.id, row.joinedPerson);
        delete row.joinedPerson;
        byPolicy.set(row.policyId, [...(byPolicy.get(row.policyId) ?? []), row]);
      }
      return policyIds.map((id) => byPolicy.get(id) ?? []);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
