import type { DataSource } from 'typeorm';
import { isKind, logActor, requireActor, type Actor } from '../../auth/actor';
import type { RequestContext } from '../../graphql/context';
import type { CompletenessStatus } from '../../domain/enums';
import { underwritingArt6_3 } from '../../domain/underwriting';
import { BadInputError, ForbiddenError, NotFoundError, UnauthenticatedError } from '../../graphql/errors';
import { isSqlite } from '../../db/dialect';
import { isId } from '../../db/ids';
import { decodeCursor, pageSize } from '../../graphql/pagination';
import { isPartner } from '../agreement/agreement.access';
import { grantKey } from '../agreement/grant.queries';
import type { GrantService } from '../agreement/grant.service';
import { DIRECT_CHANNEL_CODE, normalizeCode } from '../../domain/organization-codes';
import { sha256Hex } from '../../domain/sha256';
import type { OrganizationService } from '../organization/organization.service';
import { normalizePolicyNo } from './policy.validation';
import type { RefusalInput, TransferLogWriter } from '../transfer-log/transfer-log.writer';
import type { PiiView } from './person.type';
import { FULL_VIEW, mayUnderwrite, piiViewOf, policyReadScope, READ_POLICIES, type PolicyReadScope } from './policy.access';
import { OrganizationEntity } from '../organization/organization.entity';
import { PolicyEntity, type PolicyStatusValue } from './policy.entity';
import { isMissingFieldPath, MISSING_FIELD_PATHS } from '../../domain/completeness';
import { IncompleteCustomerInfoError, SuspectCustomerInfoError } from './policy.errors';
import { storedCompleteness } from './stored-completeness';
import { KEY_REFUSED, readPointPolicy, type PointReader } from './policy-read.queries';
import { countPolicyPage, readPolicyPage, type PageFilter, type PageJoins } from './policy-page.queries';

export interface PolicyFilterData {
  insurerCode?: string | null;
  channelCode?: string | null;
  completeness?: CompletenessStatus | null;
  status?: PolicyStatusValue | null;
  missingField?: string | null;
}

export interface PolicyListArgs {
  filter?: PolicyFilterData | null;
  first?: number | null;
  after?: string | null;
}

/** Everything joined onto a page: what {@link PolicyService.list} and a caller that does not know its selection use. */
export const ALL_JOINS: PageJoins = { people: true, organizations: true };

/** A policy the caller may see, with how its people's ID numbers and phones may be shown. */
export interface VisiblePolicy {
  entity: PolicyEntity;
  view: PiiView;
}

export interface PolicyPage {
  items: VisiblePolicy[];
  hasNextPage: boolean;
  totalCount: number;
}

/** A page whose `totalCount` is counted only when asked (issue 10 (c): the COUNT cost as much as the page). */
export interface LazyPolicyPage {
  items: VisiblePolicy[];
  hasNextPage: boolean;
  totalCount: () => Promise<number>;
}

/** Tag of the policies list's cursors (see encodeCursor). */
export const POLICY_CURSOR = 'pol';
/** `channelCode` naming the policies sold without a channel. */
export const DIRECT_CHANNEL = DIRECT_CHANNEL_CODE;
export const MAX_OVERRIDE_REASON = 500;

/**
 * Reading policies (`policy`, `policies`) and underwriting them
 * (`underwritePolicy`). A record the caller may not see is answered as
 * absent (null, or missing from the list; NOT_FOUND for underwriting), never
 * with an error that would confirm it exists. EXCHANGE and REGULATOR
 * principals read no policies here, so they never see a person's fields.
 */
export class PolicyService {
  constructor(
    private readonly db: DataSource,
    private readonly organizations: OrganizationService,
    private readonly grants: GrantService,
    private readonly transferLog: Pick<TransferLogWriter, 'append' | 'recordRefusal' | 'writeOnChain'>,
  ) {}

  // --------------------------------------------------------------- reading ---

  /**
   * `policy(insurerCode, policyNo)`: the policy when the caller may see it,
   * else null. Issue 10 (a) and (b), measured by the read bench: the insurer,
   * the caller's grant on it and the policy with everything the field
   * resolvers show come in ONE prepared statement (policy-read.queries.ts),
   * so a point read is that and the authentication; what it found is handed
   * to the request's loaders. When the HTTP handler took the actor from the
   * recent-keys cache (`ctx.keyCheck` pending), the same statement also
   * confirms the key: a point read is then ONE statement, and a key revoked
   * since it was cached is UNAUTHENTICATED (src/server.ts answers 401).
   */
  async findOne(ctx: RequestContext, insurerCode: string, policyNo: string): Promise<VisiblePolicy | null> {
    const actor = requireActor(ctx);
    const reader = pointReaderOf(actor);
    if (!reader) return null;
    const check = ctx.keyCheck?.state === 'pending' ? ctx.keyCheck : null;
    const found = await readPointPolicy(this.db, reader, normalizeCode(insurerCode), normalizePolicyNo(policyNo), ctx.now, check);
    if (check) check.state = found === KEY_REFUSED ? 'refused' : 'confirmed';
    if (found === KEY_REFUSED) throw new UnauthenticatedError();
    if (!found || !policyReadScope(actor, found.insurer, found.grant.scopes.has(READ_POLICIES) ? [found.insurer.id] : [])) return null;
    const { loaders } = ctx;
    for (const org of [found.insurer, found.channel]) if (org) loaders.organizationById.prime(org.id, org);
    loaders.organizationByCode.prime(found.insurer.code, found.insurer);
    loaders.grants.prime(grantKey(actor.organizationId, found.insurer.id), found.grant);
    for (const person of found.people) loaders.personById.prime(person.id, person);
    loaders.beneficiariesByPolicyId.prime(found.policy.id, found.beneficiaries);
    return { entity: found.policy, view: piiViewOf(actor, found.insurer.id, found.grant)(found.policy.policyNo) };
  }

  /**
   * `policies(filter, first, after)`: newest first (ids are UUIDv7, so id
   * order is creation order), keyset-paginated on the id. Every filter is
   * SQL on indexed columns (`missingField` through `policy_missing_field`),
   * scoped to what the caller may see; `totalCount` counts the same rows (a
   * `missingField`-only filter from the missing-field counters).
   */
  async list(ctx: RequestContext, args: PolicyListArgs): Promise<PolicyPage> {
    const page = await this.page(ctx, args, ALL_JOINS);
    return { ...page, totalCount: await page.totalCount() };
  }

  /**
   * {@link list} with `totalCount` left for the caller to ask for (the
   * `policies` query counts only when the selection resolves it). The page
   * is one prepared statement (policy-page.queries.ts; issue 10, the
   * missing-field page at 1,000,000 policies spent ~15 ms per request in
   * Node for ~1.4 ms of SQL), with the people and organizations joined
   * only as `joins` says the selection needs them and handed to the
   * per-request loaders (which load anything else a field asks for);
   * beneficiaries follow in one query through their loader.
   */
  async page(ctx: RequestContext, args: PolicyListArgs, joins: PageJoins): Promise<LazyPolicyPage> {
    requireActor(ctx);
    const first = pageSize(args.first);
    const after = decodeCursor(POLICY_CURSOR, args.after, isId);
    const filter = args.filter ?? {};
    const empty: LazyPolicyPage = { items: [], hasNextPage: false, totalCount: async () => 0 };
    const scope = await this.readScope(ctx, filter.insurerCode ?? null);
    if (!scope) return empty;
    const resolved = await this.resolveFilter(ctx, scope, filter);
    if (resolved === null) return empty;

    let counted: Promise<number> | null = null;
    const count = onlyMissingField(filter) ? () => this.countMissing(scope, resolved.missingField!) : () => countPolicyPage(this.db, resolved);
    const totalCount = (): Promise<number> => (counted ??= count());
    const check = ctx.keyCheck?.state === 'pending' ? ctx.keyCheck : null;
    const read = await readPolicyPage(this.db, resolved, joins, after, first + 1, check);
    // An empty page confirms nothing (the key is a column of its rows): the key stays pending, for the HTTP handler.
    if (check && (read === KEY_REFUSED || read.length > 0)) check.state = read === KEY_REFUSED ? 'refused' : 'confirmed';
    if (read === KEY_REFUSED) throw new UnauthenticatedError();
    const rows = read;
    const page = rows.slice(0, first);
    for (const row of page) {
      for (const person of row.people) ctx.loaders.personById.prime(person.id, person);
      for (const org of row.organizations) ctx.loaders.organizationById.prime(org.id, org);
    }
    const views = await this.viewsFor(ctx, [...new Set(page.map((r) => r.policy.insurerId))]);
    return {
      items: page.map(({ policy }) => ({ entity: policy, view: views.get(policy.insurerId)!(policy.policyNo) })),
      hasNextPage: rows.length > first,
      totalCount,
    };
  }

  /**
   * The policies of `scope` missing `field`, from the counters the triggers
   * of migration 0010 keep (`missing_field_count`): a few rows per channel ×
   * product × day instead of a COUNT over every matching policy (at
   * 1,000,000 policies the COUNT of a missing-field page took seconds).
   */
  private async countMissing(scope: PolicyReadScope, field: string): Promise<number> {
    const own = scope.channelId === null ? '' : ' AND c.channel_key = ?';
    const rows = (await this.db.query(
      `SELECT COALESCE(SUM(c.policies), 0) AS n FROM missing_field_count c WHERE c.insurer_id IN (${scope.insurerIds.map(() => '?').join(', ')}) AND c.field = ?${own}`,
      [...scope.insurerIds, field, ...(scope.channelId === null ? [] : [scope.channelId])],
    )) as Array<{ n: number | string }>;
    return Number(rows[0]?.n ?? 0);
  }

  /** The caller's read scope ({@link policyReadScope}), narrowed to `insurerCode` when given (null when that insurer is not readable). */
  private async readScope(ctx: RequestContext, insurerCode: string | null): Promise<PolicyReadScope | null> {
    const actor = requireActor(ctx);
    let named: OrganizationEntity | null = null;
    if (insurerCode !== null && isPartner(actor)) {
      // The insurer and the partner's grant on it in one query (issue 10 (a)).
      const found = await this.grants.organizationAndGrant(ctx, actor.organizationId, normalizeCode(insurerCode));
      if (!found || found.organization.kind !== 'INSURER') return null;
      return policyReadScope(actor, found.organization, found.grant.scopes.has(READ_POLICIES) ? [found.organization.id] : []);
    }
    if (insurerCode !== null && isKind(actor, 'INSURER')) {
      // An insurer reads only its own book: its own code needs no lookup, any other is nothing (issue 10: the
      // lookup was one of the missing-field page's three statements).
      return normalizeCode(insurerCode) === actor.organizationCode ? policyReadScope(actor, null, []) : null;
    }
    if (insurerCode !== null) {
      named = await ctx.loaders.organizationByCode.load(normalizeCode(insurerCode));
      if (!named || named.kind !== 'INSURER') return null;
      ctx.loaders.organizationById.prime(named.id, named);
    }
    const readable = isPartner(actor) ? await this.partnerReadable(ctx, actor, named) : [];
    return policyReadScope(actor, named, readable);
  }

  /** The insurers (of `named` only, when given) whose ACTIVE agreement grants this partner READ_POLICIES. */
  private async partnerReadable(ctx: RequestContext, actor: Actor, named: OrganizationEntity | null): Promise<string[]> {
    if (named) return (await this.grants.of(ctx, actor.organizationId, named.id)).scopes.has(READ_POLICIES) ? [named.id] : [];
    return (await this.grants.insurersGranting(ctx, actor.organizationId, READ_POLICIES)).map((g) => g.insurerId);
  }

  /**
   * The filter with its codes resolved for {@link readPolicyPage}; null when
   * it can match nothing (an unknown channel code). BAD_USER_INPUT for a
   * missing field that is no field path.
   */
  private async resolveFilter(ctx: RequestContext, scope: PolicyReadScope, filter: PolicyFilterData): Promise<PageFilter | null> {
    let channel: PageFilter['channel'] = null;
    if (filter.channelCode !== undefined && filter.channelCode !== null) {
      const code = normalizeCode(filter.channelCode);
      if (code === DIRECT_CHANNEL) channel = 'DIRECT';
      else {
        const found = await ctx.loaders.organizationByCode.load(code);
        if (!found) return null;
        channel = { id: found.id };
      }
    }
    let missingField: string | null = null;
    if (filter.missingField !== undefined && filter.missingField !== null) {
      missingField = filter.missingField.trim();
      if (!isMissingFieldPath(missingField)) {
        throw new BadInputError(`missingField must be one of ${MISSING_FIELD_PATHS.join(', ')}`, { field: 'filter.missingField', allowed: [...MISSING_FIELD_PATHS] });
      }
    }
    return { insurerIds: scope.insurerIds, ownChannelId: scope.channelId, channel, completeness: filter.completeness ?? null, status: filter.status ?? null, missingField };
  }

  /**
   * How people's ID numbers and phones may be shown, per insurer of the
   * rows ({@link piiViewOf}). One grants query for all insurers of a page
   * (the per-request loader).
   */
  private async viewsFor(ctx: RequestContext, insurerIds: string[]): Promise<Map<string, (policyNo: string) => PiiView>> {
    const actor = requireActor(ctx);
    const grants = await Promise.all(insurerIds.map((id) => this.grants.of(ctx, actor.organizationId, id)));
    return new Map(insurerIds.map((insurerId, i) => [insurerId, piiViewOf(actor, insurerId, grants[i]!)]));
  }

  /**
   * How this caller may see people's ID numbers and phones on policy
   * `policyNo` of `insurerId` (the rule of {@link viewsFor}), for responses
   * of other modules about one policy (submitCorrection).
   */
  async viewOf(ctx: RequestContext, insurerId: string, policyNo: string): Promise<PiiView> {
    return (await this.viewsFor(ctx, [insurerId])).get(insurerId)!(policyNo);
  }

  // ----------------------------------------------------------- underwriting ---

  /**
   * `underwritePolicy`: an UNDERWRITER of the insurer underwrites a PENDING
   * policy. Art. 6(3): refused with INCOMPLETE_CUSTOMER_INFO (the missing
   * paths in `extensions.missing`) while required information is missing,
   * and with SUSPECT_CUSTOMER_INFO (the issue codes in `extensions.issues`)
   * while an authenticity check fails, unless `overrideReason` is given.
   * The status, the underwriter, the time and the override reason are stored
   * on the policy (version + 1) and logged in the same transaction (the
   * reason only as a digest). A refusal leaves the policy unchanged and is
   * recorded in the log in a transaction of its own. Another insurer's
   * policy, or none, is NOT_FOUND.
   */
  async underwrite(ctx: RequestContext, insurerCode: string, policyNo: string, overrideReason?: string | null): Promise<VisiblePolicy> {
    const actor = requireActor(ctx);
    if (!mayUnderwrite(actor)) throw new ForbiddenError('Only an UNDERWRITER of the insurer may underwrite');
    const reason = normalizeReason(overrideReason);
    const insurer = await this.organizations.findByCode(insurerCode);
    if (!insurer || insurer.id !== actor.organizationId) throw new NotFoundError('Policy');
    const no = normalizePolicyNo(policyNo);
    const refusal = (errorCode: string, change: Record<string, unknown> = {}): RefusalInput => ({
      insurerId: insurer.id,
      operation: 'underwritePolicy',
      errorCode,
      ...logActor(actor),
      policyNos: [no],
      fields: ['status'],
      change: { policyNo: no, errorCode, ...change },
    });
    try {
      // No agreement gates underwriting (the insurer's own book), so nothing is re-checked under the chain lock.
      const entity = await this.transferLog.writeOnChain(insurer.id, async (em) => {
        const qb = em.getRepository(PolicyEntity).createQueryBuilder('p').where('p.insurer_id = :insurerId AND p.policy_no = :no', { insurerId: insurer.id, no });
        if (!isSqlite(em.connection)) qb.setLock('pessimistic_write');
        const policy = await qb.getOne();
        if (!policy) throw new NotFoundError('Policy');
        if (policy.status === 'UNDERWRITTEN') throw new BadInputError('The policy is already underwritten', { reason: 'UNDERWRITTEN' });
        const verdict = storedCompleteness(policy);
        const decision = underwritingArt6_3(verdict, reason);
        if (decision.outcome === 'INCOMPLETE') throw new IncompleteCustomerInfoError(decision.missing);
        if (decision.outcome === 'SUSPECT') throw new SuspectCustomerInfoError(decision.issues);
        const { override } = decision;

        const now = new Date();
        const moved = await em
          .createQueryBuilder()
          .update(PolicyEntity)
          .set({ status: 'UNDERWRITTEN', underwrittenAt: now, underwrittenBy: actor.principalId, underwritingOverride: override?.reason ?? null, version: () => 'version + 1', updatedAt: now })
          .where('id = :id AND version = :version AND status = :pending', { id: policy.id, version: policy.version, pending: 'PENDING' })
          .execute();
        if (moved.affected !== undefined && moved.affected !== 1) throw new Error('underwritePolicy: the policy changed while locked');
        await this.transferLog.append(em, {
          insurerId: insurer.id,
          operation: 'underwritePolicy',
          ...logActor(actor),
          policyNos: [policy.policyNo],
          fields: override ? ['status', 'underwritingOverride'] : ['status'],
          change: {
            policyId: policy.id,
            policyNo: policy.policyNo,
            version: policy.version + 1,
            status: 'UNDERWRITTEN',
            completeness: verdict.status,
            override: override !== null,
            overriddenIssues: override?.issues ?? [],
            overrideReasonSha256: override ? sha256Hex(override.reason) : null,
          },
        });
        return em.getRepository(PolicyEntity).findOneByOrFail({ id: policy.id });
      }, { refuseOn: async () => undefined, refusal });
      return { entity, view: FULL_VIEW };
    } catch (error) {
      if (error instanceof IncompleteCustomerInfoError || error instanceof SuspectCustomerInfoError) {
        await this.transferLog.recordRefusal(refusal(error.code, { missing: error.extensions.missing ?? [], issues: error.extensions.issues ?? [] }));
      }
      throw error;
    }
  }
}

/** Whether `filter` narrows by a missing field and nothing the counters do not key (completeness, status, a channel code). */
function onlyMissingField(filter: PolicyFilterData): boolean {
  const unset = (value: unknown) => value === undefined || value === null;
  return !unset(filter.missingField) && unset(filter.completeness) && unset(filter.status) && unset(filter.channelCode);
}

/** Who `actor` reads a single policy as (policy.access.ts: insurers their own book, partners what they sold), or null for a caller who reads none. */
function pointReaderOf(actor: Actor): PointReader | null {
  if (isKind(actor, 'INSURER')) return { kind: 'insurer', insurerId: actor.organizationId };
  return isPartner(actor) ? { kind: 'partner', partnerId: actor.organizationId } : null;
}

function normalizeReason(reason: string | null | undefined): string | null {
  if (reason === undefined || reason === null) return null;
  const text = reason.trim();
  if (text === '' || text.length > MAX_OVERRIDE_REASON) {
    throw new BadInputError(`overrideReason must be 1 to ${MAX_OVERRIDE_REASON} characters`, { field: 'overrideReason', limit: MAX_OVERRIDE_REASON });
  }
  return text;
}
