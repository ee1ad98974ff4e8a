import { rule } from 'graphql-shield';
import type { RequestContext } from '../../graphql/context';
import { ForbiddenError, UnauthenticatedError } from '../../graphql/errors';
import { mayExportPolicies, mayReadCompleteness } from './summary.access';

/**
 * Coarse gate of completenessSummary, commissionHolds and
 * exportCompletenessCsv: a principal of an insurer, a broker, a bank channel
 * or the regulator. Which insurer and which part of its book is decided by
 * the service (summary.access.ts). Reads only the context: `contextual`.
 */
export const mayReadCompletenessRule = rule('mayReadCompleteness', { cache: 'contextual' })((_parent: unknown, _args: unknown, ctx: RequestContext) => {
  try {
    if (!ctx.actor) return new UnauthenticatedError();
    return mayReadCompleteness(ctx.actor) ? true : new ForbiddenError('Only insurers, their partners and the regulator see completeness');
  } catch {
    return new ForbiddenError();
  }
});

/** Coarse gate of exportPoliciesCsv: the audience of `policies` (insurers and their partners). Reads only the context. */
export const mayExportPoliciesRule = rule('mayExportPolicies', { cache: 'contextual' })((_parent: unknown, _args: unknown, ctx: RequestContext) => {
  try {
    if (!ctx.actor) return new UnauthenticatedError();
    return mayExportPolicies(ctx.actor) ? true : new ForbiddenError('Only insurers and their partners export policy lists');
  } catch {
    return new ForbiddenError();
  }
});
