import { rule } from 'graphql-shield';
import type { Actor } from './actor';
import type { RequestContext } from '../graphql/context';
import { ForbiddenError, UnauthenticatedError } from '../graphql/errors';

/**
 * Coarse gates: may this caller use this operation at all? Every such gate
 * reads only the actor, so every one is built here, by {@link actorRule},
 * from a named pure predicate that lives beside its module (`*.access.ts`):
 * a service that re-checks a gate calls the same predicate. The modules'
 * rules live in their `*.rules.ts`; `permissions.ts` maps them to fields.
 */

/** A pure decision over the calling actor (never throws, no I/O). */
export type ActorCheck = (actor: Actor) => boolean;

/**
 * THE template of a context-only rule. A unique `name` (shield's cache key;
 * shield refuses two different rules of one name), `contextual` cache (it
 * reads only ctx, so one verdict per request is right) and no throw: an
 * anonymous call is UNAUTHENTICATED, a refused one FORBIDDEN with `message`,
 * and an exception in `check` a denial with that message too, rather than
 * shield's silent one.
 */
export function actorRule(name: string, check: ActorCheck, message: string) {
  return rule(name, { cache: 'contextual' })((_parent: unknown, _args: unknown, ctx: RequestContext) => {
    try {
      if (!ctx.actor) return new UnauthenticatedError();
      return check(ctx.actor) ? true : new ForbiddenError(message);
    } catch {
      return new ForbiddenError(message);
    }
  });
}

/** Any principal with a valid key: the operations whose rows (or absence) the service decides for every caller. */
export const isAuthenticated = actorRule('isAuthenticated', () => true, 'A valid API key is required');
