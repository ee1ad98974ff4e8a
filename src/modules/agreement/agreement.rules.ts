import { rule } from 'graphql-shield';
import { kindAndRole } from '../../auth/rules';
import type { RequestContext } from '../../graphql/context';
import { AgreementInactiveError, AppError, BadInputError, ForbiddenError, NotFoundError, UnauthenticatedError } from '../../graphql/errors';
import { normalizeCode } from '../../domain/organization-codes';
import type { AgreementScope } from './agreement.entity';
import { grantKey } from './grant.service';

/**
 * Coarse gate of proposeAgreement, signAgreement and terminateAgreement: an
 * ADMIN of an organization that can be a party (INSURER, BROKER,
 * BANK_CHANNEL). Which agreement it may touch is decided by the service.
 * The EXCHANGE ADMIN only reads agreements, so it is not let through here.
 */
export const isAgreementPartyAdmin = kindAndRole(
  'isAgreementPartyAdmin',
  ['INSURER', 'BROKER', 'BANK_CHANNEL'],
  ['ADMIN'],
  'Only an ADMIN of an insurer, broker or bank channel may change agreements',
);

/** The `insurerCode` of an operation: a top-level argument or one inside `input` (submitCorrection). */
function insurerCodeOf(args: unknown): unknown {
  const a = (args ?? {}) as { insurerCode?: unknown; input?: { insurerCode?: unknown } | null };
  return a.insurerCode !== undefined ? a.insurerCode : a.input?.insurerCode;
}

/**
 * The verdict of {@link requiresGrant} for one `insurerCode`: `true` for the
 * insurer's own principals and for a BROKER / BANK_CHANNEL holding `scope`
 * on it through an ACTIVE agreement now; otherwise the error to answer.
 * Reads only through the per-request loaders (organization by code, grants).
 */
export async function grantVerdict(ctx: RequestContext, insurerCode: unknown, scope: AgreementScope): Promise<true | AppError> {
  if (!ctx.actor) return new UnauthenticatedError();
  if (typeof insurerCode !== 'string' || insurerCode.trim() === '') return new BadInputError('insurerCode is required', { field: 'insurerCode' });
  const insurer = await ctx.loaders.organizationByCode.load(normalizeCode(insurerCode));
  if (!insurer) return new NotFoundError('Organization');
  if (insurer.kind !== 'INSURER') return new BadInputError('insurerCode must name an INSURER', { field: 'insurerCode' });
  if (ctx.actor.organizationId === insurer.id) return true;
  if (ctx.actor.organizationKind !== 'BROKER' && ctx.actor.organizationKind !== 'BANK_CHANNEL') {
    return new ForbiddenError('Only the insurer and its partners under an active agreement may do this');
  }
  const grant = await ctx.loaders.grants.load(grantKey(ctx.actor.organizationId, insurer.id));
  return grant.scopes.has(scope) ? true : new AgreementInactiveError(`No active data-sharing agreement grants ${scope} on ${insurer.code}`);
}

const grantRules = new Map<AgreementScope, ReturnType<ReturnType<typeof rule>>>();

/**
 * Rule factory for operations that take an `insurerCode` (top-level or in
 * `input`): the caller's organization must be that insurer, or a partner
 * holding `scope` on it through an ACTIVE agreement (AGREEMENT_INACTIVE
 * otherwise). It reads the arguments, so its cache is `strict` (keyed by
 * args and parent): a `contextual` cache would hand one insurer's verdict to
 * another field of the same request. Never throws: a failure is a denial
 * with FORBIDDEN. Roles are not checked here: combine it with a role rule
 * (`chain(kindAndRole(…), requiresGrant('SUBMIT_SALES'))`). One rule per scope
 * (memoised), because shield refuses two different rules of one name.
 */
export function requiresGrant(scope: AgreementScope) {
  let existing = grantRules.get(scope);
  if (!existing) {
    existing = rule(`requiresGrant_${scope}`, { cache: 'strict' })(async (_parent: unknown, args: unknown, ctx: RequestContext) => {
      try {
        return await grantVerdict(ctx, insurerCodeOf(args), scope);
      } catch {
        return new ForbiddenError('The data-sharing agreement could not be checked');
      }
    });
    grantRules.set(scope, existing);
  }
  return existing;
}
