import { rule } from 'graphql-shield';
import { kindAndRole } from '../../auth/rules';
import type { RequestContext } from '../../graphql/context';
import { ForbiddenError, UnauthenticatedError } from '../../graphql/errors';
import { mayReadRemediation } from './remediation.access';

/** Coarse gate of startRemediation: an insurer's ADMIN or COMPLIANCE (the service checks it is that insurer). */
export const mayStartRemediationRule = kindAndRole(
  'mayStartRemediation',
  ['INSURER'],
  ['ADMIN', 'COMPLIANCE'],
  'Only an insurer\'s ADMIN or COMPLIANCE principals start a clean-up campaign',
);

/**
 * Coarse gate of remediationCampaign(s): an insurer's ADMIN or COMPLIANCE,
 * the regulator, a partner's ADMIN, COMPLIANCE or SERVICE. Which campaign and
 * which of its rows is decided by the service (remediation.access.ts).
 * Reads only the context: `contextual`.
 */
export const mayReadRemediationRule = rule('mayReadRemediation', { cache: 'contextual' })((_parent: unknown, _args: unknown, ctx: RequestContext) => {
  try {
    if (!ctx.actor) return new UnauthenticatedError();
    return mayReadRemediation(ctx.actor) ? true : new ForbiddenError('Only the insurer\'s ADMIN or COMPLIANCE, its partners and the regulator see clean-up campaigns');
  } catch {
    return new ForbiddenError();
  }
});
