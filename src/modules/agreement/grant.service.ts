import type { DataSource, EntityManager } from 'typeorm';
import { isSqlite } from '../../db/dialect';
import type { RequestContext } from '../../graphql/context';
import { AgreementInactiveError, UnauthenticatedError } from '../../graphql/errors';
import { AgreementEntity, type AgreementScope } from './agreement.entity';
import { isActiveAt, OWN_GRANT, parseScopes, unionGrant, type Grant } from './agreement.status';
import type { OrganizationEntity } from '../organization/organization.entity';
import { activeAgreements, grantKey, organizationWithGrant, type ActiveRow } from './grant.queries';

/**
 * Grants, one source of truth: which scopes an organization holds on an
 * insurer's data right now (the request's `ctx.now`), and through which
 * ACTIVE agreements. Shield rules (coarse) and services (fine) both ask here;
 * lookups go through the per-request `grants` loader, so a request costs one
 * query per batch of pairs and a termination is seen by the very next request.
 */
export class GrantService {
  constructor(private readonly db: DataSource) {}

  /** What `organizationId` holds on `insurerId` now (every scope when they are the same organization). */
  of(ctx: RequestContext, organizationId: string, insurerId: string): Promise<Grant> {
    return ctx.loaders.grants.load(grantKey(organizationId, insurerId));
  }

  /** Whether the caller's organization holds `scope` on `insurerId` now (always, for the insurer's own principals). */
  async has(ctx: RequestContext, insurerId: string, scope: AgreementScope): Promise<boolean> {
    if (!ctx.actor) return false;
    return (await this.of(ctx, ctx.actor.organizationId, insurerId)).scopes.has(scope);
  }

  /**
   * The organization of `code` (upper-case) and what `organizationId` holds on
   * it now, in one query, both kept in the request's loaders (so the grant is
   * still read once per request, and never across requests). Null when the
   * code is unknown.
   */
  async organizationAndGrant(ctx: RequestContext, organizationId: string, code: string): Promise<{ organization: OrganizationEntity; grant: Grant } | null> {
    const found = await organizationWithGrant(this.db.manager, code, organizationId, ctx.now);
    if (!found) return null;
    ctx.loaders.organizationByCode.prime(code, found.organization);
    ctx.loaders.organizationById.prime(found.organization.id, found.organization);
    ctx.loaders.grants.prime(grantKey(organizationId, found.organization.id), found.grant);
    // Answer with what the loaders hold, should an earlier load of this request have filled them first.
    const grant = await ctx.loaders.grants.load(grantKey(organizationId, found.organization.id));
    return { organization: found.organization, grant };
  }

  /**
   * Like {@link has}, but throws AGREEMENT_INACTIVE when the scope is not held;
   * returns the grant so the caller can name the agreement(s) used in its log entry.
   */
  async require(ctx: RequestContext, insurerId: string, scope: AgreementScope): Promise<Grant> {
    if (!ctx.actor) throw new UnauthenticatedError();
    const grant = await this.of(ctx, ctx.actor.organizationId, insurerId);
    if (!grant.scopes.has(scope)) throw new AgreementInactiveError(`No active data-sharing agreement grants ${scope}`);
    return grant;
  }

  /**
   * What `organizationId` holds on `insurerId` at `at`, read again inside a
   * write's transaction once it holds the insurer's chain lock (issue 8,
   * defect 7): the grant a request read at its start may have ended since,
   * by termination or by `validTo`. Every change of an agreement takes that
   * chain lock first, so what is read here stays true until the write
   * commits; the rows are also read with a locking read on MySQL (SQLite's
   * single writer needs none), so an agreement writer that skipped the chain
   * lock would still wait. One query; none for an insurer on itself.
   */
  async grantUnderLock(em: EntityManager, organizationId: string, insurerId: string, at: Date): Promise<Grant> {
    if (organizationId === insurerId) return OWN_GRANT;
    const query = em
      .getRepository(AgreementEntity)
      .createQueryBuilder('a')
      .where('a.insurer_id = :insurerId AND a.partner_id = :organizationId', { insurerId, organizationId });
    if (!isSqlite(em.connection)) query.setLock('pessimistic_write');
    const rows = await query.getMany();
    return unionGrant(rows.filter((a) => isActiveAt(a, at)));
  }

  /**
   * The `refuseOn` of a write on the insurer's chain (`writeOnChain`) that
   * needs `scope`: the grant at the instant the lock is held, or
   * AGREEMENT_INACTIVE, as the up-front check answers.
   */
  requiring(organizationId: string, insurer: { id: string; code: string }, scope: AgreementScope): (em: EntityManager, at: Date) => Promise<Grant> {
    return async (em, at) => {
      const grant = await this.grantUnderLock(em, organizationId, insurer.id, at);
      if (!grant.scopes.has(scope)) throw new AgreementInactiveError(`No active data-sharing agreement grants ${scope} on ${insurer.code}`);
      return grant;
    };
  }

  /**
   * For partner-side lists: every insurer on which `partnerOrganizationId`
   * holds `scope` now through ACTIVE agreements, with those agreements (one
   * query). Only agreements count: an insurer listing its own rows scopes by
   * its own id instead.
   */
  async insurersGranting(ctx: RequestContext, partnerOrganizationId: string, scope: AgreementScope): Promise<Array<{ insurerId: string; agreementIds: string[] }>> {
    const rows = await activeAgreements(this.db.manager, ctx.now)
      .andWhere('a.partner_id = :partner', { partner: partnerOrganizationId })
      .orderBy('a.insurer_id', 'ASC')
      .addOrderBy('a.id', 'ASC')
      .getRawMany<ActiveRow>();
    const byInsurer = new Map<string, string[]>();
    // These rows are every ACTIVE agreement of the partner: the grant of each
    // insurer is their union, kept in the request's grants loader so the
    // page's masking reads it without a second grants query (issue 10: the
    // list sent it twice).
    const all = new Map<string, ActiveRow[]>();
    for (const row of rows) all.set(String(row.insurerId), [...(all.get(String(row.insurerId)) ?? []), { ...row, id: String(row.id), scopes: String(row.scopes) }]);
    for (const [insurerId, agreements] of all) if (insurerId !== partnerOrganizationId) ctx.loaders.grants.prime(grantKey(partnerOrganizationId, insurerId), unionGrant(agreements));
    for (const row of rows) {
      if (!parseScopes(String(row.scopes)).includes(scope)) continue;
      const insurerId = String(row.insurerId);
      byInsurer.set(insurerId, [...(byInsurer.get(insurerId) ?? []), String(row.id)]);
    }
    return [...byInsurer].map(([insurerId, agreementIds]) => ({ insurerId, agreementIds }));
  }
}

