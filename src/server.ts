import 'reflect-metadata';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import type { DataSource } from 'typeorm';
import { bearerToken } from './auth/api-keys';
import type { Config } from './config';
import { createServices, type Services } from './container';
import { buildContext, type RequestContext } from './graphql/context';
import { formatError } from './graphql/format-error';
import { complexityPlugin, errorLoggingPlugin } from './graphql/plugins';
import { buildServedSchema } from './graphql/schema';
import { piiReadLogPlugin } from './modules/policy/pii-read.plugin';
import type { Logger } from './logger';
import type { Secrets } from './db/secrets';
import { drainable, type DrainResult } from './http-drain';

/** Largest request body accepted (a submitSales batch of 1000 records fits well inside). */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface KexinServer {
  apollo: ApolloServer<RequestContext>;
  http: http.Server;
  services: Services;
  schema: GraphQLSchema;
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

/** Apollo on a plain node:http server: POST/GET /graphql and GET /health. Used by main and by the tests. */
export async function createServer({ config, db, log, secrets }: { config: Config; db: DataSource; log: Logger; secrets: Secrets }): Promise<KexinServer> {
  const services = createServices(db, config, log, secrets);
  const schema = await buildServedSchema();
  const httpServer = http.createServer();
  const drain = drainable(httpServer);
  const apollo = new ApolloServer<RequestContext>({
    schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    introspection: !config.production,
    csrfPrevention: true,
    // main.ts owns SIGTERM/SIGINT: stop() drains HTTP (src/http-drain.ts), then main stops the scheduler and closes the database.
    stopOnTerminationSignals: false,
    plugins: [
      errorLoggingPlugin(log),
      complexityPlugin(() => schema),
      piiReadLogPlugin({ db, transferLog: services.transferLog, log }),
      ...(config.production ? [ApolloServerPluginLandingPageDisabled()] : []),
    ],
  });
  await apollo.start();
  const contextFor = (token: string | null, requestId?: string) => buildContext({ db, services, log }, token, requestId);

  httpServer.on('request', (req, res) => {
    const requestId = randomUUID();
    res.setHeader('x-request-id', requestId);
    handle(req, res, requestId).catch((err: unknown) => {
      log.error({ err, requestId }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else res.end();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, requestId: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/health') return health(res);
    if (url.pathname !== '/graphql') return sendJson(res, 404, { error: 'not found: use POST /graphql or GET /health' });
    if (req.method !== 'POST' && req.method !== 'GET') {
      res.setHeader('allow', 'GET, POST');
      return sendJson(res, 405, { errors: [{ message: 'Use POST /graphql', extensions: { code: 'BAD_USER_INPUT' } }] });
    }
    let body: unknown;
    try {
      body = req.method === 'POST' ? await readJsonBody(req) : undefined;
    } catch (error) {
      return sendJson(res, (error as { status?: number }).status ?? 400, { errors: [{ message: (error as Error).message, extensions: { code: 'BAD_USER_INPUT' } }] });
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method, headers, search: url.search, body },
      context: () => contextFor(bearerToken(req.headers.authorization), requestId),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
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
    contextFor: (token) => contextFor(token),
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
      await apollo.stop();
      return result;
    },
  };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

async function readJsonBody(req: http.IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw Object.assign(new Error(`Request body is larger than ${MAX_BODY_BYTES} bytes`), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!type.includes('application/json')) return text; // Apollo answers with its CSRF / content-type rules
  if (text.trim() === '') throw new Error('Request body is empty: send a JSON object with "query"');
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('Request body is not valid JSON');
  }
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
