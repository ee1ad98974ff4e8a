import type { DataSource, EntityManager } from 'typeorm';
import type { PiiCipher } from '../modules/person/pii';
import { ExchangeKeyEntity, piiKeys, registerKey } from './key-registry';
import { newId } from './ids';
import { inTransaction } from './transaction';

/**
 * A column group sealed under one key id: `values` are the ciphertext
 * columns `keyColumn` names the key of (one person row seals its ID number
 * and phone under one key id; a correction's before and after values have
 * one each).
 */
export interface SealedColumns {
  table: string;
  keyColumn: string;
  values: readonly string[];
}

/** Every place personal data is sealed (ID numbers and phones; the corrections' sealed before/after values). */
export const SEALED_COLUMNS: readonly SealedColumns[] = [
  { table: 'person', keyColumn: 'key_id', values: ['id_number_enc', 'phone_enc'] },
  { table: 'sales_person', keyColumn: 'key_id', values: ['phone_enc'] },
  { table: 'correction_change', keyColumn: 'before_key_id', values: ['before_value'] },
  { table: 'correction_change', keyColumn: 'after_key_id', values: ['after_value'] },
];

export interface RotationProgress {
  /** `table.keyColumn` of the batch just committed. */
  target: string;
  /** Values re-sealed so far in this run, over every target. */
  done: number;
  /** Values that were under another key than the current one when this run started (plus any found on a later pass). */
  total: number;
  batches: number;
}

export interface RotationOptions {
  /** Rows per batch, each batch one transaction (default 1000). */
  batchSize?: number;
  /** Stop after this many batches (a resumable partial run); null: until done. */
  maxBatches?: number | null;
  /** Asked between batches: true stops after the batch that just committed (SIGINT/SIGTERM). */
  shouldStop?: () => boolean;
  onBatch?: (progress: RotationProgress) => void;
  /** Awaited after each committed batch (to throttle a rotation; the tests serve requests there). */
  pause?: (progress: RotationProgress) => Promise<void>;
}

export interface RotationResult {
  /** Every sealed value is under the current key and the other PII keys are retired. */
  finished: boolean;
  resealed: number;
  /** Rows changed by someone else between the batch's read and its update (left to that writer, or to a later pass). */
  raced: number;
  batches: number;
  /** Values still under another key (0 when finished). */
  remaining: number;
  /** Key ids moved to PII_RETIRED at the end. */
  retired: string[];
}

const MAX_PASSES = 5;

/**
 * Re-seals every stored ID number and phone whose key id is not the current
 * key's, in keyset-ordered batches of one transaction each, while the server
 * keeps serving. A row is updated only if it still holds what the batch read
 * (same key id and the same ciphertexts: each seal has a fresh IV, so any
 * concurrent write shows), so a concurrent write is never overwritten and a
 * value is never sealed twice; rows already under the current key are not
 * read again, which is what makes a killed or stopped run resumable. When no
 * value under another key is left (passes repeat for rows written back
 * meanwhile), every other PII key is retired in one transaction: a start
 * with only an old key is refused from then on.
 *
 * The values do not change, so no transfer-log entry is written: the log
 * records who changed or received customer data, and a rotation does
 * neither (the exchange_key records and the command's summary say it ran).
 */
export async function rotateKeys(db: DataSource, pii: PiiCipher, options: RotationOptions = {}): Promise<RotationResult> {
  const batchSize = options.batchSize ?? 1000;
  const current = pii.keyId;
  const result: RotationResult = { finished: false, resealed: 0, raced: 0, batches: 0, remaining: 0, retired: [] };
  let total = await countRemaining(db, current);
  const stopNow = () => (options.maxBatches !== null && options.maxBatches !== undefined && result.batches >= options.maxBatches) || (options.shouldStop?.() ?? false);

  for (let pass = 0; pass < MAX_PASSES; pass += 1) {
    if (pass > 0) {
      const left = await countRemaining(db, current);
      if (left === 0) break;
      total += left;
    }
    for (const target of SEALED_COLUMNS) {
      let after = '';
      for (;;) {
        if (stopNow()) {
          result.remaining = await countRemaining(db, current);
          return result;
        }
        const batch = await inTransaction(db, (em) => resealBatch(em, pii, target, after, batchSize));
        if (batch.rows === 0) break;
        after = batch.lastId;
        result.resealed += batch.resealed;
        result.raced += batch.rows - batch.resealed;
        result.batches += 1;
        const progress = { target: `${target.table}.${target.keyColumn}`, done: result.resealed, total, batches: result.batches };
        options.onBatch?.(progress);
        await options.pause?.(progress);
        if (batch.rows < batchSize) break;
      }
    }
  }
  result.remaining = await countRemaining(db, current);
  if (result.remaining > 0) return result;
  result.retired = await retireOtherKeys(db, pii);
  result.remaining = await countRemaining(db, current);
  result.finished = result.remaining === 0;
  return result;
}

/** Values sealed under another key than `current`, over every sealed column. */
export async function countRemaining(db: DataSource | EntityManager, current: string): Promise<number> {
  let n = 0;
  for (const t of SEALED_COLUMNS) {
    const rows = (await db.query(`SELECT COUNT(*) AS n FROM ${t.table} WHERE ${t.keyColumn} IS NOT NULL AND ${t.keyColumn} <> ?`, [current])) as Array<{ n: unknown }>;
    n += Number(rows[0]?.n ?? 0);
  }
  return n;
}

/** Values per key id over every sealed column (what a test or an operator checks after a rotation). */
export async function countByKey(db: DataSource): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of SEALED_COLUMNS) {
    const rows = (await db.query(`SELECT ${t.keyColumn} AS k, COUNT(*) AS n FROM ${t.table} WHERE ${t.keyColumn} IS NOT NULL GROUP BY ${t.keyColumn}`)) as Array<{ k: string; n: unknown }>;
    for (const r of rows) out[r.k] = (out[r.k] ?? 0) + Number(r.n);
  }
  return out;
}

async function resealBatch(em: EntityManager, pii: PiiCipher, t: SealedColumns, after: string, limit: number): Promise<{ rows: number; resealed: number; lastId: string }> {
  const select = `SELECT id, ${t.keyColumn} AS k, ${t.values.map((v, i) => `${v} AS v${i}`).join(', ')} FROM ${t.table}`;
  const rows = (await em.query(`${select} WHERE ${t.keyColumn} IS NOT NULL AND ${t.keyColumn} <> ? AND id > ? ORDER BY id LIMIT ${Math.floor(limit)}`, [
    pii.keyId,
    after,
  ])) as Array<Record<string, string | null> & { id: string; k: string }>;
  let resealed = 0;
  for (const row of rows) {
    const old = t.values.map((_, i) => row[`v${i}`] ?? null);
    const next = old.map((value) => (value === null ? null : pii.reseal(value, row.k).value));
    const sets = t.values.map((v) => `${v} = ?`).join(', ');
    const same = t.values.map((v, i) => (old[i] === null ? `${v} IS NULL` : `${v} = ?`)).join(' AND ');
    const params = [...next, pii.keyId, row.id, row.k, ...old.filter((v) => v !== null)];
    const update = (await em.queryRunner!.query(`UPDATE ${t.table} SET ${sets}, ${t.keyColumn} = ? WHERE id = ? AND ${t.keyColumn} = ? AND ${same}`, params, true)) as { affected?: number };
    if ((update.affected ?? 0) === 1) resealed += 1;
  }
  return { rows: rows.length, resealed, lastId: rows[rows.length - 1]?.id ?? after };
}

/**
 * The end of a rotation, in one transaction: the current key is the only PII
 * key left, the others become PII_RETIRED, and the blind-index key stays
 * sealed only under the current key.
 */
async function retireOtherKeys(db: DataSource, pii: PiiCipher): Promise<string[]> {
  await registerKey(db, 'PII', pii.keyId);
  return inTransaction(db, async (em) => {
    const { active, retired, wraps } = await piiKeys(em);
    const repo = em.getRepository(ExchangeKeyEntity);
    const others = active.filter((id) => id !== pii.keyId);
    for (const id of others) {
      await repo.delete({ purpose: 'PII', keyId: id });
      // first_used_at of a PII_RETIRED row: when it was retired.
      if (!retired.includes(id)) await repo.insert({ id: newId(), purpose: 'PII_RETIRED', keyId: id, firstUsedAt: new Date() });
    }
    if (wraps.some((w) => w.startsWith(`${pii.keyId}:`))) {
      for (const w of wraps.filter((w) => !w.startsWith(`${pii.keyId}:`))) await repo.delete({ purpose: 'PII_INDEX_WRAP', keyId: w });
    }
    return others;
  });
}
