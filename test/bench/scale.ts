/**
 * Completeness at scale (MariaDB/MySQL): one insurer's book of `size`
 * policies in 20 bank channels, loaded through the service's own batch writer
 * (SalesService.submit: the same checks, rows and log entries as submitSales,
 * without HTTP), then completenessSummary per dimension and with a date range,
 * and the missing-field page, each against a narrow integer reference table
 * holding the same rows (insurer, channel, product, month, status; and
 * insurer, field, id for the missing fields) read through covering indexes.
 */
import { MAX_BATCH_RECORDS } from '../../src/modules/sales/sales.validation';
import type { TestApp } from '../support/app';
import { createAgreement, createParty } from '../support/factories';
import { postGraphqlOk } from '../support/http';
import { benchRecord } from './records';
import { median, type Verdict } from './verdict';

const CHANNELS = 20;

export interface ScaleBook {
  insurerCode: string;
  insurerId: string;
  adminKey: string;
  size: number;
}

/** Loads the book; prints progress every ~5%. */
export async function loadScaleBook(app: TestApp, size: number): Promise<ScaleBook | null> {
  if (app.config.database.type !== 'mysql') {
    process.stdout.write('  skipped: the scale measure runs on MariaDB/MySQL only\n');
    return null;
  }
  const insurer = await createParty(app, 'INSURER', ['ADMIN']);
  const channels = [];
  for (let c = 0; c < CHANNELS; c += 1) {
    const bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES'], { attested: true });
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['SUBMIT_SALES'], proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN });
    channels.push({ bank, ctx: await app.server.contextFor(bank.keys.SALES) });
  }
  const started = performance.now();
  let loaded = 0;
  let nextReport = size / 20;
  for (let b = 0; loaded < size; b += 1) {
    const c = b % CHANNELS;
    const count = Math.min(MAX_BATCH_RECORDS, size - loaded);
    const records = Array.from({ length: count }, (_, i) => benchRecord(`S${c}`, Math.floor(b / CHANNELS) * MAX_BATCH_RECORDS + i, 100_000_000 + 3 * (loaded + i)));
    await app.services.sales.submit(channels[c]!.ctx, insurer.code, `scale-${b}`, records as never);
    loaded += count;
    if (loaded >= nextReport) {
      const seconds = (performance.now() - started) / 1000;
      process.stdout.write(`  loaded ${loaded}/${size} (${Math.round(loaded / seconds)} policies/s, ETA ${Math.round((size - loaded) / (loaded / seconds))} s)\n`);
      nextReport += size / 20;
    }
  }
  await buildReference(app, insurer.id);
  return { insurerCode: insurer.code, insurerId: insurer.id, adminKey: insurer.keys.ADMIN, size };
}

/** The reference: integer codes, covering indexes, the same rows. */
async function buildReference(app: TestApp, insurerId: string): Promise<void> {
  const q = (sql: string, params: unknown[] = []) => app.db.query(sql, params);
  await q('DROP TABLE IF EXISTS bench_ref, bench_ref_missing, bench_code');
  await q('CREATE TABLE bench_code (kind TINYINT NOT NULL, value VARCHAR(64) NOT NULL, n INT NOT NULL AUTO_INCREMENT, PRIMARY KEY (n), UNIQUE KEY (kind, value))');
  await q('INSERT INTO bench_code (kind, value) SELECT DISTINCT 1, COALESCE(channel_id, \'\') FROM policy WHERE insurer_id = ?', [insurerId]);
  await q('INSERT INTO bench_code (kind, value) SELECT DISTINCT 2, product_code FROM policy WHERE insurer_id = ?', [insurerId]);
  await q(`CREATE TABLE bench_ref (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, insurer INT NOT NULL, channel INT NOT NULL, product INT NOT NULL, month INT NOT NULL, status TINYINT NOT NULL, policy_id VARCHAR(36) NOT NULL,
    KEY ix_channel (insurer, channel, month, status), KEY ix_product (insurer, product, month, status), KEY ix_month (insurer, month, status))`);
  await q(`INSERT INTO bench_ref (insurer, channel, product, month, status, policy_id)
    SELECT 1, c.n, p2.n, YEAR(p.application_date) * 100 + MONTH(p.application_date), CASE p.completeness WHEN 'COMPLETE' THEN 0 WHEN 'INCOMPLETE' THEN 1 ELSE 2 END, p.id
    FROM policy p JOIN bench_code c ON c.kind = 1 AND c.value = COALESCE(p.channel_id, '') JOIN bench_code p2 ON p2.kind = 2 AND p2.value = p.product_code
    WHERE p.insurer_id = ? ORDER BY p.id`, [insurerId]);
  await q('CREATE TABLE bench_ref_missing (insurer INT NOT NULL, field SMALLINT NOT NULL, id BIGINT NOT NULL, PRIMARY KEY (insurer, field, id))');
  await q(`INSERT INTO bench_ref_missing (insurer, field, id) SELECT 1, 1, r.id FROM policy_missing_field m JOIN bench_ref r ON r.policy_id = m.policy_id
    WHERE m.insurer_id = ? AND m.field = 'policyholder.phone'`, [insurerId]);
  await q('ANALYZE TABLE bench_ref, bench_ref_missing');
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** Paired rounds: Kexin over HTTP, then the raw reference query, each round; medians of the ratios. */
export async function measureScale(app: TestApp, book: ScaleBook | null, rounds: number, verdicts: Verdict[]): Promise<Record<string, unknown> | null> {
  if (!book) return null;
  const baseUrl = await app.url();
  const gql = (query: string, variables: Record<string, unknown>) => postGraphqlOk(baseUrl, book.adminKey, query, variables);
  const summary = 'query($i: String!, $g: SummaryDimension!, $from: Date, $to: Date) { completenessSummary(insurerCode: $i, groupBy: $g, from: $from, to: $to) { key total complete incomplete suspect missingByField { field count } } }';
  const page = 'query($i: String!) { policies(filter: { insurerCode: $i, missingField: "policyholder.phone" }, first: 50) { pageInfo { hasNextPage endCursor } edges { node { policyNo completeness { status missing } } } } }';
  const raw = (sql: string) => () => app.db.query(sql);
  const cases: Array<{ name: string; kexin: () => Promise<unknown>; raw: () => Promise<unknown>; target: number }> = [
    { name: 'summary by CHANNEL', kexin: () => gql(summary, { i: book.insurerCode, g: 'CHANNEL' }), raw: raw('SELECT channel, status, COUNT(*) FROM bench_ref WHERE insurer = 1 GROUP BY channel, status'), target: 2 },
    { name: 'summary by PRODUCT', kexin: () => gql(summary, { i: book.insurerCode, g: 'PRODUCT' }), raw: raw('SELECT product, status, COUNT(*) FROM bench_ref FORCE INDEX (ix_product) WHERE insurer = 1 GROUP BY product, status'), target: 2 },
    { name: 'summary by APPLICATION_MONTH', kexin: () => gql(summary, { i: book.insurerCode, g: 'APPLICATION_MONTH' }), raw: raw('SELECT month, status, COUNT(*) FROM bench_ref FORCE INDEX (ix_month) WHERE insurer = 1 GROUP BY month, status'), target: 2 },
    { name: 'summary by CHANNEL, Mar-Jun', kexin: () => gql(summary, { i: book.insurerCode, g: 'CHANNEL', from: '2026-03-01', to: '2026-06-30' }), raw: raw('SELECT channel, status, COUNT(*) FROM bench_ref WHERE insurer = 1 AND month BETWEEN 202603 AND 202606 GROUP BY channel, status'), target: 2 },
    { name: 'missing-field page (50)', kexin: () => gql(page, { i: book.insurerCode }), raw: raw('SELECT id FROM bench_ref_missing WHERE insurer = 1 AND field = 1 ORDER BY id DESC LIMIT 51'), target: 3 },
  ];
  const results: Record<string, { kexinMs: number; rawMs: number; ratio: number }> = {};
  for (const c of cases) {
    await c.kexin(); // warm the buffer pool for both sides
    await c.raw();
    const pairs: Array<{ kexinMs: number; rawMs: number }> = [];
    for (let r = 0; r < rounds; r += 1) pairs.push({ kexinMs: await timed(c.kexin), rawMs: await timed(c.raw) });
    const entry = { kexinMs: median(pairs.map((p) => p.kexinMs)), rawMs: median(pairs.map((p) => p.rawMs)), ratio: median(pairs.map((p) => p.kexinMs / Math.max(0.01, p.rawMs))) };
    results[c.name] = entry;
    process.stdout.write(`  ${c.name}: Kexin ${entry.kexinMs.toFixed(1)} ms, reference ${entry.rawMs.toFixed(1)} ms\n`);
    verdicts.push({ measure: `${c.name} at ${book.size} (time vs reference)`, value: entry.ratio, target: c.target, kind: 'max' });
  }
  return { size: book.size, channels: CHANNELS, results };
}
