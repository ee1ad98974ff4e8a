/**
 * Log verification at scale: a chain of `entries` valid entries written in
 * bulk (hashes computed with the domain's own entryHash, so the verifier has
 * real work), then `verify-log` run as a user runs it (the compiled CLI in
 * a child process), timed, with the child's peak RSS against a fixed
 * ceiling. Memory must stay flat (the chain is streamed): a second run with
 * V8's heap capped at {@link HEAP_CAP_MB} MB must complete.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newId } from '../../src/db/ids';
import { entryHash, GENESIS_HASH } from '../../src/domain/hash-chain';
import { changeDigest } from '../../src/modules/transfer-log/transfer-log.chain';
import type { TestApp } from '../support/app';
import { createParty } from '../support/factories';
import type { Verdict } from './verdict';

const CHUNK = 2_000;
/** Peak RSS allowed for the CLI whatever the chain's length (MB): streaming keeps it near a bare process. */
const RSS_CEILING_MB = 300;
/** V8 old-space cap of the flatness run (MB). */
const HEAP_CAP_MB = 48;

async function writeChain(app: TestApp, insurerId: string, actorId: string, entries: number): Promise<void> {
  const sqlite = app.config.database.type === 'sqlite';
  const quote = (n: string) => (sqlite ? `"${n}"` : `\`${n}\``);
  const stamp = (d: Date) => (sqlite ? d.toISOString().replace('T', ' ').replace('Z', '') : d);
  const insert = async (table: string, rows: Array<Record<string, unknown>>) => {
    const columns = Object.keys(rows[0]!);
    const per = sqlite ? Math.floor(999 / columns.length) : rows.length;
    for (let i = 0; i < rows.length; i += per) {
      const part = rows.slice(i, i + per);
      await app.db.query(`INSERT INTO ${quote(table)} (${columns.map(quote).join(',')}) VALUES ${part.map(() => `(${columns.map(() => '?').join(',')})`).join(',')}`, part.flatMap((r) => columns.map((c) => r[c])));
    }
  };
  // The party's own set-up (its principals) is already on its chain: continue from its head.
  const [head] = (await app.db.query(`SELECT seq, hash FROM ${quote('transfer_log_head')} WHERE insurer_id = ?`, [insurerId])) as Array<{ seq: number | string; hash: string }>;
  const first = head ? Number(head.seq) + 1 : 1;
  const last = first + entries - 1;
  let prev = head ? head.hash : GENESIS_HASH;
  const started = Date.now() - entries;
  for (let from = first; from <= last; from += CHUNK) {
    const rows: Array<Record<string, unknown>> = [];
    const index: Array<Record<string, unknown>> = [];
    for (let seq = from; seq < Math.min(from + CHUNK, last + 1); seq += 1) {
      const policyNo = `LOG-${seq}`;
      const content = { id: newId(), seq, insurerId, at: new Date(started + seq), operation: 'submitSales', outcome: 'OK', errorCode: null, actorPrincipalId: actorId, actorOrganizationId: insurerId, counterpartyId: insurerId, agreementId: null, policyNos: [policyNo], fields: [], digest: changeDigest({ seq }) };
      const hash = entryHash(prev, content);
      rows.push({ id: content.id, insurer_id: insurerId, seq, at: stamp(content.at), operation: content.operation, outcome: 'OK', error_code: null, actor_principal_id: actorId, actor_organization_id: insurerId, counterparty_id: insurerId, agreement_id: null, fields: '[]', digest: content.digest, prev_hash: prev, hash });
      index.push({ insurer_id: insurerId, policy_no: policyNo, seq, ord: 0 });
      prev = hash;
    }
    await insert('transfer_log', rows);
    await insert('transfer_log_policy', index);
    if (from === first || Math.floor((from - first) / CHUNK) % 100 === 0) process.stdout.write(`  chain: ${Math.min(from + CHUNK - 1, last) - first + 1}/${entries} entries written\n`);
  }
  const now = stamp(new Date());
  await app.db.query(`DELETE FROM ${quote('transfer_log_head')} WHERE insurer_id = ?`, [insurerId]);
  await app.db.query(`INSERT INTO ${quote('transfer_log_head')} (insurer_id, seq, hash, updated_at) VALUES (?, ?, ?, ?)`, [insurerId, last, prev, now]);
}

/** Runs the compiled verify-log CLI against the bench database; returns wall time and peak RSS. */
function runCli(app: TestApp, insurerCode: string, nodeOptions: string[] = []): Promise<{ ms: number; maxRssMb: number; exitCode: number | null; output: string }> {
  const dist = path.resolve(__dirname, '..', '..', 'src', 'cli', 'verify-log.js');
  const preload = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kexin-bench-')), 'rss.js');
  fs.writeFileSync(preload, "process.on('exit', () => process.stderr.write('BENCH_MAX_RSS_KB=' + process.resourceUsage().maxRSS + '\\n'));\n");
  const url = app.config.database.type === 'mysql' ? app.config.database.url : null;
  if (!url) throw new Error('verify-log bench needs a database the CLI can open: run it on MySQL');
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeOptions, '-r', preload, dist, '--insurer', insurerCode], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: url, KEXIN_DATA_KEY: app.config.dataKey!.toString('base64'), LOG_LEVEL: 'silent', KEXIN_MIGRATE: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (exitCode) => {
      const rss = /BENCH_MAX_RSS_KB=(\d+)/.exec(output);
      resolve({ ms: performance.now() - started, maxRssMb: rss ? Number(rss[1]) / 1024 : NaN, exitCode, output: output.replace(/BENCH_MAX_RSS_KB=\d+\n?/, '') });
    });
  });
}

export async function measureVerifyLog(app: TestApp, entries: number, verdicts: Verdict[]): Promise<Record<string, unknown> | null> {
  if (app.config.database.type !== 'mysql') {
    process.stdout.write('  skipped: the verify-log measure runs on MariaDB/MySQL only (the CLI opens the database itself)\n');
    return null;
  }
  const insurer = await createParty(app, 'INSURER', ['ADMIN']);
  const started = performance.now();
  await writeChain(app, insurer.id, insurer.principalIds.ADMIN, entries);
  const writeMs = performance.now() - started;
  const run = await runCli(app, insurer.code);
  if (run.exitCode !== 0) throw new Error(`verify-log exited ${run.exitCode}: ${run.output.slice(0, 500)}`);
  // Flat memory, proven: the same chain again with V8's heap capped far below what holding it would take
  // (a million entries with their hashes are hundreds of MB in V8). A verifier that kept the chain dies of
  // an out-of-memory error here; a streaming one only collects garbage more often. RSS compared with a tiny
  // chain's is no proof either way (V8 grows its heap lazily up to the default cap).
  const capped = await runCli(app, insurer.code, [`--max-old-space-size=${HEAP_CAP_MB}`]);
  const perSecond = (entries / run.ms) * 1000;
  process.stdout.write(`  verify-log: ${entries} entries in ${(run.ms / 1000).toFixed(1)} s (${Math.round(perSecond)} entries/s), peak RSS ${run.maxRssMb.toFixed(0)} MB; with the heap capped at ${HEAP_CAP_MB} MB: exit ${capped.exitCode}, ${(capped.ms / 1000).toFixed(1)} s, peak RSS ${capped.maxRssMb.toFixed(0)} MB\n`);
  verdicts.push({ measure: `verify-log peak RSS at ${entries} entries`, value: run.maxRssMb, target: RSS_CEILING_MB, kind: 'max', unit: 'MB' });
  verdicts.push({ measure: `verify-log of ${entries} entries under a ${HEAP_CAP_MB} MB heap: failures`, value: capped.exitCode === 0 ? 0 : 1, target: 0, kind: 'max' });
  return { entries, writeMs, verifyMs: run.ms, entriesPerSecond: perSecond, maxRssMb: run.maxRssMb, cappedHeapMb: HEAP_CAP_MB, cappedExitCode: capped.exitCode, cappedMaxRssMb: capped.maxRssMb, cappedMs: capped.ms };
}
