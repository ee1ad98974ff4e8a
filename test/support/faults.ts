/**
 * Support for the fault suites (issue 11, item 4): a private MariaDB server
 * that a test may kill with -9, concurrent sales clients that retry a batch
 * with its idempotency key until it is acknowledged, and the book checker
 * that compares what was acknowledged with what the database holds.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { loggedEntries } from './log';
import { salesRecord, SUBMIT_SALES } from './sales';


/** The seed of a run: KEXIN_FAULT_SEED to replay one, else a fresh one (printed by the suites). */
export function faultSeed(): number {
  const given = Number(process.env.KEXIN_FAULT_SEED);
  return Number.isSafeInteger(given) && given > 0 ? given : 1 + Math.floor(Math.random() * 2 ** 31);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitUntil(check: () => Promise<boolean> | boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A free loopback TCP port (asked of the kernel, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';
/** Small InnoDB settings: a kill -9 round restarts (with crash recovery) in well under a second. */
const SMALL = ['--innodb-log-file-size=8M', '--innodb-buffer-pool-size=32M'];

/**
 * A MariaDB server of the test's own: its own data directory, port and
 * socket, never the shared server. The data directory is initialised once
 * and reused across kill -9 rounds (restart on the same directory and port).
 */
export class PrivateMariaDb {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  readonly datadir: string;
  port = 0;
  starts = 0;

  constructor(readonly dir: string) {
    this.datadir = path.join(dir, 'data');
  }

  static available(): boolean {
    return fs.existsSync(MARIADBD) && fs.existsSync(INSTALL_DB);
  }

  /** mariadb-install-db into the data directory and a first start; `database` is created. */
  async init(database: string): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
    const installed = spawnSync(INSTALL_DB, ['--no-defaults', '--user=root', `--datadir=${this.datadir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...SMALL], {
      encoding: 'utf8',
    });
    if (installed.status !== 0) throw new Error(`mariadb-install-db failed (${installed.status}):\n${installed.stdout}\n${installed.stderr}`);
    this.port = await freePort();
    await this.start();
    await this.sql(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  }

  url(database: string): string {
    return `mysql://root@127.0.0.1:${this.port}/${database}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts mariadbd on the data directory (extra flags, e.g. a non-durable setting) and waits until it accepts connections. */
  async start(extra: string[] = []): Promise<void> {
    if (this.child) throw new Error('the private MariaDB is already running');
    const args = [
      '--no-defaults',
      '--user=root',
      `--datadir=${this.datadir}`,
      `--port=${this.port}`,
      `--socket=${path.join(this.dir, 'sock')}`,
      `--pid-file=${path.join(this.dir, 'mariadbd.pid')}`,
      `--log-error=${path.join(this.dir, 'error.log')}`,
      '--bind-address=127.0.0.1',
      '--skip-grant-tables',
      '--skip-log-bin',
      '--max-connections=200',
      ...SMALL,
      ...extra,
    ];
    const child = spawn(MARIADBD, args, { stdio: 'ignore' });
    // Never left behind by a test process that exits without its teardown.
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.off('exit', reap));
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.starts += 1;
    try {
      await waitUntil(async () => {
        if (child.exitCode !== null) throw new Error(`mariadbd exited (${child.exitCode}) at start:\n${this.errorLog().slice(-2000)}`);
        return this.sql('SELECT 1').then(() => true, () => false);
      }, 'the private MariaDB to accept connections');
    } catch (error) {
      await this.kill9();
      throw error;
    }
  }

  /** kill -9 the server and wait until the process is gone. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    child.kill('SIGKILL');
    await this.exited;
  }

  /** Stops the server (kill -9 is enough for a throwaway directory) and removes the directory. */
  async destroy(): Promise<void> {
    await this.kill9();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  errorLog(): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** One statement on a short-lived connection (root, no password: --skip-grant-tables). */
  async sql(statement: string): Promise<unknown[]> {
    const mysql = await import('mysql2/promise');
    const conn = await mysql.createConnection({ host: '127.0.0.1', port: this.port, user: 'root', connectTimeout: 2000 });
    try {
      const [rows] = await conn.query(statement);
      return rows as unknown[];
    } finally {
      await conn.end();
    }
  }
}

/** What a non-acknowledged answer looked like: its HTTP status and GraphQL code (or the network error). */
export interface Failure {
  status: number;
  code: string;
  body: string;
}

export interface Batch {
  key: string;
  policyNos: string[];
  records: unknown[];
  acknowledged: boolean;
  attempts: number;
}

/**
 * `clients` concurrent sales clients of one channel, each submitting batches
 * of `batchSize` records (made-up people, generated once per batch so that a
 * retry is byte-identical) with its own idempotency keys, and retrying a
 * batch with the same key and records until it is acknowledged (HTTP 200,
 * `accepted` = the batch size). Every answer that is not an acknowledgement
 * is kept for the suites to check that it failed cleanly.
 */
export class SalesClients {
  readonly batches: Batch[] = [];
  readonly failures: Failure[] = [];
  private running = false;
  private aborted = false;
  private loops: Promise<void>[] = [];
  private url: () => string;

  constructor(
    private readonly options: { prefix: string; clients: number; batchSize: number; token: string; insurerCode: string; url: () => string; retryMs?: number },
  ) {
    this.url = options.url;
  }

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.options.clients }, (_, c) => this.loop(c));
  }

  /** Lets every client finish (acknowledge) the batch it is on, then stops them. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Gives up at once, batch in doubt or not (a failed test's teardown: no client left retrying). */
  async abort(): Promise<void> {
    this.aborted = true;
    this.running = false;
    await Promise.all(this.loops);
  }

  acknowledged(): Batch[] {
    return this.batches.filter((b) => b.acknowledged);
  }

  /** Resolves once `n` more batches were acknowledged than when called. */
  async moreAcknowledged(n: number, ms = 60_000): Promise<void> {
    const target = this.acknowledged().length + n;
    await waitUntil(() => this.acknowledged().length >= target, `${n} more acknowledged batches`, ms);
  }

  private async loop(client: number): Promise<void> {
    for (let n = 0; this.running; n += 1) {
      const key = `${this.options.prefix}-c${client}-b${n}`;
      const policyNos = Array.from({ length: this.options.batchSize }, (_, r) => `${key}-${r}`.toUpperCase());
      const batch: Batch = { key, policyNos, records: policyNos.map((no) => salesRecord(no)), acknowledged: false, attempts: 0 };
      this.batches.push(batch);
      // A batch once started is retried until acknowledged, even after stop(): no batch is left in doubt.
      while (!batch.acknowledged && !this.aborted) {
        batch.attempts += 1;
        const answer = await this.post(batch);
        if (answer === 'ack') batch.acknowledged = true;
        else {
          this.failures.push(answer);
          await sleep(this.options.retryMs ?? 100);
        }
      }
    }
  }

  private async post(batch: Batch): Promise<'ack' | Failure> {
    let status = 0;
    let body = '';
    try {
      const response = await fetch(`${this.url()}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.token}` },
        body: JSON.stringify({ query: SUBMIT_SALES, variables: { insurerCode: this.options.insurerCode, key: batch.key, records: batch.records } }),
        signal: AbortSignal.timeout(30_000),
      });
      status = response.status;
      body = await response.text();
      const json = JSON.parse(body) as { data?: { submitSales?: { accepted: number } } | null; errors?: Array<{ extensions?: { code?: string } }> };
      if (status === 200 && !json.errors?.length && json.data?.submitSales?.accepted === batch.policyNos.length) return 'ack';
      return { status, code: String(json.errors?.[0]?.extensions?.code ?? 'NO_CODE'), body };
    } catch (error) {
      // The server process is gone (SQLite suite) or the connection was cut: no answer at all.
      return { status, code: `NETWORK:${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name}`, body };
    }
  }
}

/** Leaks a clean error must never show: SQL, driver codes, stack frames, file paths. */
export const LEAK = /\b(SELECT|INSERT|UPDATE|DELETE)\b|\bER_[A-Z_]+|ECONNREFUSED|PROTOCOL_CONNECTION_LOST|SQLITE_|\bat [\w.<>]+ \(|\/src\/|node_modules|\.ts:\d+/;

export interface BookFigures {
  batches: number;
  batchesAcknowledged: number;
  recordsAcknowledged: number;
  /** Acknowledged policies not in the database. */
  lost: number;
  /** Policy numbers of the run stored more than once, or changed after their first write (version ≠ 1). */
  duplicates: number;
  /** Batches with some but not all of their policies, or whose policies, sales_batch row and log entry disagree. */
  partial: number;
  /** Batches applied though never acknowledged (the answer was cut): allowed, counted. */
  appliedUnacknowledged: number;
  lostKeys: string[];
}

/**
 * Compares the batches the clients sent with the insurer's book: every
 * acknowledged policy present exactly once (version 1, written by the batch
 * of its key), every batch either whole (its policies, its sales_batch row
 * and one submitSales log entry naming its id) or absent altogether.
 */
export async function checkBook(db: DataSource, insurerId: string, batches: readonly Batch[]): Promise<BookFigures> {
  const prefixes = [...new Set(batches.map((b) => b.key.split('-c')[0]!))];
  const policies = new Map<string, Array<{ version: number; batchId: string | null }>>();
  for (const prefix of prefixes) {
    const rows = (await db.query(`SELECT policy_no AS no, version, batch_id AS batch FROM policy WHERE insurer_id = ? AND policy_no LIKE ?`, [insurerId, `${prefix.toUpperCase()}-%`])) as Array<{ no: string; version: number; batch: string | null }>;
    for (const row of rows) {
      const list = policies.get(row.no) ?? [];
      list.push({ version: Number(row.version), batchId: row.batch });
      policies.set(row.no, list);
    }
  }
  const stored = (await db.query(`SELECT id, idempotency_key AS k FROM sales_batch WHERE insurer_id = ?`, [insurerId])) as Array<{ id: string; k: string }>;
  const batchIdOf = new Map(stored.map((s) => [s.k, s.id]));
  // The submitSales entries of the chain, with the policy numbers each names (transfer_log_policy).
  const entries = await loggedEntries(db, { where: { insurerId, operation: 'submitSales', outcome: 'OK' } });
  const loggedIn = new Map<string, number[]>();
  for (const e of entries) for (const no of e.policyNos) loggedIn.set(no, [...(loggedIn.get(no) ?? []), e.seq]);

  const figures: BookFigures = { batches: batches.length, batchesAcknowledged: 0, recordsAcknowledged: 0, lost: 0, duplicates: 0, partial: 0, appliedUnacknowledged: 0, lostKeys: [] };
  for (const batch of batches) {
    const found = batch.policyNos.map((no) => policies.get(no) ?? []);
    const present = found.filter((f) => f.length > 0).length;
    figures.duplicates += found.filter((f) => f.length > 1 || f.some((p) => p.version !== 1)).length;
    const batchId = batchIdOf.get(batch.key);
    const seqs = new Set(batch.policyNos.flatMap((no) => loggedIn.get(no) ?? []));
    const onceLogged = seqs.size === 1 && batch.policyNos.every((no) => loggedIn.get(no)?.length === 1);
    const whole = present === batch.policyNos.length && batchId !== undefined && onceLogged && found.every((f) => f.every((p) => p.batchId === batchId));
    const absent = present === 0 && batchId === undefined && seqs.size === 0;
    if (!whole && !absent) figures.partial += 1;
    if (batch.acknowledged) {
      figures.batchesAcknowledged += 1;
      figures.recordsAcknowledged += batch.policyNos.length;
      const missing = found.filter((f) => f.length === 0).length;
      figures.lost += missing;
      if (missing > 0) figures.lostKeys.push(batch.key);
    } else if (present > 0) {
      figures.appliedUnacknowledged += 1;
    }
  }
  return figures;
}

/** The insurer's chain as verifyTransferLog answers it over HTTP. */
export async function verifyChain(url: string, token: string, insurerCode: string): Promise<{ valid: boolean; checked: number; reason: string | null }> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: 'query($c: String!) { verifyTransferLog(insurerCode: $c) { valid checked reason } }', variables: { c: insurerCode } }),
  });
  const json = (await response.json()) as { data?: { verifyTransferLog: { valid: boolean; checked: number; reason: string | null } }; errors?: unknown };
  if (!json.data) throw new Error(`verifyTransferLog failed: ${JSON.stringify(json.errors)}`);
  return json.data.verifyTransferLog;
}

/** The built entry point (`npm test` builds it first). */
export const MAIN = path.join(__dirname, '..', '..', 'dist', 'src', 'main.js');

/**
 * Kexin as a user runs it (`node dist/src/main.js`), to be killed: each
 * start is a new process on the same environment (database, port).
 */
export class KexinProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);
  private text = '';
  starts = 0;

  constructor(private readonly env: Record<string, string>) {}

  /** The output of the current (or last) process. */
  output(): string {
    return this.text;
  }

  /** Starts the server and waits for its "kexin listening" line; the port it listens on. */
  async start(): Promise<number> {
    if (this.child) throw new Error('Kexin is already running');
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` (npm test does it first)`);
    this.text = '';
    const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.starts += 1;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.stdout!.on('data', (d) => (this.text += String(d)));
    child.stderr!.on('data', (d) => (this.text += String(d)));
    try {
      await waitUntil(() => {
        if (child.exitCode !== null) throw new Error(`Kexin exited (${child.exitCode}) at start:\n${this.text}`);
        return /"msg":"kexin listening"/.test(this.text);
      }, 'Kexin to listen');
    } catch (error) {
      await this.kill('SIGKILL');
      throw error;
    }
    return Number(/"port":(\d+)/.exec(this.text)?.[1]);
  }

  /** Sends `signal` (SIGKILL: no drain, no close) and waits for the process to be gone; its exit code. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const child = this.child;
    if (!child) return null;
    this.child = null;
    child.kill(signal);
    return this.exited;
  }
}
