import { randomUUID } from 'node:crypto';
import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import type { RequestContext } from './graphql/context';

/**
 * A well-formed incoming `x-request-id`: 1 to 128 characters of
 * `A-Z a-z 0-9 . _ : -` (UUIDs, ULIDs, trace ids, `svc:1234`). Anything else
 * (absent, empty, longer, spaces, quotes, a repeated header) is replaced by a
 * generated UUID, so a caller cannot write arbitrary text into the log.
 */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && REQUEST_ID_PATTERN.test(header) ? header : randomUUID();
}

/**
 * The one structured line a request is logged with (issue 12, item 1),
 * filled in as the request goes and written once when it was answered: the
 * HTTP handler sets the caller, the {@link requestLogPlugin} the operation,
 * its error codes and rows. Ids and codes only: never a key, a variable, the
 * query text or anything of a person. One object per request; its own
 * enumerable fields are the line (pino leaves the undefined ones out).
 */
export class RequestTrace {
  readonly requestId: string;
  readonly method: string | undefined;
  /** The URL's path (never its query string: a GET carries the query text there). */
  path: string | undefined = undefined;
  status: number | undefined = undefined;
  operationName: string | undefined = undefined;
  operationType: string | undefined = undefined;
  principalId: string | undefined = undefined;
  organizationCode: string | undefined = undefined;
  /** The distinct `extensions.code`s of the answer's errors, in order of appearance. */
  errorCodes: string[] | undefined = undefined;
  /** Records a mutation accepted (submitSales' `accepted`), where the answer says. */
  rows: number | undefined = undefined;
  durationMs: number | undefined = undefined;
  readonly #started: number;

  constructor(requestId: string, method: string | undefined, started: number) {
    this.requestId = requestId;
    this.method = method;
    this.#started = started;
  }

  /** Sets the status and the duration (milliseconds, 0.1 ms resolution); returns the duration. */
  finish(status: number, now: number, errorCodes: string[] | undefined): number {
    this.status = status;
    this.errorCodes ??= errorCodes;
    return (this.durationMs = Math.round((now - this.#started) * 10) / 10);
  }
}

/** The distinct codes of a list of GraphQL errors, or undefined when there are none. */
export function errorCodesOf(errors: ReadonlyArray<{ extensions?: Record<string, unknown> }> | undefined): string[] | undefined {
  if (!errors?.length) return undefined;
  const codes: string[] = [];
  for (const error of errors) {
    const code = error.extensions?.code;
    const value = typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
    if (!codes.includes(value)) codes.push(value);
  }
  return codes;
}

/** Shared by every request: Apollo calls requestDidStart per request, and the hooks need no state of their own. */
const listener: GraphQLRequestListener<RequestContext> = {
  async willSendResponse({ contextValue, operation, response }) {
    const trace = contextValue.trace;
    if (!trace) return;
    if (operation) {
      trace.operationName = operation.name?.value;
      trace.operationType = operation.operation;
    }
    if (response.body.kind !== 'single') return;
    const { errors, data } = response.body.singleResult;
    trace.errorCodes = errorCodesOf(errors);
    if (operation?.operation === 'mutation' && data) trace.rows = acceptedRows(data);
  },
};

/** Fills the request's {@link RequestTrace} from what Apollo resolved and answered. */
export function requestLogPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return listener;
    },
  };
}

/** The sum of the `accepted` counts of a mutation's root fields (submitSales), or undefined when none has one. */
function acceptedRows(data: Record<string, unknown>): number | undefined {
  let rows: number | undefined;
  for (const key in data) {
    const accepted = (data[key] as { accepted?: unknown } | null)?.accepted;
    if (typeof accepted === 'number') rows = (rows ?? 0) + accepted;
  }
  return rows;
}
