import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, TEST_DB, type TestDatabase } from '../support/db';

/**
 * The real entry point as a user runs it (`node dist/src/main.js`, built by
 * `npm test` first): configuration errors, demo seeding, the printed keys,
 * /health, a demo principal's `me`, and a graceful SIGTERM.
 */
const MAIN = path.join(__dirname, '..', '..', 'dist', 'src', 'main.js');

function start(env: Record<string, string>, cwd: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let output = '';
  const child = spawn(process.execPath, [MAIN], { cwd, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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

describe(`the server process (${TEST_DB})`, () => {
  let dir: string;
  let database: TestDatabase | null = null;
  beforeAll(() => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` (npm test does it first)`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kexin-proc-'));
  });
  afterAll(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await database?.drop();
  });

  it('a bad DATABASE_URL names the problem and exits non-zero', async () => {
    const proc = start({ DATABASE_URL: 'postgres://nope/db' }, dir);
    expect(await proc.exited).not.toBe(0);
    expect(proc.output()).toMatch(/DATABASE_URL must start with mysql:\/\/ or sqlite:/);
  });

  it('starts with demo data, prints the keys once, answers /health and me, and stops cleanly on SIGTERM', async () => {
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

    const line = proc.output().split('\n').find((l) => /DEMO_BANK\s+demo-bank-sales/.test(l));
    const key = line?.trim().split(/\s+/).pop();
    expect(key).toMatch(/^kx_/);
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: '{ me { name organization { code kind } } }' }),
    });
    expect(await response.json()).toEqual({ data: { me: { name: 'demo-bank-sales', organization: { code: 'DEMO_BANK', kind: 'BANK_CHANNEL' } } } });
    expect(proc.output()).toMatch(/Bootstrap admin token/);

    proc.child.kill('SIGTERM');
    // The whole output in the assertion, so that a failed shutdown explains itself.
    expect({ exitCode: await proc.exited, output: proc.output() }).toEqual({ exitCode: 0, output: expect.stringMatching(/shutting down/) });

    // A second start on the same database prints no keys again.
    const again = start(env, dir);
    await waitFor(() => /"msg":"kexin listening"/.test(again.output()), 'the second start');
    expect(again.output()).not.toMatch(/kx_/);
    again.child.kill('SIGTERM');
    expect({ exitCode: await again.exited, output: again.output() }).toEqual({ exitCode: 0, output: expect.any(String) });
  });
});
