import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net, { type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, TEST_DB, type TestDatabase } from '../support/db';
import { salesRecord, SUBMIT_SALES } from '../support/sales';

/**
 * The real entry point as a user runs it (`node dist/src/main.js`, built by
 * `npm test` first): configuration errors, demo seeding, the issued-keys file,
 * /health, a demo principal's `me`, and a graceful SIGTERM.
 */
const MAIN = path.join(__dirname, '..', '..', 'dist', 'src', 'main.js');

/** Children still running: killed after the tests, so a failed test leaves no server behind. */
const running = new Set<ChildProcess>();

function start(env: Record<string, string>, cwd: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let output = '';
  const child = spawn(process.execPath, [MAIN], { cwd, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.on('exit', () => running.delete(child));
  child.stdout!.on('data', (d) => (output += String(d)));
  child.stderr!.on('data', (d) => (output += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The issued-keys file of a server started in `cwd` (issue 12, item 2): beside the embedded SQLite
 * file, ./data/kexin-issued-keys.txt with MySQL; '' when there is none.
 */
function issuedKeys(cwd: string): string {
  const file = [path.join(cwd, 'data', 'kexin.sqlite.issued-keys.txt'), path.join(cwd, 'data', 'kexin-issued-keys.txt')].find((f) => fs.existsSync(f));
  return file ? fs.readFileSync(file, 'utf8') : '';
}

/** The API key issued to a demo principal (`DEMO_BANK  demo-bank-sales  SALES  kx_…` in the issued-keys file). */
function demoKey(cwd: string, principal: string): string {
  const text = issuedKeys(cwd);
  const line = text.split('\n').find((l) => new RegExp(`\\s${principal}\\s`).test(l));
  const key = line?.trim().split(/\s+/).pop();
  if (!key?.startsWith('kx_')) throw new Error(`no key issued for ${principal}:\n${text}`);
  return key;
}

interface Answer {
  status: number;
  body: string;
}

/**
 * POSTs a GraphQL operation with `Expect: 100-continue`: `accepted` resolves
 * when the server has read the request's head (Node answers 100 Continue as it
 * emits 'request'), and only then is the body sent. So a test knows for sure
 * which requests the server had accepted before it was signalled.
 */
function postAccepted(port: number, token: string, payload: unknown, agent: http.Agent): { accepted: Promise<void>; answer: Promise<Answer> } {
  const body = Buffer.from(JSON.stringify(payload));
  let accept!: () => void;
  const accepted = new Promise<void>((resolve) => (accept = resolve));
  const answer = new Promise<Answer>((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: '/graphql',
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': body.length, expect: '100-continue' },
    });
    req.on('continue', () => {
      accept();
      req.end(body);
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  return { accepted, answer };
}

async function graphql(port: number, token: string, query: string): Promise<Record<string, any>> {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as Record<string, any>;
}

describe(`the server process (${TEST_DB})`, () => {
  let dir: string;
  let database: TestDatabase | null = null;
  const databases: TestDatabase[] = [];

  /** A fresh database with demo data for one test: the embedded default in its own folder, or a new MySQL database. */
  async function demoEnv(folder: string): Promise<{ env: Record<string, string>; cwd: string }> {
    const cwd = path.join(dir, folder);
    fs.mkdirSync(cwd);
    const env: Record<string, string> = { PORT: '0' };
    if (TEST_DB === 'mysql') {
      const db = await createTestDatabase();
      databases.push(db);
      Object.assign(env, { DATABASE_URL: (db.config as { url: string }).url, KEXIN_DATA_KEY: Buffer.alloc(32, 3).toString('base64'), KEXIN_DEMO: '1' });
    }
    return { env, cwd };
  }

  async function listening(proc: ReturnType<typeof start>): Promise<number> {
    await waitFor(() => /"msg":"kexin listening"/.test(proc.output()) || proc.child.exitCode !== null, 'the server to listen');
    const port = Number(/"port":(\d+)/.exec(proc.output())?.[1]);
    if (!(port > 0)) throw new Error(`the server did not listen:\n${proc.output()}`);
    return port;
  }
  beforeAll(() => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` (npm test does it first)`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kexin-proc-'));
  });
  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    await database?.drop();
    for (const db of databases) await db.drop();
  });

  it('a bad DATABASE_URL names the problem and exits non-zero', async () => {
    const proc = start({ DATABASE_URL: 'postgres://nope/db' }, dir);
    expect(await proc.exited).not.toBe(0);
    expect(proc.output()).toMatch(/DATABASE_URL must start with mysql:\/\/ or sqlite:/);
  });

  it.each([
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"'],
    [{ KEXIN_SIGNING_KEY: 'notapem' }, 'KEXIN_SIGNING_KEY must be an Ed25519 private key, PKCS#8 PEM'],
  ])('%j is refused at start with a clear message (exit 2), not a library error', async (env, message) => {
    const proc = start({ ...env, DATABASE_URL: 'sqlite::memory:' }, dir);
    expect({ exitCode: await proc.exited, output: proc.output() }).toEqual({ exitCode: 2, output: expect.stringContaining(`kexin: configuration error:\n  ${message}`) });
    expect(proc.output()).not.toMatch(/at |DECODER|error:[0-9A-F]{8}/);
  });

  it('a first start on a busy port seeds and issues nothing; the next start writes the keys to the file, not the output; a wrong KEXIN_DATA_KEY is then refused', async () => {
    const { env, cwd } = await demoEnv('busy');
    const blocker = net.createServer();
    const busyPort = await new Promise<number>((resolve) => blocker.listen(0, () => resolve((blocker.address() as net.AddressInfo).port)));
    const first = start({ ...env, PORT: String(busyPort) }, cwd);
    const firstExit = await first.exited;
    await new Promise((resolve) => blocker.close(resolve));
    expect({ exitCode: firstExit, output: first.output() }).toEqual({ exitCode: 1, output: expect.stringContaining(`kexin: port ${busyPort} is already in use`) });
    expect(first.output()).not.toMatch(/kx_|KEXIN_ADMIN_TOKEN=/);
    expect(issuedKeys(cwd)).toBe('');

    const second = start(env, cwd);
    await listening(second);
    expect(issuedKeys(cwd)).toMatch(/^KEXIN_ADMIN_TOKEN=\S{24,}$/m);
    expect(demoKey(cwd, 'demo-bank-sales')).toMatch(/^kx_/);
    expect(second.output()).not.toMatch(/kx_|KEXIN_ADMIN_TOKEN=/);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    const wrongKey = start({ ...env, KEXIN_DATA_KEY: Buffer.alloc(32, 9).toString('base64') }, cwd);
    expect({ exitCode: await wrongKey.exited, output: wrongKey.output() }).toEqual({
      exitCode: 1,
      output: expect.stringContaining("KEXIN_DATA_KEY is not the key this database's ID numbers and phones were encrypted with"),
    });
    expect(wrongKey.output()).not.toMatch(/kexin listening/);
  });

  it('starts with demo data, issues the keys once (to the file), answers /health and me, and stops cleanly on SIGTERM', async () => {
    const env: Record<string, string> = { PORT: '0' };
    if (TEST_DB === 'mysql') {
      database = await createTestDatabase();
      Object.assign(env, { DATABASE_URL: (database.config as { url: string }).url, KEXIN_DATA_KEY: Buffer.alloc(32, 3).toString('base64'), KEXIN_DEMO: '1' });
    }
    // PORT=0 picks a free port; the log line tells which.
    const proc = start(env, dir);
    await waitFor(() => /"msg":"kexin listening"/.test(proc.output()) || proc.child.exitCode !== null, 'the server to listen');
    const port = Number(/"port":(\d+)/.exec(proc.output())?.[1]);
    expect(port).toBeGreaterThan(0);
    if (TEST_DB === 'sqlite') expect(fs.existsSync(path.join(dir, 'data', 'kexin.sqlite'))).toBe(true);

    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);

    const key = demoKey(dir, 'demo-bank-sales');
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: '{ me { name organization { code kind } } }' }),
    });
    expect(await response.json()).toEqual({ data: { me: { name: 'demo-bank-sales', organization: { code: 'DEMO_BANK', kind: 'BANK_CHANNEL' } } } });
    expect(issuedKeys(dir)).toMatch(/^KEXIN_ADMIN_TOKEN=/m);
    const issued = issuedKeys(dir);

    proc.child.kill('SIGTERM');
    // The whole output in the assertion, so that a failed shutdown explains itself.
    expect({ exitCode: await proc.exited, output: proc.output() }).toEqual({ exitCode: 0, output: expect.stringMatching(/shutting down/) });

    // A second start on the same database issues no keys again.
    const again = start(env, dir);
    await waitFor(() => /"msg":"kexin listening"/.test(again.output()), 'the second start');
    expect(again.output()).not.toMatch(/kx_/);
    expect(issuedKeys(dir)).toBe(issued);
    again.child.kill('SIGTERM');
    expect({ exitCode: await again.exited, output: again.output() }).toEqual({ exitCode: 0, output: expect.any(String) });
  });

  it('on SIGTERM answers every accepted request, closes idle keep-alive sockets, keeps every acknowledged batch and exits 0 within the grace period', async () => {
    const { env, cwd } = await demoEnv('drain');
    const grace = 30_000;
    Object.assign(env, { KEXIN_SHUTDOWN_GRACE_MS: String(grace) });
    const proc = start(env, cwd);
    const port = await listening(proc);
    const sales = demoKey(cwd, 'demo-bank-sales');
    const insurer = demoKey(cwd, 'demo-life-admin');
    const countQuery = '{ policies(first: 1) { totalCount } }';
    const before = (await graphql(port, insurer, countQuery)).data.policies.totalCount as number;

    // An idle keep-alive socket: the server must close it at the signal.
    const idleAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const idle = await new Promise<Socket>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/health', agent: idleAgent }, (res) => {
        res.resume();
        res.on('end', () => resolve(req.socket!));
      });
      req.on('error', reject);
    });
    const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()));

    // A request whose head is still arriving when the signal comes: it was accepted, so it is answered.
    const slowHead = `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n`;
    const slowBody = JSON.stringify({ query: '{ me { name } }' });
    const slow = net.connect(port, '127.0.0.1');
    let slowAnswer = '';
    slow.on('data', (d) => (slowAnswer += String(d)));
    const slowClosed = new Promise<void>((resolve) => slow.once('close', () => resolve()));
    slow.on('error', () => undefined);
    slow.write(slowHead);

    const BATCHES = 30;
    const RECORDS = 200;
    const agent = new http.Agent({ keepAlive: true, maxSockets: BATCHES });
    const requests = Array.from({ length: BATCHES }, (_, b) =>
      postAccepted(port, sales, {
        query: SUBMIT_SALES,
        variables: {
          insurerCode: 'DEMO_LIFE',
          key: `drain-${b}`,
          records: Array.from({ length: RECORDS }, (_, r) => salesRecord(`DRAIN-${b}-${r}`)),
        },
      }, agent),
    );
    await Promise.all(requests.map((r) => r.accepted));
    const signalledAt = Date.now();
    proc.child.kill('SIGTERM');
    // The rest of its head only once the drain has surely begun (a longer wait only delays the answer).
    await waitFor(() => /shutting down/.test(proc.output()), 'the shutdown to begin');
    await new Promise((resolve) => setTimeout(resolve, 200));
    slow.write(`Authorization: Bearer ${sales}\r\nContent-Length: ${Buffer.byteLength(slowBody)}\r\n\r\n${slowBody}`);
    const answers = await Promise.allSettled(requests.map((r) => r.answer));
    await slowClosed;
    const exitCode = await proc.exited;
    const stoppedIn = Date.now() - signalledAt;
    agent.destroy();

    const failures = answers.flatMap((a, i) => (a.status === 'rejected' ? [`batch ${i}: ${String(a.reason)}`] : []));
    expect({ failures, output: failures.length ? proc.output() : '' }).toEqual({ failures: [], output: '' });
    const acknowledged = answers.map((a) => {
      const answer = (a as PromiseFulfilledResult<Answer>).value;
      expect(answer.status).toBe(200);
      return JSON.parse(answer.body).data.submitSales.accepted as number;
    });
    expect(acknowledged).toEqual(Array(BATCHES).fill(RECORDS));
    expect(slowAnswer).toMatch(/^HTTP\/1\.1 200 [\s\S]*"me":\{"name":"demo-bank-sales"\}/);
    await idleClosed;
    idleAgent.destroy();
    expect({ exitCode, output: exitCode === 0 ? '' : proc.output() }).toEqual({ exitCode: 0, output: '' });
    expect(stoppedIn).toBeLessThan(grace);

    // After a restart on the same database every acknowledged record is there.
    const again = start(env, cwd);
    const port2 = await listening(again);
    const after = (await graphql(port2, insurer, countQuery)).data.policies.totalCount as number;
    // And the log holds exactly one OK entry per acknowledged batch, naming its records, on a chain that verifies.
    const logged = (await graphql(port2, insurer, '{ transferLog(insurerCode: "DEMO_LIFE", operation: "submitSales", first: 500) { edges { node { outcome policyNos } } pageInfo { hasNextPage } } }')).data.transferLog;
    const verified = (await graphql(port2, insurer, '{ verifyTransferLog(insurerCode: "DEMO_LIFE") { valid } }')).data.verifyTransferLog;
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    expect(after - before).toBe(BATCHES * RECORDS);
    expect(logged.pageInfo.hasNextPage).toBe(false);
    const drained = (logged.edges as Array<{ node: { outcome: string; policyNos: string[] } }>).map((e) => e.node).filter((n) => n.policyNos.some((no) => no.startsWith('DRAIN-')));
    expect(drained).toHaveLength(BATCHES);
    expect(drained.every((n) => n.outcome === 'OK' && n.policyNos.length === RECORDS)).toBe(true);
    expect(new Set(drained.flatMap((n) => n.policyNos)).size).toBe(BATCHES * RECORDS);
    expect(verified).toEqual({ valid: true });
  });
});
