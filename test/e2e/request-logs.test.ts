/**
 * Issue 12, items 1 and 6, over real HTTP on an in-process server whose
 * pino log is read back line by line: one structured line per request (its
 * request id, taken from a well-formed `x-request-id` or generated, and
 * echoed; the operation; the caller; status; error codes; duration; rows),
 * refusals made before Apollo included, never a key, a variable or the query
 * text; the slow-request warning; CORS for the configured origins only.
 */
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger';
import { changeDigest } from '../../src/modules/transfer-log/transfer-log.chain';
import { loggedEntries } from '../support/log';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { salesRecord, salesSetup, SUBMIT_SALES } from '../support/sales';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SANDBOX = 'https://studio.apollographql.com';

/** A logger whose JSON lines are kept (at `level`), as the server writes them to stdout. */
function capturedLog(level = 'info') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter((l) => l !== ''));
      done();
    },
  });
  return { log: createLogger(level, stream), lines, entries: () => lines.map((l) => JSON.parse(l) as Record<string, any>) };
}

async function send(url: string, options: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${url}/graphql`, {
    method: options.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text };
}

describe(`request logs and CORS (${TEST_DB})`, () => {
  let app: TestApp;
  let url: string;
  let captured: ReturnType<typeof capturedLog>;
  let setup: Awaited<ReturnType<typeof salesSetup>>;
  beforeAll(async () => {
    captured = capturedLog();
    app = await startTestApp({ KEXIN_MAX_BODY_BYTES: String(64 * 1024) }, undefined, { log: captured.log });
    url = await app.url();
    setup = await salesSetup(app);
  });
  afterAll(() => app.close());

  /** The request lines written while `run` ran, after it (each request's line is written once it was answered). */
  async function linesOf(run: () => Promise<unknown>): Promise<Array<Record<string, any>>> {
    const from = captured.lines.length;
    await run();
    return captured.lines.slice(from).map((l) => JSON.parse(l) as Record<string, any>).filter((e) => e.msg === 'request' || e.msg === 'slow request');
  }

  it('logs one line per request: the echoed request id, operation, caller, status, duration and accepted rows, and nothing of the request itself', async () => {
    const key = setup.bank.keys.SALES;
    const records = [salesRecord('RL-1'), salesRecord('RL-2'), salesRecord('RL-3')];
    let answer!: Awaited<ReturnType<typeof send>>;
    const lines = await linesOf(async () => {
      answer = await send(url, {
        body: { query: SUBMIT_SALES.replace('mutation(', 'mutation PushDay('), variables: { insurerCode: setup.insurer.code, key: 'rl-batch-1', records } },
        headers: { authorization: `Bearer ${key}`, 'x-request-id': 'bank-job:2026-12-03.0001' },
      });
    });
    expect(answer.status).toBe(200);
    const accepted = JSON.parse(answer.text).data.submitSales.accepted as number;
    expect(answer.headers.get('x-request-id')).toBe('bank-job:2026-12-03.0001');
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(line).toEqual({
      level: 30,
      time: expect.any(String),
      service: 'kexin',
      msg: 'request',
      requestId: 'bank-job:2026-12-03.0001',
      method: 'POST',
      path: '/graphql',
      status: 200,
      operationName: 'PushDay',
      operationType: 'mutation',
      principalId: setup.bank.principalIds.SALES,
      organizationCode: setup.bank.code,
      rows: accepted,
      durationMs: expect.any(Number),
    });
    expect(accepted).toBeGreaterThan(0);
    expect(line!.durationMs).toBeGreaterThanOrEqual(0);
    // Nothing of what was sent: no key, no variable, no query text, no person.
    const raw = captured.lines.find((l) => l.includes('bank-job:2026-12-03.0001'))!;
    for (const secretOrData of [key, 'rl-batch-1', 'RL-1', 'submitSales', ...records.flatMap((r) => Object.values(r.policyholder as Record<string, string>))]) expect(raw).not.toContain(secretOrData);
  });

  it('replaces an absent or malformed x-request-id with a generated one, and never writes the malformed one', async () => {
    const malformed = ['', 'a'.repeat(129), 'has space', '"quoted"', 'line\tbreak', '<script>', 'ünï'];
    const answers: Array<{ sent: string | null; echoed: string | null }> = [];
    const lines = await linesOf(async () => {
      for (const sent of [null, ...malformed]) {
        const answer = await send(url, { body: { query: '{ me { name } }' }, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(sent === null ? {} : { 'x-request-id': sent }) } });
        answers.push({ sent, echoed: answer.headers.get('x-request-id') });
      }
    });
    expect(lines).toHaveLength(answers.length);
    for (const [i, { echoed }] of answers.entries()) {
      expect(echoed).toMatch(UUID);
      expect(lines[i]).toMatchObject({ requestId: echoed, status: 200, operationType: 'query', organizationCode: 'EXCHANGE' });
    }
    expect(new Set(answers.map((a) => a.echoed)).size).toBe(answers.length);
    // A well-formed id at the limit is kept as it is.
    const longest = 'A1._:-'.repeat(21) + 'ab';
    expect(longest).toHaveLength(128);
    const [kept] = await linesOf(() => send(url, { body: { query: '{ me { name } }' }, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-request-id': longest } }));
    expect(kept).toMatchObject({ requestId: longest });
  });

  it('refusals before Apollo (401, 413, 400) and GraphQL errors get their line with status and error codes', async () => {
    const cases: Array<{ name: string; run: () => Promise<Awaited<ReturnType<typeof send>>>; status: number; codes: string[] }> = [
      { name: 'no key', run: () => send(url, { body: { query: '{ me { name } }' } }), status: 401, codes: ['UNAUTHENTICATED'] },
      { name: 'unknown key', run: () => send(url, { body: { query: '{ me { name } }' }, headers: { authorization: 'Bearer kx_not_a_key' } }), status: 401, codes: ['UNAUTHENTICATED'] },
      {
        name: 'declared body too large',
        run: () => send(url, { body: 'x'.repeat(64 * 1024 + 1), headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
        status: 413,
        codes: ['BAD_USER_INPUT'],
      },
      { name: 'bad JSON', run: () => send(url, { body: '{"query":', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }), status: 400, codes: ['BAD_USER_INPUT'] },
      { name: 'validation error', run: () => send(url, { body: { query: '{ nope }' }, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }), status: 400, codes: ["BAD_USER_INPUT"] },
      {
        name: 'a resolver refusal',
        run: () => send(url, { body: { query: 'query Audit { verifyTransferLog(insurerCode: "NO_SUCH") { valid } }' }, headers: { authorization: `Bearer ${setup.bank.keys.SALES}` } }),
        status: 200,
        codes: [],
      },
    ];
    for (const c of cases) {
      let answer!: Awaited<ReturnType<typeof send>>;
      const lines = await linesOf(async () => (answer = await c.run()));
      const body = JSON.parse(answer.text) as { errors?: Array<{ extensions: { code: string } }> };
      const answered = [...new Set((body.errors ?? []).map((e) => e.extensions.code))];
      expect({ name: c.name, status: answer.status, lines: lines.length }).toEqual({ name: c.name, status: c.status, lines: 1 });
      expect(lines[0]).toMatchObject({ requestId: answer.headers.get('x-request-id'), status: c.status, durationMs: expect.any(Number) });
      // The line says exactly the codes the answer carries.
      if (c.codes.length) expect(answered).toEqual(c.codes);
      expect({ name: c.name, codes: lines[0]!.errorCodes ?? [] }).toEqual({ name: c.name, codes: answered });
      if (c.status === 401) expect(lines[0]!.principalId).toBeUndefined();
    }
    // The resolver refusal is the caller's to see in the line, with its operation.
    const [refusal] = await linesOf(() => send(url, { body: { query: 'query Audit { verifyTransferLog(insurerCode: "NO_SUCH") { valid } }' }, headers: { authorization: `Bearer ${setup.bank.keys.SALES}` } }));
    expect(refusal).toMatchObject({ operationName: 'Audit', operationType: 'query', principalId: setup.bank.principalIds.SALES, errorCodes: ['FORBIDDEN'] });
  });

  it("the request id of the line is the one the request's context carries (its READ_PII entry is digested with it)", async () => {
    const pii = await salesSetup(app, ['SUBMIT_SALES', 'READ_POLICIES', 'VIEW_FULL_PII']);
    const pushed = await send(url, { body: { query: SUBMIT_SALES, variables: { insurerCode: pii.insurer.code, key: 'rl-pii-1', records: [salesRecord('RL-PII-1')] } }, headers: { authorization: `Bearer ${pii.bank.keys.SALES}` } });
    expect(JSON.parse(pushed.text).data.submitSales.accepted).toBe(1);
    const [line] = await linesOf(() =>
      send(url, {
        body: { query: `query Whole { policy(insurerCode: "${pii.insurer.code}", policyNo: "RL-PII-1") { policyholder { idNumber } } }` },
        headers: { authorization: `Bearer ${pii.bank.keys.SALES}`, 'x-request-id': 'pii-read-0001' },
      }),
    );
    expect(line).toMatchObject({ requestId: 'pii-read-0001', operationName: 'Whole', status: 200 });
    expect(line!.errorCodes).toBeUndefined();
    const added = (await loggedEntries(app.db)).filter((e) => e.operation === 'READ_PII' && e.policyNos.includes('RL-PII-1'));
    expect(added).toHaveLength(1);
    const entry = added[0]!;
    const fields = JSON.parse(entry.fields) as string[];
    expect(entry.digest).toBe(changeDigest({ requestId: 'pii-read-0001', policyNos: entry.policyNos, fields }));
    expect(entry.digest).not.toBe(changeDigest({ requestId: 'another-id', policyNos: entry.policyNos, fields }));
  });

  it('a request that fails inside the server (500) still gets its line, with INTERNAL_SERVER_ERROR, and the error line carries its id', async () => {
    const spy = jest.spyOn(app.services.principals, 'authenticateHash').mockRejectedValueOnce(Object.assign(new Error('simulated outage'), { code: 'ECONNRESET' }));
    const from = captured.lines.length;
    let answer!: Awaited<ReturnType<typeof send>>;
    try {
      answer = await send(url, { body: { query: '{ me { name } }' }, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-request-id': 'outage-1' } });
    } finally {
      spy.mockRestore();
    }
    expect(answer.status).toBe(500);
    const lines = captured.entries().slice(from);
    expect(lines.map((l) => [l.level, l.msg, l.requestId])).toEqual([
      [50, 'request failed', 'outage-1'],
      [30, 'request', 'outage-1'],
    ]);
    expect(lines[1]).toMatchObject({ status: 500, errorCodes: ['INTERNAL_SERVER_ERROR'], durationMs: expect.any(Number) });
  });

  it('/health and unknown paths are logged too, without a caller', async () => {
    const lines = await linesOf(async () => {
      await fetch(`${url}/health`).then((r) => r.text());
      await fetch(`${url}/nowhere?token=abc`).then((r) => r.text());
    });
    expect(lines.map((l) => [l.method, l.path, l.status, l.principalId])).toEqual([
      ['GET', '/health', 200, undefined],
      ['GET', '/nowhere', 404, undefined],
    ]);
  });

  it('CORS: an allowed origin (Sandbox, the development default) gets its preflight and its headers, any other origin none', async () => {
    const preflight = (origin: string) =>
      fetch(`${url}/graphql`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-request-id' } });
    const allowed = await preflight(SANDBOX);
    expect(allowed.status).toBe(204);
    expect(Object.fromEntries([...allowed.headers].filter(([k]) => k.startsWith('access-control-')))).toEqual({
      'access-control-allow-origin': SANDBOX,
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'authorization, content-type, x-request-id, apollo-require-preflight, x-apollo-operation-name',
      'access-control-expose-headers': 'x-request-id',
      'access-control-max-age': '600',
    });
    for (const h of ['authorization', 'content-type', 'x-request-id']) expect(allowed.headers.get('access-control-allow-headers')!.split(', ')).toContain(h);

    for (const origin of ['https://evil.example', 'https://studio.apollographql.com.evil.example', 'http://studio.apollographql.com', 'null']) {
      const refused = await preflight(origin);
      expect({ origin, status: refused.status, cors: [...refused.headers.keys()].filter((k) => k.startsWith('access-control-')) }).toEqual({ origin, status: 204, cors: [] });
      const answer = await send(url, { body: { query: '{ me { name } }' }, headers: { origin, authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect({ origin, cors: [...answer.headers.keys()].filter((k) => k.startsWith('access-control-')) }).toEqual({ origin, cors: [] });
    }

    // The signed-in request itself, and a refusal, carry the headers a page needs to read them.
    const signedIn = await send(url, { body: { query: '{ me { name } }' }, headers: { origin: SANDBOX, authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect({ status: signedIn.status, origin: signedIn.headers.get('access-control-allow-origin'), expose: signedIn.headers.get('access-control-expose-headers'), vary: signedIn.headers.get('vary') }).toEqual({
      status: 200,
      origin: SANDBOX,
      expose: 'x-request-id',
      vary: expect.stringMatching(/^Origin\b/),
    });
    const refusedKey = await send(url, { body: { query: '{ me { name } }' }, headers: { origin: SANDBOX } });
    expect({ status: refusedKey.status, origin: refusedKey.headers.get('access-control-allow-origin') }).toEqual({ status: 401, origin: SANDBOX });
  });

  it('a method other than GET, POST and OPTIONS still answers 405 and names OPTIONS as allowed', async () => {
    const answer = await send(url, { method: 'PUT', body: '{}' });
    expect({ status: answer.status, allow: answer.headers.get('allow') }).toEqual({ status: 405, allow: 'GET, POST, OPTIONS' });
  });
});

describe(`slow requests and configured CORS origins (${TEST_DB})`, () => {
  let app: TestApp;
  let url: string;
  let captured: ReturnType<typeof capturedLog>;
  beforeAll(async () => {
    captured = capturedLog('warn');
    // 0 ms: every request is at or above the threshold, so each is a warning (and nothing at info is written at LOG_LEVEL=warn).
    app = await startTestApp({ KEXIN_SLOW_REQUEST_MS: '0', KEXIN_CORS_ORIGINS: 'http://localhost:3000, https://ide.example.org:8443' }, undefined, { log: captured.log });
    url = await app.url();
  });
  afterAll(() => app.close());

  it('a request at or above KEXIN_SLOW_REQUEST_MS is its one line, at warn', async () => {
    const from = captured.lines.length;
    for (let i = 0; i < 3; i++) await send(url, { body: { query: 'query Me { me { name } }' }, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-request-id': `slow-${i}` } });
    const lines = captured.entries().slice(from);
    expect(lines.map((l) => [l.level, l.msg, l.requestId, l.operationName])).toEqual([0, 1, 2].map((i) => [40, 'slow request', `slow-${i}`, 'Me']));
    expect(lines.every((l) => typeof l.durationMs === 'number')).toBe(true);
  });

  it('only the configured origins are allowed (Sandbox is not, once KEXIN_CORS_ORIGINS is set)', async () => {
    const origins = { 'http://localhost:3000': true, 'https://ide.example.org:8443': true, [SANDBOX]: false, 'https://ide.example.org': false };
    for (const [origin, allowed] of Object.entries(origins)) {
      const response = await fetch(`${url}/graphql`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
      expect({ origin, status: response.status, allowOrigin: response.headers.get('access-control-allow-origin') }).toEqual({ origin, status: 204, allowOrigin: allowed ? origin : null });
    }
  });
});
