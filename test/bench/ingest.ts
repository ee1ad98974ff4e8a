/**
 * Ingestion benchmark (`npm run bench`): how fast submitSales stores sales
 * batches, against a raw multi-row INSERT of the same number of person and
 * policy rows. Prints numbers; asserts nothing (speed targets live here, never
 * in the unit tests). Runs on the embedded SQLite, and on MySQL when
 * KEXIN_TEST_DB=mysql with TEST_MYSQL_URL (npm run bench does both when the
 * URL is set). BENCH_RECORDS sets the number of records (default 5000).
 */
import 'reflect-metadata';
import { newId } from '../../src/db/ids';
import { inTransaction } from '../../src/db/transaction';
import { MAX_BATCH_RECORDS } from '../../src/modules/sales/sales.validation';
import { startTestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { salesRecord, salesSetup } from '../support/sales';

const TOTAL = Number(process.env.BENCH_RECORDS ?? 5000);
const CHUNK = 200;

async function main(): Promise<void> {
  const app = await startTestApp();
  try {
    const s = await salesSetup(app);
    const ctx = await app.server.contextFor(s.bank.keys.SALES);
    const batches = Array.from({ length: Math.ceil(TOTAL / MAX_BATCH_RECORDS) }, (_, b) =>
      Array.from({ length: Math.min(MAX_BATCH_RECORDS, TOTAL - b * MAX_BATCH_RECORDS) }, (_, i) => salesRecord(`BENCH-${b}-${i}`)),
    );
    const heapBefore = process.memoryUsage().heapUsed;
    const started = process.hrtime.bigint();
    let accepted = 0;
    for (const [b, records] of batches.entries()) {
      const result = await app.services.sales.submit(ctx, s.insurer.code, `bench-${b}`, records as never);
      accepted += result.accepted;
    }
    const salesMs = Number(process.hrtime.bigint() - started) / 1e6;
    const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;

    // Baseline: the same number of person (2 per record) and policy rows, raw multi-row INSERTs in one transaction per batch.
    const rawStarted = process.hrtime.bigint();
    for (const records of batches) {
      await inTransaction(app.db, async (em) => {
        const people = records.flatMap(() => [rawPerson(s.insurer.id), rawPerson(s.insurer.id)]);
        for (let i = 0; i < people.length; i += CHUNK) await insertRows(em, 'person', people.slice(i, i + CHUNK));
        const policies = records.map((_, i) => rawPolicy(s.insurer.id, people[2 * i]!.id as string, people[2 * i + 1]!.id as string));
        for (let i = 0; i < policies.length; i += CHUNK) await insertRows(em, 'policy', policies.slice(i, i + CHUNK));
      });
    }
    const rawMs = Number(process.hrtime.bigint() - rawStarted) / 1e6;

    const rate = (ms: number) => Math.round((TOTAL / ms) * 1000);
    process.stdout.write(
      [
        `ingest on ${TEST_DB}: ${TOTAL} records in ${batches.length} batches of up to ${MAX_BATCH_RECORDS}`,
        `  submitSales   ${salesMs.toFixed(0).padStart(7)} ms  ${String(rate(salesMs)).padStart(7)} records/s  (${accepted} accepted, heap +${heapMb.toFixed(1)} MB)`,
        `  raw INSERTs   ${rawMs.toFixed(0).padStart(7)} ms  ${String(rate(rawMs)).padStart(7)} records/s`,
        `  submitSales runs at ${((rawMs / salesMs) * 100).toFixed(1)}% of the raw insert speed on the same rows`,
        '',
      ].join('\n'),
    );
  } finally {
    await app.close();
  }
}

function rawPerson(insurerId: string): Record<string, unknown> {
  const now = new Date();
  return { id: newId(), insurer_id: insurerId, name: 'bench', gender: 'MALE', birth_date: '1980-01-01', id_type: 'RESIDENT_ID', id_number_enc: 'v1:x', id_number_bidx: newId(), phone_enc: 'v1:y', phone_bidx: newId(), address: 'bench address 1号', key_id: 'k', facts: '{}', created_at: now, updated_at: now };
}

function rawPolicy(insurerId: string, holderId: string, insuredId: string): Record<string, unknown> {
  const now = new Date();
  return { id: newId(), insurer_id: insurerId, policy_no: `RAW-${newId()}`, channel_id: null, sales_person_code: null, product_code: 'P', term_months: 240, application_date: '2026-01-01', status: 'PENDING', policyholder_id: holderId, insured_id: insuredId, insured_relationship: 'SELF', completeness: 'COMPLETE', issues: '[]', version: 1, created_at: now, updated_at: now };
}

async function insertRows(em: import('typeorm').EntityManager, table: string, rows: Array<Record<string, unknown>>): Promise<void> {
  const columns = Object.keys(rows[0]!);
  const quote = (name: string) => (em.connection.options.type === 'better-sqlite3' ? `"${name}"` : `\`${name}\``);
  const placeholders = rows.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
  const values = rows.flatMap((row) => columns.map((c) => normalize(row[c], em)));
  await em.query(`INSERT INTO ${quote(table)} (${columns.map(quote).join(', ')}) VALUES ${placeholders}`, values);
}

function normalize(value: unknown, em: import('typeorm').EntityManager): unknown {
  if (!(value instanceof Date)) return value;
  return em.connection.options.type === 'better-sqlite3' ? value.toISOString().replace('T', ' ').replace('Z', '') : value;
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
