import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Actor } from '../auth/actor';
import type { Logger } from '../logger';
import { PiiDisclosures } from '../modules/policy/pii-disclosures';
import type { RequestTrace } from '../request-log';
import { createLoaders, type Loaders } from './loaders';

/**
 * What a resolver, a shield rule or a service sees of the current request:
 * who asks, at which instant, its loaders and log, and what it disclosed.
 * No services: resolvers get theirs through the constructor (container.ts).
 */
export interface RequestContext {
  readonly requestId: string;
  readonly actor: Actor | null;
  readonly loaders: Loaders;
  readonly log: Logger;
  readonly now: Date;
  /** The whole ID numbers and phones this response shows, for its READ_PII entries. */
  readonly disclosures: PiiDisclosures;
  /**
   * Set when the HTTP handler took the actor from the recent-keys cache
   * without a statement (src/server.ts): the key is still to be confirmed,
   * by the point read's own statement or by the handler after execution,
   * before anything is answered. Null when the actor was read for this request.
   */
  readonly keyCheck: PendingKeyCheck | null;
  /** The request's log line (src/request-log.ts), filled by requestLogPlugin; absent outside an HTTP request. */
  readonly trace?: RequestTrace | null;
}

/** A key confirmation still owed (shared by Apollo's per-request copies of the context). */
export interface PendingKeyCheck {
  readonly keyHash: string;
  readonly principalId: string;
  state: 'pending' | 'confirmed' | 'refused';
}

/** What a context is made from besides its actor: the database its loaders read, the log its own is a child of. */
export interface ContextDeps {
  db: DataSource;
  log: Logger;
}

/**
 * The context of a request whose actor is already known: the HTTP handler
 * authenticates before reading the body, and code acting outside a request
 * (the demo seed, the CLIs, the tests) names its actor itself.
 */
export function contextForActor(actor: Actor | null, now: Date, deps: ContextDeps, requestId: string = randomUUID(), keyCheck: PendingKeyCheck | null = null, trace: RequestTrace | null = null): RequestContext {
  return new Context(requestId, actor, now, deps, keyCheck, trace);
}

/**
 * A class so that `log` is a getter on the prototype: it is made when first
 * written to (most requests log nothing, and a pino child serialises its
 * bindings up front), and Apollo's per-request copy of the context
 * (Object.assign onto the same prototype) keeps it lazy instead of calling it.
 */
class Context implements RequestContext {
  // The grants loader evaluates agreements at the request's instant, like every service.
  readonly loaders: Loaders;
  readonly disclosures = new PiiDisclosures();
  private child: Logger | null = null;

  constructor(
    readonly requestId: string,
    readonly actor: Actor | null,
    readonly now: Date,
    private readonly deps: ContextDeps,
    readonly keyCheck: PendingKeyCheck | null,
    readonly trace: RequestTrace | null,
  ) {
    this.loaders = createLoaders(deps.db, now);
  }

  get log(): Logger {
    return (this.child ??= this.deps.log.child({ requestId: this.requestId, principalId: this.actor?.principalId }));
  }
}
