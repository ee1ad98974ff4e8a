import { rule } from 'graphql-shield';
import type { RequestContext } from '../../graphql/context';
import { ForbiddenError, UnauthenticatedError } from '../../graphql/errors';
import { mayUseTransferLog } from './transfer-log.permissions';

/**
 * Coarse gate of transferLog, verifyTransferLog, transferLogCheckpoint and
 * createTransferLogCheckpoint: an insurer's ADMIN or COMPLIANCE, any
 * REGULATOR principal, the EXCHANGE ADMIN. Reads only the context, so
 * `contextual` caching is safe; which chain is checked by the service
 * (another insurer's code is FORBIDDEN there).
 */
export const mayUseTransferLogRule = rule('mayUseTransferLog', { cache: 'contextual' })((_parent: unknown, _args: unknown, ctx: RequestContext) => {
  try {
    if (!ctx.actor) return new UnauthenticatedError();
    return mayUseTransferLog(ctx.actor) ? true : new ForbiddenError('Only an insurer\'s ADMIN or COMPLIANCE principals and the regulator may use the transfer log');
  } catch {
    return new ForbiddenError();
  }
});
