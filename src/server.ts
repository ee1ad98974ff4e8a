import 'reflect-metadata';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { Kind, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { DataSource } from 'typeorm';
import type { Actor } from './auth/actor';
import { bearerToken, hashApiKey } from './auth/api-keys';
import type { Config } from './config';
import { createResolverContainer, createServices, type Services } from './container';
import { contextForActor, type PendingKeyCheck, type RequestContext } from './graphql/context';
import { AppError, BadInputError, BadRequestInputError, UnauthenticatedError } from './graphql/errors';
import { formatError } from './graphql/format-error';
import { complexityPlugin, errorLoggingPlugin, hideSuggestionsPlugin } from './graphql/plugins';
import { MAX_TOKENS, parseWithinLimits } from './graphql/query-limits';
import { buildServedSchema } from './graphql/schema';
import { piiReadLogPlugin } from './modules/policy/pii-read.plugin';
import type { Logger } from './logger';
import type { Secrets } from './db/secrets';
import { drainable, type DrainResult } from './http-drain';
import { Metrics, observeUnadmitted, requestMetricsPlugin, serveMetrics } from './metrics';
import { errorCodesOf, requestIdOf, requestLogPlugin, RequestTrace } from './request-log';

export interface KexinServer {
  apollo: ApolloServer<RequestContext>;
  http: http.Server;
  services: Services;
  schema: GraphQLSchema;
  /** This server's metrics (its own registry), served at GET /metrics. */
  metrics: Metrics;
  /** Starts the separate metrics listener on 127.0.0.1:config.metrics.port and returns its port; null when none is configured. */
  listenMetrics(): Promise<number | null>;
  /** Builds the context a request with this bearer token would get (tests use it with executeOperation). */
  contextFor(token: string | null): Promise<RequestContext>;
  listen(port: number, host?: string): Promise<number>;
  /** Requests accepted and not yet answered. */
  inFlight(): number;
  /**
   * Stops accepting, answers every accepted request (bounded by `graceMs`,
   * default `config.shutdownGraceMs`), then stops Apollo. The database is
   * the caller's to close afterwards.
   */
  stop(graceMs?: number): Promise<DrainResult>;
}

/** Apollo on a plain node:http server: POST/GET /graphql, GET /health and GET /metrics. Used by main and by the tests. */
export async function createServer({ config, db, log, secrets }: { config: Config; db: DataSource; log: Logger; secrets: Secrets }): Promise<KexinServer> {
  const metrics = new Metrics();
  const services = createServices(db, config, log, secrets, metrics);
  const metricsServed = config.metrics.token !== null || config.metrics.port !== null;
  if (metricsServed) metrics.collectProcessMetrics();
  // Without a token the main port never serves metrics (404); a separate port is bound to loopback only.
  const metricsHttp = config.metrics.port === null ? null : http.createServer((req, res) => void answerMetrics(req, res, true));
  const schema = await buildServedSchema(createResolverContainer(services));
  const httpServer = http.createServer();
  const drain = drainable(httpServer);
  const apollo = new ApolloServer<RequestContext>({
    schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    introspection: !config.production,
    // "Did you mean …?" would rebuild the schema for callers that introspection is off for.
    hideSchemaDetailsFromClientErrors: config.production,
    // Second layer for documents that do not come through handle() (executeOperation); handle() counts first.
    parseOptions: { maxTokens: MAX_TOKENS },
    csrfPrevention: true,
    // No automatic persisted queries: Kexin's clients send the query. With APQ on, a bad hash or version came back as an
    // uncoded GraphQLError, i.e. INTERNAL_SERVER_ERROR for the caller's mistake (issue 11 fuzz); off, every persistedQuery
    // extension is PERSISTED_QUERY_NOT_SUPPORTED (BAD_USER_INPUT, 400), and no client-fed query cache grows in memory.
    persistedQueries: false,
    // main.ts owns SIGTERM/SIGINT: stop() drains HTTP (src/http-drain.ts), then main stops the scheduler and closes the database.
    stopOnTerminationSignals: false,
    plugins: [
      // Kexin sets no cache hints and answers with no-store semantics: the default cache-control plugin
      // only cost a hook per resolved field (issue 10, read bench profile).
      ApolloServerPluginCacheControlDisabled(),
      requestLogPlugin(),
      errorLoggingPlugin(log),
      complexityPlugin(() => schema),
      // Counts and times every request; wraps the READ_PII plugin, which can still replace the response as it is sent.
      requestMetricsPlugin(metrics, piiReadLogPlugin({ db, transferLog: services.transferLog, log, metrics })),
      ...(config.production ? [ApolloServerPluginLandingPageDisabled(), hideSuggestionsPlugin()] : []),
    ],
  });
  await apollo.start();
  const deps = { db, log };

  const corsOrigins = new Set(config.corsOrigins);
  // One line per request once it is answered (src/request-log.ts): `info`, or `warn` from config.slowRequestMs on.
  const logRequest = (res: http.ServerResponse, trace: RequestTrace): void => {
    const durationMs = trace.finish(res.statusCode, performance.now(), answeredCodes.get(res));
    if (durationMs >= config.slowRequestMs) log.warn(trace, 'slow request');
    else log.info(trace, 'request');
  };

  httpServer.on('request', (req, res) => {
    const trace = new RequestTrace(requestIdOf(req.headers['x-request-id']), req.method, performance.now());
    res.setHeader('x-request-id', trace.requestId);
    handle(req, res, trace).then(
      () => logRequest(res, trace),
      (err: unknown) => {
        log.error({ err, requestId: trace.requestId }, 'request failed');
        trace.errorCodes = ['INTERNAL_SERVER_ERROR'];
        if (!res.headersSent) answerUnread(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
        else res.end();
        logRequest(res, trace);
      },
    );
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, trace: RequestTrace): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    trace.path = url.pathname.slice(0, 256);
    if (url.pathname === '/health') return health(res);
    if (url.pathname === '/metrics' && config.metrics.token !== null) return answerMetrics(req, res, false);
    if (url.pathname !== '/graphql') return sendJson(res, 404, { error: 'not found: use POST /graphql or GET /health' });
    if (corsOrigins.size > 0) allowOrigin(req, res);
    if (req.method === 'OPTIONS') return preflight(req, res);
    if (req.method !== 'POST' && req.method !== 'GET') {
      res.setHeader('allow', 'GET, POST, OPTIONS');
      return sendJson(res, 405, { errors: [{ message: 'Use POST /graphql', extensions: { code: 'BAD_USER_INPUT' } }] });
    }
    const admitted = await admit(req, res, url);
    if (!admitted) return observeUnadmitted(metrics, res.statusCode, started);
    trace.principalId = admitted.actor.principalId;
    trace.organizationCode = admitted.actor.organizationCode;
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    const { keyCheck } = admitted;
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method, headers, search: url.search, body: admitted.body },
      context: async () => contextForActor(admitted.actor, new Date(), deps, trace.requestId, keyCheck, trace),
    });
    if (keyCheck && keyCheck.state !== 'confirmed') {
      // The read did not confirm the remembered key (it refused it, or never ran: an error before it):
      // confirm it now, before anything is answered. The operation only reads policies (selfConfirming), so a
      // refused key has changed nothing, and no READ_PII entry was written (the mappers never ran).
      if (keyCheck.state === 'pending') keyCheck.state = (await services.principals.authenticateHash(keyCheck.keyHash))?.principalId === keyCheck.principalId ? 'confirmed' : 'refused';
      if (keyCheck.state === 'refused') {
        services.principals.forgetKey(keyCheck.keyHash);
        trace.principalId = trace.organizationCode = trace.operationName = trace.operationType = trace.errorCodes = trace.rows = undefined;
        return refuseKey(res);
      }
    }
    for (const [key, value] of response.headers) {
      const vary = key === 'vary' ? res.getHeader('vary') : undefined;
      res.setHeader(key, vary ? `${String(vary)}, ${value}` : value);
    }
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }

  /**
   * The caller and the body of a request within every limit, or null once a
   * refusal has been answered. What needs no body comes before reading it
   * (its declared size, then the key), and the document is measured before
   * Apollo validates it in one pass whose overlapping-fields rule is quadratic.
   */
  async function admit(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<{ actor: Actor; body: unknown; keyCheck: PendingKeyCheck | null } | null> {
    if (Number(req.headers['content-length']) > config.maxBodyBytes) {
      answerUnread(res, 413, errorBody(new BodyTooLargeError(config.maxBodyBytes)));
      return null;
    }
    // One key lookup per request, the actor found is the one the context carries. A key that authenticated
    // recently skips it, but only for an operation whose own statement confirms the key (selfConfirming);
    // anything else is authenticated here, after the body, before any answer.
    const token = bearerToken(req.headers.authorization);
    const keyHash = token ? hashApiKey(token) : null;
    const recent = keyHash ? services.principals.recentActor(keyHash) : null;
    let actor = recent ?? (keyHash ? await services.principals.authenticateHash(keyHash) : null);
    if (!actor) {
      refuseKey(res);
      return null;
    }
    try {
      const body = req.method === 'POST' ? await readJsonBody(req, config.maxBodyBytes) : undefined;
      const query = req.method === 'POST' ? (body as { query?: unknown } | null)?.query : url.searchParams.get('query');
      if (asksForPersistedQuery(req.method === 'POST' ? (body as { extensions?: unknown } | null)?.extensions : url.searchParams.get('extensions'))) {
        // Apollo answers these with 200 (its APQ protocol), even with persistedQueries off: refuse them as the caller's mistake.
        throw new BadRequestInputError('Persisted queries are not supported: send the query text', { detail: 'PERSISTED_QUERY_NOT_SUPPORTED' });
      }
      const document = typeof query === 'string' ? parseWithinLimits(schema, query) : null;
      if (recent && keyHash) {
        if (req.method === 'POST' && document && selfConfirming(document)) return { actor, body, keyCheck: { keyHash, principalId: recent.principalId, state: 'pending' } };
        actor = await services.principals.authenticateHash(keyHash);
        if (!actor) {
          refuseKey(res);
          return null;
        }
      }
      return { actor, body, keyCheck: null };
    } catch (error) {
      // A remembered key is confirmed before any refusal is answered: a revoked key is UNAUTHENTICATED whatever it sent.
      if (recent && keyHash && !(await services.principals.authenticateHash(keyHash))) refuseKey(res);
      else if (error instanceof BodyTooLargeError) answerUnread(res, 413, errorBody(error));
      else if (error instanceof AppError) sendJson(res, 400, errorBody(error));
      else throw error;
      return null;
    }
  }

  async function answerMetrics(req: http.IncomingMessage, res: http.ServerResponse, loopbackPort: boolean): Promise<void> {
    try {
      await serveMetrics(metrics, req, res, config.metrics.token, loopbackPort);
    } catch (err) {
      log.error({ err }, 'metrics scrape failed');
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    }
  }

  /**
   * CORS (issue 12, item 6) for the configured origins only: an allowed
   * `Origin` is echoed with the response header a page may read
   * (`x-request-id`); any other origin gets no CORS header, so its page cannot
   * read the answer. No credentials mode: callers send their key as a bearer
   * header, which a page only has when its user typed it in.
   */
  function allowOrigin(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.setHeader('vary', 'Origin');
    const origin = req.headers.origin;
    if (origin === undefined || !corsOrigins.has(origin)) return;
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-expose-headers', 'x-request-id');
  }

  /** OPTIONS /graphql: 204, with the allowed methods and headers when the origin is allowed (set by allowOrigin). */
  function preflight(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.setHeader('allow', 'GET, POST, OPTIONS');
    if (res.hasHeader('access-control-allow-origin') && req.headers['access-control-request-method'] !== undefined) {
      res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
      res.setHeader('access-control-allow-headers', CORS_ALLOWED_HEADERS);
      res.setHeader('access-control-max-age', '600');
    }
    res.statusCode = 204;
    res.end();
  }

  async function health(res: http.ServerResponse): Promise<void> {
    try {
      await withTimeout(db.query('SELECT 1'), 3000);
      sendJson(res, 200, { status: 'ok', database: 'up' });
    } catch {
      sendJson(res, 503, { status: 'unavailable', database: 'down' });
    }
  }

  return {
    apollo,
    http: httpServer,
    services,
    schema,
    metrics,
    listenMetrics: () =>
      new Promise((resolve, reject) => {
        if (!metricsHttp) return resolve(null);
        metricsHttp.once('error', reject);
        metricsHttp.listen(config.metrics.port ?? 0, '127.0.0.1', () => {
          const address = metricsHttp.address();
          resolve(typeof address === 'object' && address ? address.port : config.metrics.port);
        });
      }),
    contextFor: async (token) => contextForActor(token ? await services.principals.authenticate(token) : null, new Date(), deps),
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          const address = httpServer.address();
          resolve(typeof address === 'object' && address ? address.port : port);
        });
      }),
    inFlight: () => drain.inFlight(),
    stop: async (graceMs = config.shutdownGraceMs) => {
      const result = await drain.stop(graceMs);
      if (metricsHttp?.listening) {
        const closed = new Promise<void>((resolve) => metricsHttp.close(() => resolve()));
        metricsHttp.closeAllConnections();
        await closed;
      }
      await apollo.stop();
      return result;
    },
  };
}

/** A body above config.maxBodyBytes: 413, whether its content-length says so or its bytes do. */
class BodyTooLargeError extends BadInputError {
  constructor(limit: number) {
    super(`Request body is larger than ${limit} bytes`, { limit });
  }
}

/** The GraphQL-shaped body of a refusal made outside Apollo, through the same formatError. */
function errorBody(error: AppError): { errors: unknown[] } {
  return { errors: [formatError(error.toJSON(), error)] };
}

/** 401 for a missing, unknown or revoked key. */
function refuseKey(res: http.ServerResponse): void {
  res.setHeader('www-authenticate', 'Bearer');
  answerUnread(res, 401, errorBody(new UnauthenticatedError()));
}

/** Whether each document is {@link selfConfirming}, by document (Apollo and parseWithinLimits hand the same node for the same text). */
const selfConfirmingDocuments = new WeakMap<DocumentNode, boolean>();

/**
 * A document that is one query operation selecting only `policy(…)` or
 * only `policies(…)`, once, without directives: its resolver's statement
 * confirms a remembered key (PolicyService.findOne and page), and it
 * writes nothing, so a key found refused after execution has changed nothing.
 */
function selfConfirming(document: DocumentNode): boolean {
  let known = selfConfirmingDocuments.get(document);
  if (known === undefined) {
    const [operation, ...others] = document.definitions;
    const [field, ...more] = operation?.kind === Kind.OPERATION_DEFINITION && operation.operation === 'query' && !operation.directives?.length ? operation.selectionSet.selections : [];
    known = others.length === 0 && more.length === 0 && field?.kind === Kind.FIELD && (field.name.value === 'policy' || field.name.value === 'policies') && !field.directives?.length;
    selfConfirmingDocuments.set(document, known);
  }
  return known;
}

/** Whether a request's `extensions` (an object in a POST body, JSON text in a GET's query string) carry `persistedQuery`. */
function asksForPersistedQuery(extensions: unknown): boolean {
  if (typeof extensions === 'string') return extensions.includes('persistedQuery');
  return typeof extensions === 'object' && extensions !== null && 'persistedQuery' in extensions;
}

/**
 * Request headers a page may send: the key, JSON, its own request id, and the
 * two Apollo's CSRF prevention accepts on a GET (Sandbox sends them).
 */
const CORS_ALLOWED_HEADERS = 'authorization, content-type, x-request-id, apollo-require-preflight, x-apollo-operation-name';

/** The error codes of an answer made outside Apollo (a refusal), for its request's log line. */
const answeredCodes = new WeakMap<http.ServerResponse, string[]>();

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const codes = errorCodesOf((body as { errors?: Array<{ extensions?: Record<string, unknown> }> }).errors);
  if (codes) answeredCodes.set(res, codes);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

/**
 * Answers a request whose body was not (fully) read, and closes the
 * connection once the answer is out: the rest of the body is discarded by
 * Node and never parsed as a next request, and the client, which may still
 * be sending, gets the status instead of a hanging socket.
 */
function answerUnread(res: http.ServerResponse, status: number, body: unknown): void {
  res.setHeader('connection', 'close');
  sendJson(res, status, body);
}

async function readJsonBody(req: http.IncomingMessage, limit: number): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  const text = (await readBody(req, limit)).toString('utf8');
  if (!type.includes('application/json')) return text; // Apollo answers with its CSRF / content-type rules
  if (text.trim() === '') throw new BadInputError('Request body is empty: send a JSON object with "query"');
  try {
    return JSON.parse(text);
  } catch {
    throw new BadInputError('Request body is not valid JSON');
  }
}

/**
 * The body, refused with {@link BodyTooLargeError} as soon as it passes
 * `limit`. Listeners rather than `for await`, whose early exit would destroy
 * the socket before the 413 could be written.
 */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData).off('end', onEnd).off('error', reject);
      req.resume(); // keep discarding what still arrives until the connection closes
      reject(new BodyTooLargeError(limit));
    };
    const onEnd = (): void => resolve(Buffer.concat(chunks));
    req.on('data', onData).once('end', onEnd).once('error', reject);
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
