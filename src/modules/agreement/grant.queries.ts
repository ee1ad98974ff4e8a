import type { EntityManager, SelectQueryBuilder } from 'typeorm';
import { OrganizationEntity } from '../organization/organization.entity';
import { AgreementEntity } from './agreement.entity';
import { OWN_GRANT, unionGrant, type Grant } from './agreement.status';

/**
 * The ACTIVE condition of `agreementStatus` in SQL, on alias `a`, with the
 * request's instant bound as `:now`: both signed, not terminated,
 * `valid_from <= now < valid_to`.
 */
export const ACTIVE_AGREEMENT_SQL =
  'a.terminated_at IS NULL AND a.insurer_signed_at IS NOT NULL AND a.partner_signed_at IS NOT NULL AND a.valid_from <= :now AND a.valid_to > :now';

/** Key of the per-request grants loader: what `organizationId` holds on `insurerId`. */
export function grantKey(organizationId: string, insurerId: string): string {
  return `${organizationId}:${insurerId}`;
}

/** One ACTIVE agreement as {@link activeAgreements} selects it (raw: the drivers may answer ids as numbers). */
export interface ActiveRow {
  id: string;
  insurerId: string;
  partnerId: string;
  scopes: string;
}

/** The ACTIVE agreements at `now` (alias `a`), for the caller to narrow. */
export function activeAgreements(manager: EntityManager, now: Date): SelectQueryBuilder<AgreementEntity> {
  return manager
    .getRepository(AgreementEntity)
    .createQueryBuilder('a')
    .select(['a.id AS id', 'a.insurer_id AS insurerId', 'a.partner_id AS partnerId', 'a.scopes AS scopes'])
    .where(ACTIVE_AGREEMENT_SQL, { now });
}

/**
 * Batch function of the `grants` loader: answers every key of one tick with
 * ONE query over the ACTIVE agreements at `now` (none at all when every key
 * is an insurer asking about itself). The result of a pair is the union of
 * its ACTIVE agreements (`unionGrant`); an insurer holds every scope on
 * itself (`OWN_GRANT`), so callers need no special case for the insurer's own
 * principals. That shortcut trusts the caller to pass an insurer's id as
 * `insurerId` (resolve it from an `insurerCode` and check its kind first).
 */
export async function loadGrants(manager: EntityManager, keys: readonly string[], now: Date): Promise<Grant[]> {
  const pairs = keys.map((key) => {
    const [organizationId = '', insurerId = ''] = key.split(':');
    return { organizationId, insurerId };
  });
  const wanted = pairs.filter((p) => p.organizationId !== p.insurerId && p.organizationId && p.insurerId);
  const byPair = new Map<string, ActiveRow[]>();
  if (wanted.length > 0) {
    const rows = await activeAgreements(manager, now)
      .andWhere('a.partner_id IN (:...partners)', { partners: [...new Set(wanted.map((p) => p.organizationId))] })
      .andWhere('a.insurer_id IN (:...insurers)', { insurers: [...new Set(wanted.map((p) => p.insurerId))] })
      .getRawMany<ActiveRow>();
    for (const row of rows) {
      const key = grantKey(String(row.partnerId), String(row.insurerId));
      byPair.set(key, [...(byPair.get(key) ?? []), { ...row, id: String(row.id), scopes: String(row.scopes) }]);
    }
  }
  return pairs.map((p) => {
    if (p.organizationId !== '' && p.organizationId === p.insurerId) return OWN_GRANT;
    return unionGrant(byPair.get(grantKey(p.organizationId, p.insurerId)) ?? []);
  });
}

/**
 * The organization of `code` with the ACTIVE agreements at `now` between it
 * (as insurer) and `partnerId`, in ONE query: a partner's point read needs
 * both before it can scope its SQL (issue 10 (a), measured by the read bench:
 * these were two of the point read's 8 statements). Null when no
 * organization has the code.
 */
export async function organizationWithGrant(
  manager: EntityManager,
  code: string,
  partnerId: string,
  now: Date,
): Promise<{ organization: OrganizationEntity; grant: Grant } | null> {
  const row = (await manager
    .getRepository(OrganizationEntity)
    .createQueryBuilder('o')
    .leftJoinAndMapMany('o.joinedAgreements', AgreementEntity, 'a', `a.insurer_id = o.id AND a.partner_id = :partnerId AND ${ACTIVE_AGREEMENT_SQL}`, { partnerId, now })
    .where('o.code = :code', { code })
    .getOne()) as (OrganizationEntity & { joinedAgreements?: AgreementEntity[] }) | null;
  if (!row) return null;
  const agreements = row.joinedAgreements ?? [];
  delete row.joinedAgreements;
  if (row.id === partnerId) return { organization: row, grant: OWN_GRANT };
  return { organization: row, grant: unionGrant(agreements.map((a) => ({ id: String(a.id), scopes: String(a.scopes) }))) };
}
