import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createServer, type KexinServer } from '../../src/server';
import { createDataSource } from '../../src/db/data-source';
import { inTransaction } from '../../src/db/transaction';
import { resolveSecrets } from '../../src/db/secrets';
import { createLogger } from '../../src/logger';
import { newId } from '../../src/db/ids';
import { OrganizationEntity } from '../../src/modules/organization/organization.entity';
import { TransferLogEntryEntity } from '../../src/modules/transfer-log/transfer-log.entity';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../support/app';
import { createTestDatabase, TEST_DB } from '../support/db';
import { createAgreement, createParty } from '../support/factories';
import { person, salesRecord, SUBMIT_SALES } from '../support/sales';
import { crossedUpdates } from '../support/deadlock';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

/** One scrape: every sample by `name{label="value",…}` (labels sorted), and the declared TYPE of every family. */
interface Scrape {
  samples: Map<string, number>;
  types: Map<string, string>;
  text: string;
}

function parseExposition(text: string): Scrape {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels = [...(sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => `${m[1]}="${m[2]}"`).sort();
    samples.set(`${sample[1]}{${labels.join(',')}}`, Number(sample[3]));
  }
  return { samples, types, text };
}

/** The sample `name{labels}` with labels given as an object (order does not matter). */
function key(name: string, labels: Record<string, string> = {}): string {
  return `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',')}}`;
}

function value(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  const found = scrape.samples.get(key(name, labels));
  if (found === undefined) throw new Error(`no sample ${key(name, labels)} in the scrape`);
  return found;
}

/** How much a sample grew between two scrapes (absent before = 0). */
function delta(before: Scrape, after: Scrape, name: string, labels: Record<string, string> = {}): number {
  return value(after, name, labels) - (before.samples.get(key(name, labels)) ?? 0);
}

describe(`GET /metrics (${TEST_DB})`, () => {
  let app: TestApp;
  let url: string;
  let insurer: Awaited<ReturnType<typeof createParty>>;
  let bank: Awaited<ReturnType<typeof createParty>>;

  const scrape = async (token: string | null = METRICS_TOKEN, base = url): Promise<Scrape> => {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const response = await fetch(`${base}/metrics`, { headers });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(await response.text());
  };

  const post = async (token: string, query: string, variables: Record<string, unknown> = {}, operationName?: string) => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables, ...(operationName ? { operationName } : {}) }),
    });
    return { status: response.status, json: (await response.json()) as { data?: any; errors?: Array<{ extensions?: { code?: string } }> } };
  };

  beforeAll(async () => {
    app = await startTestApp({ KEXIN_METRICS_TOKEN: METRICS_TOKEN });
    url = await app.url();
    insurer = await createParty(app, 'INSURER', ['ADMIN']);
    bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES', 'SERVICE'], { attested: true });
    await createAgreement(app, {
      insurerCode: insurer.code,
      partnerCode: bank.code,
      scopes: ['SUBMIT_SALES', 'READ_POLICIES', 'VIEW_FULL_PII'],
      proposerKey: insurer.keys.ADMIN,
      signerKey: bank.keys.ADMIN,
    });
  });
  afterAll(() => app.close());

  it('refuses a scrape without the token, or with another one, with 401 and nothing of the metrics', async () => {
    const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer not-the-metrics-token-0123456789' }, { authorization: `Basic ${METRICS_TOKEN}` }, { authorization: `Bearer ${METRICS_TOKEN}x` }];
    for (const headers of attempts) {
      const response = await fetch(`${url}/metrics`, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await response.text()).not.toContain('kexin_');
    }
    // An API key, even the admin's, is not the metrics token.
    const asAdmin = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${bank.keys.ADMIN}` } });
    expect(asAdmin.status).toBe(401);
    expect((await fetch(`${url}/metrics`, { method: 'POST', headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(405);
  });

  it('counts requests, errors, verdicts, chain appends, READ_PII disclosures and verifications by bounded labels', async () => {
    const before = await scrape();

    // A query, twice, once under an operation name a caller made up: the label is the root field, never the name.
    expect((await post(bank.keys.SALES, '{ me { id } }')).status).toBe(200);
    expect((await post(bank.keys.SALES, 'query WhoAmI_x9f3 { me { id } }', {}, 'WhoAmI_x9f3')).status).toBe(200);

    // A batch with one record of each verdict.
    const noPhone = person({ phone: null });
    const badCheckDigit = person({ idNumber: '110105198001011235' });
    const records = [
      salesRecord('MX-COMPLETE'),
      salesRecord('MX-INCOMPLETE', { policyholder: noPhone, insured: noPhone }),
      salesRecord('MX-SUSPECT', { policyholder: badCheckDigit, insured: badCheckDigit }),
      salesRecord('MX-REJECTED', { termMonths: -3 }),
    ];
    const submitted = await post(bank.keys.SALES, SUBMIT_SALES, { insurerCode: insurer.code, key: 'mx-1', records });
    expect(submitted.json.errors).toBeUndefined();
    const verdicts = submitted.json.data.submitSales.results.map((r: { accepted: boolean; completeness: { status: string } | null }) => (r.accepted ? r.completeness!.status : 'REJECTED'));
    expect(verdicts).toEqual(['COMPLETE', 'INCOMPLETE', 'SUSPECT', 'REJECTED']);
    // Its replay changes nothing stored, and counts no verdict again.
    const replay = await post(bank.keys.SALES, SUBMIT_SALES, { insurerCode: insurer.code, key: 'mx-1', records });
    expect(replay.json.data.submitSales.replayed).toBe(true);

    // The caller's mistakes: an empty batch (BAD_USER_INPUT), a field that does not exist (validation), an unknown key (401 before Apollo).
    const empty = await post(bank.keys.SALES, SUBMIT_SALES, { insurerCode: insurer.code, key: 'mx-2', records: [] });
    expect(empty.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const invalid = await post(bank.keys.SALES, '{ noSuchField }');
    expect(invalid.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await post('kx_not_a_key_0123456789abcdef', '{ me { id } }')).status).toBe(401);

    // A partner with VIEW_FULL_PII reads a whole ID number: one READ_PII entry naming one policy.
    const read = await post(bank.keys.SERVICE, 'query($c: String!) { policy(insurerCode: $c, policyNo: "MX-COMPLETE") { policyholder { idNumber } } }', { c: insurer.code });
    expect(read.json.errors).toBeUndefined();
    expect(read.json.data.policy.policyholder.idNumber).toBe((records[0]!.policyholder as { idNumber: string }).idNumber);

    // A verification that passes.
    const VERIFY = 'query($code: String!) { verifyTransferLog(insurerCode: $code) { valid reason } }';
    expect((await post(insurer.keys.ADMIN, VERIFY, { code: insurer.code })).json.data.verifyTransferLog).toEqual({ valid: true, reason: null });

    const after = await scrape();
    const requests = (operation: string, outcome: string) => delta(before, after, 'kexin_graphql_requests_total', { operation, outcome });
    const observed = (operation: string, outcome: string) => delta(before, after, 'kexin_graphql_request_duration_seconds_count', { operation, outcome });
    expect(requests('me', 'ok')).toBe(2);
    expect(requests('submitSales', 'ok')).toBe(2);
    expect(requests('submitSales', 'client_error')).toBe(1);
    expect(requests('(invalid)', 'client_error')).toBe(1);
    expect(requests('(unadmitted)', 'client_error')).toBe(1);
    expect(requests('policy', 'ok')).toBe(1);
    expect(requests('verifyTransferLog', 'ok')).toBe(1);
    // One histogram observation per counted request, with a positive duration.
    for (const [operation, outcome] of [['me', 'ok'], ['submitSales', 'ok'], ['submitSales', 'client_error'], ['policy', 'ok'], ['(unadmitted)', 'client_error']] as const) {
      expect(observed(operation, outcome)).toBe(requests(operation, outcome));
    }
    expect(delta(before, after, 'kexin_graphql_request_duration_seconds_sum', { operation: 'submitSales', outcome: 'ok' })).toBeGreaterThan(0);
    expect(value(after, 'kexin_graphql_request_duration_seconds_bucket', { operation: 'me', outcome: 'ok', le: '+Inf' })).toBe(value(after, 'kexin_graphql_request_duration_seconds_count', { operation: 'me', outcome: 'ok' }));
    expect(after.types.get('kexin_graphql_requests_total')).toBe('counter');
    expect(after.types.get('kexin_graphql_request_duration_seconds')).toBe('histogram');
    // No label carries what the caller sent as an operation name.
    expect(after.text).not.toContain('WhoAmI_x9f3');

    expect(delta(before, after, 'kexin_graphql_errors_total', { code: 'BAD_USER_INPUT' })).toBe(2);
    expect(delta(before, after, 'kexin_graphql_errors_total', { code: 'UNAUTHENTICATED' })).toBe(1);
    expect(delta(before, after, 'kexin_graphql_errors_total', { code: 'INTERNAL_SERVER_ERROR' })).toBe(0);

    for (const verdict of ['COMPLETE', 'INCOMPLETE', 'SUSPECT', 'REJECTED']) expect(delta(before, after, 'kexin_sales_records_total', { verdict })).toBe(1);
    // The batch's entry and the READ_PII entry; nothing refused.
    expect(delta(before, after, 'kexin_transfer_log_appends_total', { outcome: 'OK' })).toBe(2);
    expect(delta(before, after, 'kexin_transfer_log_appends_total', { outcome: 'REFUSED' })).toBe(0);
    expect(delta(before, after, 'kexin_pii_disclosures_total')).toBe(1);
    expect(delta(before, after, 'kexin_pii_disclosed_policies_total')).toBe(1);
    expect(delta(before, after, 'kexin_transfer_log_verifications_total', { result: 'valid' })).toBe(1);
    expect(delta(before, after, 'kexin_transfer_log_verifications_total', { result: 'invalid' })).toBe(0);

    // A refused batch (no agreement with this other insurer) is a REFUSED entry on that insurer's chain.
    const stranger = await createParty(app, 'INSURER', ['ADMIN']);
    const refused = await post(bank.keys.SALES, SUBMIT_SALES, { insurerCode: stranger.code, key: 'mx-3', records: [salesRecord('MX-NOAGREEMENT')] });
    expect(refused.json.errors?.[0]?.extensions?.code).toBe('AGREEMENT_INACTIVE');
    const afterRefusal = await scrape();
    expect(delta(after, afterRefusal, 'kexin_transfer_log_appends_total', { outcome: 'REFUSED' })).toBe(1);
    expect(delta(after, afterRefusal, 'kexin_graphql_errors_total', { code: 'AGREEMENT_INACTIVE' })).toBe(1);
    expect(delta(after, afterRefusal, 'kexin_graphql_requests_total', { operation: 'submitSales', outcome: 'client_error' })).toBe(1);
  });

  it('counts a verification that finds the chain edited, by its reason', async () => {
    const before = await scrape();
    const [first] = await app.db.getRepository(TransferLogEntryEntity).find({ where: { insurerId: insurer.id }, order: { seq: 'ASC' }, take: 1 });
    await app.db.getRepository(TransferLogEntryEntity).update({ id: first!.id }, { operation: 'edited' });
    const verified = await post(insurer.keys.ADMIN, 'query($code: String!) { verifyTransferLog(insurerCode: $code) { valid reason } }', { code: insurer.code });
    await app.db.getRepository(TransferLogEntryEntity).update({ id: first!.id }, { operation: first!.operation });
    expect(verified.json.data.verifyTransferLog.valid).toBe(false);
    const reason = verified.json.data.verifyTransferLog.reason as string;
    expect(reason).toBe('HASH');
    const after = await scrape();
    expect(delta(before, after, 'kexin_transfer_log_verifications_total', { result: 'invalid' })).toBe(1);
    expect(delta(before, after, 'kexin_transfer_log_verification_failures_total', { reason })).toBe(1);
    expect(delta(before, after, 'kexin_transfer_log_verification_failures_total', { reason: 'HEAD_MISMATCH' })).toBe(0);
  });

  it('counts a response withheld because its READ_PII entry could not be written as a server error, and no disclosure', async () => {
    const before = await scrape();
    const spy = jest.spyOn(app.services.transferLog, 'append').mockRejectedValueOnce(new Error('log unavailable'));
    let withheld;
    try {
      withheld = await post(bank.keys.SERVICE, 'query($c: String!) { policy(insurerCode: $c, policyNo: "MX-COMPLETE") { policyholder { idNumber } } }', { c: insurer.code });
    } finally {
      spy.mockRestore();
    }
    expect(withheld.json.data ?? null).toBeNull();
    expect(withheld.json.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    const after = await scrape();
    expect(delta(before, after, 'kexin_graphql_requests_total', { operation: 'policy', outcome: 'server_error' })).toBe(1);
    expect(delta(before, after, 'kexin_graphql_requests_total', { operation: 'policy', outcome: 'ok' })).toBe(0);
    expect(delta(before, after, 'kexin_graphql_errors_total', { code: 'INTERNAL_SERVER_ERROR' })).toBe(1);
    expect(delta(before, after, 'kexin_pii_disclosures_total')).toBe(0);
  });

  it('has every fixed series from the start, the pool gauges on MySQL only, and the process metrics', async () => {
    const now = await scrape();
    for (const errno of ['1213', '1205']) expect(value(now, 'kexin_db_transaction_retries_total', { errno })).toBeGreaterThanOrEqual(0);
    for (const code of ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'QUERY_TOO_COMPLEX', 'INTERNAL_SERVER_ERROR']) expect(value(now, 'kexin_graphql_errors_total', { code })).toBeGreaterThanOrEqual(0);
    for (const reason of ['SEQ', 'PREV_HASH', 'HEAD_MISSING', 'POLICY_INDEX', 'CHECKPOINT_SIGNATURE']) expect(value(now, 'kexin_transfer_log_verification_failures_total', { reason })).toBe(0);
    if (TEST_DB === 'mysql') {
      expect(value(now, 'kexin_db_pool_size')).toBe(10);
      expect(value(now, 'kexin_db_pool_connections_open')).toBeGreaterThanOrEqual(1);
      expect(value(now, 'kexin_db_pool_connections_open')).toBeLessThanOrEqual(10);
      // Nothing runs during the scrape: every open connection is back in the pool, nobody waits.
      expect(value(now, 'kexin_db_pool_connections_in_use')).toBe(0);
      expect(value(now, 'kexin_db_pool_waiting')).toBe(0);
    } else {
      // One better-sqlite3 connection, no pool: no pool series at all (docs/metrics.md).
      expect(now.text).not.toContain('kexin_db_pool_');
    }
    expect(value(now, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(value(now, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(value(now, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(now.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
  });

  (TEST_DB === 'mysql' ? it : it.skip)('counts the retries of a real deadlock between two transactions (MySQL)', async () => {
    const before = await scrape();
    const a = newId();
    const b = newId();
    await app.db.getRepository(OrganizationEntity).insert([
      { id: a, code: `DLA${a.slice(-6)}`, name: '0', kind: 'BROKER', createdAt: new Date() },
      { id: b, code: `DLB${b.slice(-6)}`, name: '0', kind: 'BROKER', createdAt: new Date() },
    ]);
    let retries = 0;
    await crossedUpdates(app.db, a, b, { onRetry: () => (retries += 1), backoffMs: 5 });
    expect(retries).toBeGreaterThanOrEqual(1);
    const after = await scrape();
    expect(delta(before, after, 'kexin_db_transaction_retries_total', { errno: '1213' }) + delta(before, after, 'kexin_db_transaction_retries_total', { errno: '1205' })).toBe(retries);
  });

  (TEST_DB === 'mysql' ? it : it.skip)('shows pooled connections in use and requests waiting for one while a transaction holds the only one (MySQL)', async () => {
    const config = { ...app.config, database: { ...app.config.database, poolSize: 1 } as typeof app.config.database };
    const db = await createDataSource(config.database);
    await db.initialize();
    const server = await createServer({ config, db, log: createLogger('silent'), secrets: resolveSecrets(config) });
    try {
      const gauges = async () => {
        const s = parseExposition((await server.metrics.scrape()).body);
        return { size: value(s, 'kexin_db_pool_size'), inUse: value(s, 'kexin_db_pool_connections_in_use'), waiting: value(s, 'kexin_db_pool_waiting') };
      };
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      let holding: () => void = () => undefined;
      const isHolding = new Promise<void>((resolve) => (holding = resolve));
      const transaction = inTransaction(db, async (em) => {
        await em.query('SELECT 1');
        holding();
        await held;
      });
      await isHolding;
      const waiter = db.query('SELECT 2 AS n');
      // The second statement reaches the pool's queue a few turns later: look for it a bounded number of times.
      let seen = await gauges();
      for (let i = 0; i < 200 && seen.waiting === 0; i += 1) {
        await new Promise((resolve) => setImmediate(resolve));
        seen = await gauges();
      }
      expect(seen).toEqual({ size: 1, inUse: 1, waiting: 1 });
      release();
      await transaction;
      expect(await waiter).toEqual([{ n: 2 }]);
      expect(await gauges()).toEqual({ size: 1, inUse: 0, waiting: 0 });
    } finally {
      await server.stop(1000);
      await db.destroy();
    }
  });

  describe('without a token', () => {
    const servers: KexinServer[] = [];
    const another = async (metrics: { token: string | null; port: number | null }) => {
      const config = { ...app.config, metrics };
      const server = await createServer({ config, db: app.db, log: createLogger('silent'), secrets: resolveSecrets(config) });
      servers.push(server);
      return server;
    };
    afterAll(async () => {
      for (const server of servers) await server.stop(1000);
    });

    it('answers 404 on the main port when neither a token nor a metrics port is configured', async () => {
      const server = await another({ token: null, port: null });
      const base = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
      expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(404);
      expect(await server.listenMetrics()).toBeNull();
    });

    it('serves a separate metrics port on 127.0.0.1 only, and not the main port', async () => {
      const server = await another({ token: null, port: 0 });
      const base = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
      const port = await server.listenMetrics();
      expect(port).toEqual(expect.any(Number));
      // Bound to 127.0.0.1, not every interface: another loopback address finds nothing listening there.
      await expect(fetch(`http://127.0.0.2:${port}/metrics`)).rejects.toThrow();
      expect((await fetch(`${base}/metrics`)).status).toBe(404);
      await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bank.keys.SALES}` }, body: JSON.stringify({ query: '{ me { id } }' }) });
      const scraped = await scrape(null, `http://127.0.0.1:${port}`);
      expect(value(scraped, 'kexin_graphql_requests_total', { operation: 'me', outcome: 'ok' })).toBe(1);
      // Its own registry: the requests of the first server are not in it.
      expect(scraped.samples.has(key('kexin_graphql_requests_total', { operation: 'submitSales', outcome: 'ok' }))).toBe(false);
    });
  });

  it('is served by the real entry point on KEXIN_METRICS_PORT, and the port closes with a SIGTERM', async () => {
    const main = path.join(__dirname, '..', '..', 'dist', 'src', 'main.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kexin-metrics-'));
    const database = await createTestDatabase();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      LOG_LEVEL: 'info',
      PORT: '0',
      KEXIN_METRICS_PORT: '0',
      KEXIN_DEMO: 'false',
      KEXIN_ADMIN_TOKEN: ADMIN_TOKEN,
      KEXIN_DATA_KEY: Buffer.alloc(32, 7).toString('base64'),
      DATABASE_URL: database.config.type === 'mysql' ? database.config.url : `sqlite:${path.join(dir, 'kexin.sqlite')}`,
    };
    const child = spawn(process.execPath, [main], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += String(d)));
    child.stderr.on('data', (d) => (output += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      let listening: { port: number; metricsPort: number; metricsToken: boolean } | undefined;
      for (let i = 0; i < 600 && !listening && child.exitCode === null; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        const line = output.split('\n').find((l) => l.includes('"kexin listening"'));
        if (line) listening = JSON.parse(line);
      }
      if (!listening) throw new Error(`the server did not start:\n${output}`);
      expect(listening.metricsPort).toEqual(expect.any(Number));
      expect(listening.metricsToken).toBe(false);
      expect(listening.metricsPort).not.toBe(listening.port);
      const me = await fetch(`http://127.0.0.1:${listening.port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ query: '{ me { id } }' }) });
      expect(me.status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${listening.port}/metrics`)).status).toBe(404);
      const scraped = await scrape(null, `http://127.0.0.1:${listening.metricsPort}`);
      expect(value(scraped, 'kexin_graphql_requests_total', { operation: 'me', outcome: 'ok' })).toBe(1);
      expect(value(scraped, 'process_resident_memory_bytes')).toBeGreaterThan(0);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await expect(fetch(`http://127.0.0.1:${listening.metricsPort}/metrics`)).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
      await database.drop();
    }
  });
});
