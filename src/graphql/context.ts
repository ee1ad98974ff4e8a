import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Actor } from '../auth/actor';
import type { Services } from '../container';
import type { Logger } from '../logger';
import { createLoaders, type Loaders } from './loaders';

/** Everything a resolver, a shield rule or a service sees of the current request. */
export interface RequestContext {
  readonly requestId: string;
  readonly actor: Actor | null;
  readonly services: Services;
  readonly loaders: Loaders;
  readonly log: Logger;
  readonly now: Date;
}

export interface ContextDeps {
  db: DataSource;
  services: Services;
  log: Logger;
}

/** Builds the context of one request from its bearer token (null actor when missing or unknown). */
export async function buildContext(deps: ContextDeps, token: string | null, requestId: string = randomUUID()): Promise<RequestContext> {
  return contextForActor(deps, token ? await deps.services.principals.authenticate(token) : null, requestId);
}

/** The context of a request whose actor is already known (the HTTP handler authenticates before reading the body). */
export function contextForActor(deps: ContextDeps, actor: Actor | null, requestId: string = randomUUID()): RequestContext {
  const now = new Date();
  return {
    requestId,
    actor,
    services: deps.services,
    // The grants loader evaluates agreements at the request's instant, like every service.
    loaders: createLoaders(deps.db, now),
    log: deps.log.child({ requestId, principalId: actor?.principalId }),
    now,
  };
}
