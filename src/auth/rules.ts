import { rule } from 'graphql-shield';
import { hasRole, isExchangeAdmin, isKind, type Actor } from './actor';
import type { RequestContext } from '../graphql/context';
import { ForbiddenError, UnauthenticatedError } from '../graphql/errors';
import type { Role } from '../modules/principal/principal.entity';
import type { OrganizationKind } from '../modules/organization/organization.entity';

/**
 * Coarse gates: may this caller use this operation at all? Each rule has a
 * unique name (shield's cache key), states its cache mode and never throws:
 * it returns `true` or the error to show. Rules here read only the context,
 * so `contextual` caching is safe; a rule that reads args or parent must use
 * `strict` or `no_cache`.
 */

type Check = (actor: Actor) => boolean;

function actorRule(name: string, check: Check, message: string) {
  return rule(name, { cache: 'contextual' })((_parent: unknown, _args: unknown, ctx: RequestContext) => {
    try {
      if (!ctx.actor) return new UnauthenticatedError();
      return check(ctx.actor) ? true : new ForbiddenError(message);
    } catch {
      return new ForbiddenError(message);
    }
  });
}

export const isAuthenticated = actorRule('isAuthenticated', () => true, 'A valid API key is required');

export const isExchangeAdminRule = actorRule('isExchangeAdmin', isExchangeAdmin, 'Only the exchange administrator may do this');

/** ADMIN of any organization (whose own organization the service then checks), or the exchange's. */
export const isAnyAdmin = actorRule('isAnyAdmin', (a) => hasRole(a, 'ADMIN'), 'Only an administrator may do this');

/** An organization of one of `kinds` whose principal holds one of `roles`. */
export function kindAndRole(name: string, kinds: OrganizationKind[], roles: Role[], message: string) {
  return actorRule(name, (a) => isKind(a, ...kinds) && hasRole(a, ...roles), message);
}
