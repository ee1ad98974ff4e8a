/**
 * `npm run bench`: Kexin against yardsticks measured in the same run, as
 * ratios (these machines are shared and noisy: every measure alternates the
 * yardstick and Kexin round by round and quotes the median of the per-round
 * ratios). Results go to bench-results/<timestamp>.json (git-ignored) and a
 * printed table; the last line lists every ratio with its target and
 * PASS/MISS, and the exit code is 1 when one misses.
 *
 * Measures (issue 10):
 * - point read `policy(insurerCode, policyNo)` by a partner (masked) and by the
 *   insurer (full), 50 connections, vs bare Apollo of the same shape;
 * - list page `policies(first: 50)`, same yardstick;
 * - ingest over HTTP, full batches, 2 concurrent clients, vs raw multi-row
 *   INSERTs of the same rows into the same tables (one transaction per batch);
 * - completeness at scale: BENCH_SCALE policies of one insurer in 20 channels,
 *   completenessSummary per dimension and with a date range vs a covering-index
 *   GROUP BY over a narrow integer reference table; the missing-field page vs
 *   an index seek LIMIT 51 on the reference;
 * - verify-log of BENCH_LOG_ENTRIES entries: entries/s and peak RSS.
 *
 * Settings (environment): KEXIN_TEST_DB=mysql + TEST_MYSQL_URL (MariaDB; the
 * targets are MariaDB's; without it the bench runs on SQLite and says so),
 * BENCH_ONLY=read,ingest,scale,verify (default all), BENCH_ROUNDS (5),
 * BENCH_SECONDS per load round (4), BENCH_CONNECTIONS (50), BENCH_SCALE
 * (1000000), BENCH_SCALE_DB (kexin_bench_scale: the scale book's own
 * database on the TEST_MYSQL_URL server, kept and reused), BENCH_LOG_ENTRIES
 * (1000000), BENCH_INGEST_BATCHES per client and round (3),
 * BENCH_CPU_PROF=<dir> (a CPU profile of this process, the server under
 * test, during each read case's first Kexin round, as <dir>/<case>.cpuprofile), BENCH_LOG_LEVEL
 * (info: the server's request lines, written to /dev/null; silent to measure without them).
 */
import 'reflect-metadata';
import { fork } from 'node:child_process';
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createLogger } from '../../src/logger';
import { MAX_BATCH_RECORDS } from '../../src/modules/sales/sales.validation';
import { startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty } from '../support/factories';
import { postGraphqlOk } from '../support/http';
import { recordStatements } from '../support/sql';
import type { LoadJob, LoadResult } from './load-worker';
import { benchRecord } from './records';
import { startYardstick } from './yardstick';
import { measureScale, openScaleBook } from './scale';
import { measureVerifyLog } from './verify-log';
import { rawIngest } from './raw-ingest';
import { median, passes, type Verdict } from './verdict';

const env = process.env;
const ONLY = new Set((env.BENCH_ONLY ?? 'read,ingest,scale,verify').split(',').map((s) => s.trim()));
const ROUNDS = Number(env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(env.BENCH_SECONDS ?? 4);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 50);
const SCALE = Number(env.BENCH_SCALE ?? 1_000_000);
const SCALE_DB = env.BENCH_SCALE_DB ?? 'kexin_bench_scale';
const LOG_ENTRIES = Number(env.BENCH_LOG_ENTRIES ?? 1_000_000);
const INGEST_BATCHES = Number(env.BENCH_INGEST_BATCHES ?? 3);
const READ_POLICIES = 2_000;
const CPU_PROF_DIR = env.BENCH_CPU_PROF ?? null;

const POLICY_FIELDS = `policyNo productCode completeness { status missing } channel { code name }
  policyholder { id name idNumber phone address } insured { id name idNumber phone address }
  beneficiaries { order sharePercent person { id name idNumber phone address } }`;
const POINT_READ = `query($insurerCode: String!, $policyNo: String!) { policy(insurerCode: $insurerCode, policyNo: $policyNo) { ${POLICY_FIELDS} } }`;
const LIST_PAGE = `query($first: Int) { policies(first: $first) { pageInfo { hasNextPage endCursor } edges { cursor node { ${POLICY_FIELDS} } } } }`;

/** Runs autocannon in a child process (its CPU is not the server's) and returns what it measured. */
function load(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'load-worker.js'), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (message: { ok: boolean; result?: LoadResult; error?: string }) => (message.ok ? resolve(message.result!) : reject(new Error(message.error))));
    child.once('error', reject);
    child.send(job);
  });
}

/**
 * CPU time (ms) the local MariaDB/MySQL server has used so far (utime +
 * stime of its mariadbd/mysqld process, from /proc), or null when no such
 * process runs on this machine: the server shares the cores with Kexin, so
 * its CPU per request is part of what a request costs.
 */
function databaseCpuMs(): number | null {
  if (TEST_DB !== 'mysql' || !fs.existsSync('/proc')) return null;
  const ticks = 100; // USER_HZ on Linux
  let total: number | null = null;
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (!/^(mariadbd|mysqld)$/.test(fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim())) continue;
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      total = (total ?? 0) + ((Number(fields[11]) + Number(fields[12])) * 1000) / ticks;
    } catch {
      // the process ended while being read
    }
  }
  return total;
}

/** CPU time (ms) this process spent while `work` ran. */
async function cpuOf<T>(work: () => Promise<T>): Promise<{ result: T; cpuMs: number }> {
  const before = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(before);
  return { result, cpuMs: (used.user + used.system) / 1000 };
}

/**
 * Waits (up to 5 s) until this process is quiet: requests still queued when
 * a load round ends keep running after their client has gone (the server's
 * in-flight count drops when the socket closes), and would otherwise run
 * into the next round (the yardstick's, which they would slow) or into the
 * shutdown, which closes the pool under them.
 */
async function settled(): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const start = performance.eventLoopUtilization();
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (performance.eventLoopUtilization(start).utilization < 0.1) return;
  }
}

/** `work` under the V8 CPU profiler, written to CPU_PROF_DIR/<name>.cpuprofile (only `work` when no directory is set). */
async function profiled<T>(name: string, work: () => Promise<T>): Promise<T> {
  if (!CPU_PROF_DIR) return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    fs.mkdirSync(CPU_PROF_DIR, { recursive: true });
    fs.writeFileSync(path.join(CPU_PROF_DIR, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

/** SQL statements one HTTP request sends (counted through the data source's logger). */
async function statementsOf(app: TestApp, baseUrl: string, token: string, query: string, variables: Record<string, unknown>): Promise<number> {
  await postGraphqlOk(baseUrl, token, query, variables); // warm caches and loaders the same way a steady state would
  const recorder = recordStatements(app.db);
  try {
    await postGraphqlOk(baseUrl, token, query, variables);
    return recorder.statements.filter((s) => !/^(START TRANSACTION|BEGIN|COMMIT|ROLLBACK)/i.test(s.trim())).length;
  } finally {
    recorder.restore();
  }
}

async function measureReads(app: TestApp, report: Record<string, unknown>, verdicts: Verdict[]): Promise<void> {
  const insurer = await createParty(app, 'INSURER', ['ADMIN', 'COMPLIANCE']);
  const bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES'], { attested: true });
  await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['SUBMIT_SALES', 'READ_POLICIES'], proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN });
  const ctx = await app.server.contextFor(bank.keys.SALES);
  for (let b = 0; b * MAX_BATCH_RECORDS < READ_POLICIES; b += 1) {
    const records = Array.from({ length: Math.min(MAX_BATCH_RECORDS, READ_POLICIES - b * MAX_BATCH_RECORDS) }, (_, i) => benchRecord('READ', b * MAX_BATCH_RECORDS + i, 10_000_000));
    await app.services.sales.submit(ctx, insurer.code, `bench-read-${b}`, records as never);
  }
  const baseUrl = await app.url();
  const url = `${baseUrl}/graphql`;
  const yard = await startYardstick();
  try {
    const pointBodies = Array.from({ length: READ_POLICIES }, (_, i) => JSON.stringify({ query: POINT_READ, variables: { insurerCode: insurer.code, policyNo: `READ-${i}` } }));
    const listBody = [JSON.stringify({ query: LIST_PAGE, variables: { first: 50 } })];
    const cases = {
      pointPartner: { url, token: bank.keys.SALES, bodies: pointBodies },
      pointInsurer: { url, token: insurer.keys.COMPLIANCE, bodies: pointBodies },
      list: { url, token: bank.keys.SALES, bodies: listBody },
    } as const;
    const statements = {
      pointPartner: await statementsOf(app, baseUrl, bank.keys.SALES, POINT_READ, { insurerCode: insurer.code, policyNo: 'READ-1' }),
      pointInsurer: await statementsOf(app, baseUrl, insurer.keys.COMPLIANCE, POINT_READ, { insurerCode: insurer.code, policyNo: 'READ-1' }),
      list: await statementsOf(app, baseUrl, bank.keys.SALES, LIST_PAGE, { first: 50 }),
      list10: await statementsOf(app, baseUrl, bank.keys.SALES, LIST_PAGE, { first: 10 }),
    };
    const rounds: Array<Record<string, { rps: number; p50: number; p99: number; cpuMsPerRequest: number; dbCpuMsPerRequest: number | null; yardCpuMsPerRequest: number; yardRps: number; failures: number }>> = [];
    for (let r = 0; r < ROUNDS; r += 1) {
      const round: (typeof rounds)[number] = {};
      for (const [name, c] of Object.entries(cases)) {
        const yardBodies = name === 'list' ? listBody : pointBodies.slice(0, 50);
        const { result: yardResult, cpuMs: yardCpuMs } = await cpuOf(() => load({ url: yard.url, connections: CONNECTIONS, durationSeconds: SECONDS, headers: {}, bodies: yardBodies }));
        const kexin = () => load({ url: c.url, connections: CONNECTIONS, durationSeconds: SECONDS, headers: { authorization: `Bearer ${c.token}` }, bodies: [...c.bodies] });
        const dbBefore = databaseCpuMs();
        const { result, cpuMs } = await cpuOf(() => (r === 0 ? profiled(name, kexin) : kexin()));
        const dbAfter = databaseCpuMs();
        await settled();
        const dbCpuMsPerRequest = dbBefore === null || dbAfter === null ? null : (dbAfter - dbBefore) / Math.max(1, result.total);
        round[name] = { rps: result.requestsPerSecond, p50: result.p50Ms, p99: result.p99Ms, cpuMsPerRequest: cpuMs / Math.max(1, result.total), dbCpuMsPerRequest, yardCpuMsPerRequest: yardCpuMs / Math.max(1, yardResult.total), yardRps: yardResult.requestsPerSecond, failures: result.non2xx + result.errors + result.timeouts };
      }
      rounds.push(round);
      process.stdout.write(`  read round ${r + 1}/${ROUNDS}: ${Object.entries(round).map(([n, v]) => `${n} ${v.rps.toFixed(0)}/${v.yardRps.toFixed(0)} req/s (${v.cpuMsPerRequest.toFixed(2)}/${v.yardCpuMsPerRequest.toFixed(2)} ms CPU${v.dbCpuMsPerRequest === null ? '' : `, DB ${v.dbCpuMsPerRequest.toFixed(2)} ms`})`).join(', ')}\n`);
    }
    const summary: Record<string, unknown> = {};
    for (const name of Object.keys(cases)) {
      const of = (pick: (v: (typeof rounds)[number][string]) => number) => median(rounds.map((round) => pick(round[name]!)));
      const entry = { ratio: of((v) => v.rps / v.yardRps), rps: of((v) => v.rps), yardstickRps: of((v) => v.yardRps), p50Ms: of((v) => v.p50), p99Ms: of((v) => v.p99), cpuMsPerRequest: of((v) => v.cpuMsPerRequest), dbCpuMsPerRequest: rounds.every((round) => round[name]!.dbCpuMsPerRequest !== null) ? of((v) => v.dbCpuMsPerRequest!) : null, yardstickCpuMsPerRequest: of((v) => v.yardCpuMsPerRequest), cpuRatio: of((v) => v.yardCpuMsPerRequest / v.cpuMsPerRequest), failures: rounds.reduce((n, round) => n + round[name]!.failures, 0), statements: statements[name as keyof typeof statements] };
      summary[name] = entry;
      if (name === 'list') {
        verdicts.push({ measure: 'list page ratio', value: entry.ratio, target: 0.06, kind: 'min' });
        verdicts.push({ measure: 'list page statements', value: entry.statements, target: 5, kind: 'max' });
        verdicts.push({ measure: 'list page statements constant in page size (50 vs 10)', value: statements.list - statements.list10, target: 0, kind: 'max' });
      } else {
        const who = name === 'pointPartner' ? 'partner' : 'insurer';
        verdicts.push({ measure: `point read ratio (${who})`, value: entry.ratio, target: 0.3, kind: 'min' });
        verdicts.push({ measure: `point read p99 (${who})`, value: entry.p99Ms, target: 50, kind: 'max', unit: 'ms' });
        verdicts.push({ measure: `point read statements (${who})`, value: entry.statements, target: 3, kind: 'max' });
      }
      if (entry.failures > 0) verdicts.push({ measure: `${name} failed requests`, value: entry.failures, target: 0, kind: 'max' });
    }
    report.reads = { rounds, summary };
  } finally {
    await yard.stop();
  }
}

async function measureIngest(app: TestApp, report: Record<string, unknown>, verdicts: Verdict[]): Promise<void> {
  const insurer = await createParty(app, 'INSURER', ['ADMIN']);
  const banks = [await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES'], { attested: true }), await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES'], { attested: true })];
  for (const bank of banks) {
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['SUBMIT_SALES'], proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN });
  }
  const rawInsurer = await createParty(app, 'INSURER', ['ADMIN']);
  const baseUrl = await app.url();
  const mutation = `mutation($insurerCode: String!, $key: String!, $records: [SalesRecordInput!]!) { submitSales(insurerCode: $insurerCode, idempotencyKey: $key, records: $records) { accepted rejected } }`;
  let person = 20_000_000;
  const rounds: Array<{ kexinPerSecond: number; rawPerSecond: number; cpuUsPerPolicy: number; accepted: number }> = [];
  for (let r = 0; r < ROUNDS; r += 1) {
    const batches = banks.map((_, c) =>
      Array.from({ length: INGEST_BATCHES }, (_, b) => {
        const records = Array.from({ length: MAX_BATCH_RECORDS }, (_, i) => benchRecord(`ING-${r}-${c}-${b}`, i, person));
        person += 3 * MAX_BATCH_RECORDS;
        return records;
      }),
    );
    const total = batches.flat().reduce((n, batch) => n + batch.length, 0);
    const rawStarted = performance.now();
    await Promise.all(batches.map((clientBatches, c) => rawIngest(app, rawInsurer.id, banks[c]!.id, clientBatches, `RAW-${r}-${c}`)));
    const rawMs = performance.now() - rawStarted;
    let accepted = 0;
    const started = performance.now();
    const { cpuMs } = await cpuOf(() =>
      Promise.all(
        batches.map(async (clientBatches, c) => {
          for (const [b, records] of clientBatches.entries()) {
            const json = await postGraphqlOk(baseUrl, banks[c]!.keys.SALES, mutation, { insurerCode: insurer.code, key: `bench-ingest-${r}-${c}-${b}`, records });
            accepted += json.data.submitSales.accepted;
          }
        }),
      ),
    );
    const ms = performance.now() - started;
    rounds.push({ kexinPerSecond: (total / ms) * 1000, rawPerSecond: (total / rawMs) * 1000, cpuUsPerPolicy: (cpuMs * 1000) / total, accepted });
    process.stdout.write(`  ingest round ${r + 1}/${ROUNDS}: Kexin ${rounds.at(-1)!.kexinPerSecond.toFixed(0)} policies/s, raw ${rounds.at(-1)!.rawPerSecond.toFixed(0)} policies/s\n`);
  }
  const ratio = median(rounds.map((x) => x.kexinPerSecond / x.rawPerSecond));
  report.ingest = { batchRecords: MAX_BATCH_RECORDS, clients: banks.length, rounds, ratio, kexinPerSecond: median(rounds.map((x) => x.kexinPerSecond)), rawPerSecond: median(rounds.map((x) => x.rawPerSecond)), cpuUsPerPolicy: median(rounds.map((x) => x.cpuUsPerPolicy)) };
  verdicts.push({ measure: `ingest ratio (batches of ${MAX_BATCH_RECORDS}, 2 clients)`, value: ratio, target: 0.5, kind: 'min' });
  verdicts.push({ measure: 'ingest batch size', value: MAX_BATCH_RECORDS, target: 1000, kind: 'min', unit: 'records' });
}

function printVerdicts(verdicts: Verdict[]): boolean {
  const pass = passes;
  const fmt = (n: number) => (Math.abs(n) >= 100 || Number.isInteger(n) ? n.toFixed(0) : n.toFixed(3));
  process.stdout.write('\n measure'.padEnd(64) + 'value'.padStart(12) + '  target\n');
  for (const v of verdicts) {
    process.stdout.write(` ${v.measure.padEnd(62)}${(fmt(v.value) + (v.unit ? ' ' + v.unit : '')).padStart(12)}  ${v.kind === 'min' ? '>=' : '<='} ${fmt(v.target)}  ${pass(v) ? 'PASS' : 'MISS'}\n`);
  }
  const ok = verdicts.every(pass);
  process.stdout.write(`bench: ${verdicts.map((v) => `${v.measure} ${fmt(v.value)} (${v.kind === 'min' ? '>=' : '<='}${fmt(v.target)}) ${pass(v) ? 'PASS' : 'MISS'}`).join('; ')}\n`);
  return ok;
}

async function main(): Promise<void> {
  if (TEST_DB !== 'mysql') process.stdout.write('NOTE: KEXIN_TEST_DB=mysql with TEST_MYSQL_URL is not set: running on SQLite; the targets are MariaDB\'s.\n');
  const report: Record<string, unknown> = { startedAt: new Date().toISOString(), database: TEST_DB, host: { cpus: os.cpus().length, node: process.version }, settings: { ROUNDS, SECONDS, CONNECTIONS, SCALE, LOG_ENTRIES, INGEST_BATCHES } };
  const verdicts: Verdict[] = [];
  // What `npm start` runs in the image (docker/Dockerfile): NODE_ENV=production (no introspection, no
  // landing page, suggestions stripped) and the default log level, not the tests' silent one: every
  // request's line (issue 12) is serialised and written, synchronously, to /dev/null instead of this report.
  const log = createLogger(process.env.BENCH_LOG_LEVEL ?? 'info', pino.destination({ dest: '/dev/null', sync: true }));
  const app = await startTestApp({ NODE_ENV: 'production', LOG_LEVEL: 'info' }, undefined, { log });
  try {
    if (ONLY.has('read')) {
      process.stdout.write(`== reads: point read and list page, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS} s each side\n`);
      await measureReads(app, report, verdicts);
    }
    if (ONLY.has('ingest')) {
      process.stdout.write(`== ingest: 2 clients over HTTP, ${INGEST_BATCHES} batches of ${MAX_BATCH_RECORDS} each per round\n`);
      await measureIngest(app, report, verdicts);
    }
    if (ONLY.has('scale')) {
      process.stdout.write(`== completeness at scale: ${SCALE} policies in 20 channels\n`);
      const book = await openScaleBook(SCALE_DB, SCALE);
      try {
        report.scale = await measureScale(book, ROUNDS, verdicts);
      } finally {
        await book?.app.close();
      }
    }
    if (ONLY.has('verify')) {
      process.stdout.write(`== verify-log: ${LOG_ENTRIES} entries\n`);
      report.verifyLog = await measureVerifyLog(app, LOG_ENTRIES, verdicts);
    }
  } finally {
    await app.close();
  }
  report.verdicts = verdicts;
  const dir = path.resolve(__dirname, '..', '..', '..', 'bench-results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${TEST_DB}.json`);
  fs.writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(`\nresults: ${path.relative(process.cwd(), file)}\n`);
  process.exitCode = printVerdicts(verdicts) ? 0 : 1;
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});

