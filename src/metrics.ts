import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import { Kind, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { isSqlite } from './db/dialect';
import type { RequestContext } from './graphql/context';
import { ERROR_CODES, isErrorCode } from './graphql/errors';
import type { VerificationReason } from './modules/transfer-log/transfer-log.verifier';

/** How a request ended: no error, only the caller's mistakes (4xx codes), or at least one INTERNAL_SERVER_ERROR. */
export type Outcome = 'ok' | 'client_error' | 'server_error';

/** The verdicts of submitSales records: the stored completeness of an accepted record, or REJECTED. */
export const SALES_VERDICTS = ['COMPLETE', 'INCOMPLETE', 'SUSPECT', 'REJECTED'] as const;
export type SalesVerdict = (typeof SALES_VERDICTS)[number];

const VERIFICATION_REASONS: readonly VerificationReason[] = [
  'HASH',
  'PREV_HASH',
  'SEQ',
  'HEAD_MISSING',
  'HEAD_MISMATCH',
  'POLICY_INDEX',
  'CHECKPOINT_INSURER',
  'CHECKPOINT_KEY',
  'CHECKPOINT_SIGNATURE',
  'CHECKPOINT_NOT_EXTENDED',
];

/** Operation label of a document whose operation never resolved (parse, validation or operation-name failures). */
export const INVALID_OPERATION = '(invalid)';
/** Operation label of a request refused by the HTTP layer before Apollo saw it (401 key, 413 body, 400 over the token limit). */
export const UNADMITTED_OPERATION = '(unadmitted)';
/** Operation label of a document selecting more than one distinct root field. */
export const MULTIPLE_OPERATION = '(multiple)';

/** Seconds; point reads are a few ms, a full submitSales batch a few hundred. */
const DURATION_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

type RequestSeries = { count: Counter.Internal; duration: Histogram.Internal<'operation' | 'outcome'> };

/**
 * Kexin's Prometheus metrics (issue 12, item 3), on a Registry of their own
 * (not prom-client's global one), so several servers in one process (the
 * tests) never share or collide. One per server, built in createServer and
 * handed to the services that count through createServices.
 *
 * Labels are bounded: an operation is the root field a document selects
 * (a schema field name, known only after validation), never the operation
 * name a caller sends; codes are the contract's; verdicts and reasons are
 * fixed sets. The fixed sets start at 0 so every series exists from the start.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'kexin_graphql_requests_total',
    help: 'GraphQL requests answered, by root field (operation) and outcome (ok, client_error, server_error)',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly durations = new Histogram({
    name: 'kexin_graphql_request_duration_seconds',
    help: 'Time from Apollo receiving a request to its response being ready (including its READ_PII entry), by operation and outcome',
    labelNames: ['operation', 'outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: 'kexin_graphql_errors_total',
    help: 'GraphQL errors sent to clients, by contract code (extensions.code)',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  private readonly retries = new Counter({
    name: 'kexin_db_transaction_retries_total',
    help: 'Transactions rolled back and run again after a MySQL deadlock (1213) or lock wait timeout (1205)',
    labelNames: ['errno'] as const,
    registers: [this.registry],
  });
  private readonly appends = new Counter({
    name: 'kexin_transfer_log_appends_total',
    help: 'Entries appended to a transfer-log chain inside a transaction, by outcome (OK, REFUSED); a transaction rolled back and retried appends again',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly verifications = new Counter({
    name: 'kexin_transfer_log_verifications_total',
    help: 'Chain verifications run (verifyTransferLog, verify-log), by result (valid, invalid)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly verificationFailures = new Counter({
    name: 'kexin_transfer_log_verification_failures_total',
    help: 'Chain verifications that found the chain, its head or its checkpoint wrong, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly salesRecords = new Counter({
    name: 'kexin_sales_records_total',
    help: 'submitSales records judged in batches that committed (replays not counted), by verdict',
    labelNames: ['verdict'] as const,
    registers: [this.registry],
  });
  private readonly piiEntries = new Counter({
    name: 'kexin_pii_disclosures_total',
    help: 'READ_PII entries written: responses that showed a partner whole ID numbers or phones, one per insurer',
    registers: [this.registry],
  });
  private readonly piiPolicies = new Counter({
    name: 'kexin_pii_disclosed_policies_total',
    help: 'Policies named by READ_PII entries written',
    registers: [this.registry],
  });
  private readonly series = new Map<string, RequestSeries>();
  private defaultsCollected = false;

  constructor() {
    for (const code of ERROR_CODES) this.errors.labels(code).inc(0);
    for (const errno of ['1213', '1205']) this.retries.labels(errno).inc(0);
    for (const outcome of ['OK', 'REFUSED']) this.appends.labels(outcome).inc(0);
    for (const result of ['valid', 'invalid']) this.verifications.labels(result).inc(0);
    for (const reason of VERIFICATION_REASONS) this.verificationFailures.labels(reason).inc(0);
    for (const verdict of SALES_VERDICTS) this.salesRecords.labels(verdict).inc(0);
  }

  /** One request: a counter inc and a histogram observe on children cached by label pair (the hot path). */
  observeRequest(operation: string, outcome: Outcome, seconds: number): void {
    const key = `${operation}\u0000${outcome}`;
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { count: this.requests.labels(operation, outcome), duration: this.durations.labels(operation, outcome) }));
    s.count.inc();
    s.duration.observe(seconds);
  }

  /** The codes of one response's errors (already formatted: contract codes only). */
  countErrors(codes: readonly string[]): void {
    for (const code of codes) this.errors.labels(isErrorCode(code) ? code : 'INTERNAL_SERVER_ERROR').inc();
  }

  transactionRetried(errno: number | undefined): void {
    this.retries.labels(errno === 1205 ? '1205' : '1213').inc();
  }

  chainAppended(outcome: string): void {
    this.appends.labels(outcome === 'REFUSED' ? 'REFUSED' : 'OK').inc();
  }

  chainVerified(reason: VerificationReason | null): void {
    this.verifications.labels(reason === null ? 'valid' : 'invalid').inc();
    if (reason !== null) this.verificationFailures.labels(reason).inc();
  }

  salesJudged(verdicts: ReadonlyMap<SalesVerdict, number>): void {
    for (const [verdict, n] of verdicts) if (n > 0) this.salesRecords.labels(verdict).inc(n);
  }

  piiDisclosed(entries: number, policies: number): void {
    this.piiEntries.inc(entries);
    this.piiPolicies.inc(policies);
  }

  /**
   * Pool gauges read at scrape time from mysql2's pool under TypeORM's
   * driver (its `_allConnections`, `_freeConnections` and `_connectionQueue`
   * queues: mysql2 3.x has no public accessor). Not registered on SQLite,
   * whose single connection has no pool (transactions queue in inTransaction).
   */
  watchPool(db: DataSource): void {
    if (isSqlite(db)) return;
    const pool = (): MysqlPoolInternals | null => ((db.driver as unknown as { pool?: MysqlPoolInternals }).pool ?? null);
    const registers = [this.registry];
    new Gauge({
      name: 'kexin_db_pool_connections_in_use',
      help: 'MySQL connections lent out of the pool (running a statement or holding a transaction)',
      registers,
      collect() {
        const p = pool();
        this.set(p ? (p._allConnections?.length ?? 0) - (p._freeConnections?.length ?? 0) : 0);
      },
    });
    new Gauge({
      name: 'kexin_db_pool_connections_open',
      help: 'MySQL connections the pool holds open (in use or idle)',
      registers,
      collect() {
        this.set(pool()?._allConnections?.length ?? 0);
      },
    });
    new Gauge({
      name: 'kexin_db_pool_waiting',
      help: 'Requests for a MySQL connection queued because every pooled connection is in use',
      registers,
      collect() {
        this.set(pool()?._connectionQueue?.length ?? 0);
      },
    });
    new Gauge({
      name: 'kexin_db_pool_size',
      help: 'Largest number of MySQL connections the pool opens (KEXIN_DB_POOL_SIZE)',
      registers,
      collect() {
        this.set(pool()?.config?.connectionLimit ?? 0);
      },
    });
  }

  /** Node's process metrics (CPU, memory, event loop lag, GC, handles) on this registry; once. */
  collectProcessMetrics(): void {
    if (this.defaultsCollected) return;
    this.defaultsCollected = true;
    collectDefaultMetrics({ register: this.registry });
  }

  /** The text exposition (Prometheus 0.0.4). */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

interface MysqlPoolInternals {
  _allConnections?: { length: number };
  _freeConnections?: { length: number };
  _connectionQueue?: { length: number };
  config?: { connectionLimit?: number };
}

/** The operation label of each resolved operation (Apollo hands the same nodes for the same document text). */
const operationLabels = new WeakMap<OperationDefinitionNode, string>();

/**
 * The bounded label of an operation: the one distinct root field it selects
 * (through fragments), {@link MULTIPLE_OPERATION} for several. Only called on
 * validated operations, so every name is a field of the schema.
 */
export function operationLabel(document: DocumentNode, operation: OperationDefinitionNode): string {
  let label = operationLabels.get(operation);
  if (label !== undefined) return label;
  const fragments = new Map<string, SelectionSetNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def.selectionSet);
  const names = new Set<string>();
  const visit = (set: SelectionSetNode, seen: Set<string>): void => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value !== '__typename') names.add(selection.name.value);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet, seen);
      else if (!seen.has(selection.name.value)) {
        const fragment = fragments.get(selection.name.value);
        if (fragment) visit(fragment, new Set([...seen, selection.name.value]));
      }
    }
  };
  visit(operation.selectionSet, new Set());
  label = names.size === 1 ? [...names][0]! : names.size === 0 ? '__typename' : MULTIPLE_OPERATION;
  operationLabels.set(operation, label);
  return label;
}

/** The outcome class of a response's error codes. */
export function outcomeOf(codes: readonly string[]): Outcome {
  if (codes.length === 0) return 'ok';
  return codes.some((code) => code === 'INTERNAL_SERVER_ERROR' || !isErrorCode(code)) ? 'server_error' : 'client_error';
}

/**
 * Counts and times every request Apollo answers (HTTP and executeOperation)
 * and counts the codes of the errors it sends. Apollo runs the
 * willSendResponse hooks of all plugins at once, and `inner` (the READ_PII
 * plugin) can still replace the response there (withheld: an
 * INTERNAL_SERVER_ERROR): so `inner` runs inside this plugin, and the
 * response is observed once it is final.
 */
export function requestMetricsPlugin(metrics: Metrics, inner: ApolloServerPlugin<RequestContext>): ApolloServerPlugin<RequestContext> {
  return {
    ...inner,
    async requestDidStart(requestContext) {
      const started = performance.now();
      const wrapped = (await inner.requestDidStart?.(requestContext)) ?? {};
      let operation = INVALID_OPERATION;
      const listener: GraphQLRequestListener<RequestContext> = {
        ...wrapped,
        async didResolveOperation(context) {
          if (context.operation) operation = operationLabel(context.document, context.operation);
          await wrapped.didResolveOperation?.(context);
        },
        async willSendResponse(context) {
          await wrapped.willSendResponse?.(context);
          const body = context.response.body;
          const errors = body.kind === 'single' ? body.singleResult.errors : body.initialResult.errors;
          const codes = errors ? errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')) : [];
          if (codes.length) metrics.countErrors(codes);
          metrics.observeRequest(operation, outcomeOf(codes), (performance.now() - started) / 1000);
        },
      };
      return listener;
    },
  };
}

/** A request the HTTP layer refused before Apollo (401, 413, 400): counted like the others, under {@link UNADMITTED_OPERATION}. */
export function observeUnadmitted(metrics: Metrics, status: number, started: number): void {
  const code = status === 401 ? 'UNAUTHENTICATED' : status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_USER_INPUT';
  metrics.countErrors([code]);
  metrics.observeRequest(UNADMITTED_OPERATION, outcomeOf([code]), (performance.now() - started) / 1000);
}

/**
 * Whether a scrape may read the metrics: with a token configured, only a
 * request bearing it (compared in constant time over SHA-256 digests);
 * without one, only the separate loopback port lets scrapes in (`open`).
 */
export function scrapeAllowed(req: http.IncomingMessage, token: string | null, open: boolean): boolean {
  if (token === null) return open;
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(match[1]!), digest(token));
}

/** Answers GET /metrics: 405 for other methods, 401 (with WWW-Authenticate) without the token, else the exposition. */
export async function serveMetrics(metrics: Metrics, req: http.IncomingMessage, res: http.ServerResponse, token: string | null, open: boolean): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.statusCode = 405;
    res.setHeader('allow', 'GET');
    res.end();
    return;
  }
  if (!scrapeAllowed(req, token, open)) {
    res.statusCode = 401;
    res.setHeader('www-authenticate', 'Bearer realm="metrics"');
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end('metrics: send Authorization: Bearer <KEXIN_METRICS_TOKEN>\n');
    return;
  }
  const { contentType, body } = await metrics.scrape();
  res.statusCode = 200;
  res.setHeader('content-type', contentType);
  res.setHeader('cache-control', 'no-store');
  res.end(req.method === 'HEAD' ? undefined : body);
}
