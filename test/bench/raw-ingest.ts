/**
 * The ingest yardstick: the rows one submitSales batch writes (three people,
 * the policy, its beneficiary, the missing-field rows of incomplete records,
 * the batch row, one log entry and its policy-number rows), written with
 * one multi-row INSERT per table in one transaction per batch through raw
 * mysql2 (better-sqlite3 on SQLite). Values have the stored sizes (sealed
 * ID numbers and phones, 64-hex blind indexes) but cost no crypto: the
 * yardstick is the database's side of the work.
 */
import { randomBytes } from 'node:crypto';
import { newId } from '../../src/db/ids';
import type { TestApp } from '../support/app';

type Row = Record<string, unknown>;

let seq = 1_000_000;

function sealed(): string {
  return `k1:${randomBytes(12).toString('base64')}:${randomBytes(34).toString('base64')}`;
}

function rowsOf(insurerId: string, channelId: string, records: Array<Record<string, any>>, prefix: string, batchIndex: number) {
  const now = new Date();
  const people: Row[] = [];
  const policies: Row[] = [];
  const beneficiaries: Row[] = [];
  const missing: Row[] = [];
  const person = (p: Record<string, any>): string => {
    const id = newId();
    people.push({ id, insurer_id: insurerId, name: p.name, gender: p.gender, birth_date: p.birthDate, id_type: p.idType, id_number_enc: sealed(), id_number_bidx: randomBytes(32).toString('hex'), phone_enc: p.phone ? sealed() : null, phone_bidx: p.phone ? randomBytes(32).toString('hex') : null, address: p.address, key_id: 'k1', facts: '{"idValid":true,"phoneValid":true,"addressSound":true}', created_at: now, updated_at: now });
    return id;
  };
  const batchId = newId();
  for (const [i, r] of records.entries()) {
    const holder = person(r.policyholder);
    const insured = person(r.insured);
    const policyId = newId();
    const incomplete = !r.policyholder.phone;
    policies.push({ id: policyId, insurer_id: insurerId, policy_no: `${prefix}-${batchIndex}-${i}`, channel_id: channelId, sales_person_code: null, product_code: r.productCode, term_months: r.termMonths, application_date: r.applicationDate, status: 'PENDING', policyholder_id: holder, insured_id: insured, insured_relationship: r.insuredRelationship, completeness: incomplete ? 'INCOMPLETE' : 'COMPLETE', issues: '[]', version: 1, batch_id: batchId, created_at: now, updated_at: now });
    for (const [order, b] of (r.beneficiaries as Array<Record<string, any>>).entries()) {
      beneficiaries.push({ id: newId(), insurer_id: insurerId, policy_id: policyId, person_id: person(b.person), ord: order + 1, relationship_to_insured: b.relationshipToInsured, share_percent: String(b.sharePercent) });
    }
    if (incomplete) missing.push({ policy_id: policyId, field: 'policyholder.phone', insurer_id: insurerId });
  }
  seq += 1;
  const policyNos = policies.map((p) => p.policy_no as string);
  const log: Row = { id: newId(), insurer_id: insurerId, seq, at: now, operation: 'submitSales', outcome: 'OK', error_code: null, actor_principal_id: newId(), actor_organization_id: channelId, counterparty_id: insurerId, agreement_id: newId(), fields: '[]', digest: randomBytes(32).toString('hex'), prev_hash: randomBytes(32).toString('hex'), hash: randomBytes(32).toString('hex') };
  const logPolicies = policyNos.map((policyNo, ord) => ({ insurer_id: insurerId, policy_no: policyNo, seq, ord }));
  const batch: Row = { id: batchId, insurer_id: insurerId, organization_id: channelId, idempotency_key: `${prefix}-${batchIndex}`, payload_hash: randomBytes(32).toString('hex'), response: '{}', created_at: now };
  return [['person', people], ['policy', policies], ['policy_beneficiary', beneficiaries], ['policy_missing_field', missing], ['sales_batch', [batch]], ['transfer_log', [log]], ['transfer_log_policy', logPolicies]] as const;
}

function insertSql(table: string, rows: readonly Row[], quote: (name: string) => string): { sql: string; values: unknown[] } {
  const columns = Object.keys(rows[0]!);
  const tuple = `(${columns.map(() => '?').join(',')})`;
  return { sql: `INSERT INTO ${quote(table)} (${columns.map(quote).join(',')}) VALUES ${rows.map(() => tuple).join(',')}`, values: rows.flatMap((row) => columns.map((c) => row[c])) };
}

/** Writes `batches` for one client, one transaction per batch, and resolves when all committed. */
export async function rawIngest(app: TestApp, insurerId: string, channelId: string, batches: Array<Array<Record<string, unknown>>>, prefix: string): Promise<void> {
  if (app.config.database.type === 'mysql') {
    const mysql = await import('mysql2/promise');
    const connection = await mysql.createConnection({ uri: app.config.database.url, timezone: 'Z', charset: 'utf8mb4' });
    try {
      for (const [b, records] of batches.entries()) {
        const tables = rowsOf(insurerId, channelId, records as never, prefix, b);
        // Retried on a deadlock as Kexin's transactions are (src/db/transaction.ts): the counter triggers'
        // upserts take next-key locks, and two raw clients of one insurer can deadlock on them.
        for (let attempt = 1; ; attempt += 1) {
          await connection.beginTransaction();
          try {
            for (const [table, rows] of tables) {
              for (let i = 0; i < rows.length; i += 1000) {
                const { sql, values } = insertSql(table, rows.slice(i, i + 1000), (n) => `\`${n}\``);
                await connection.query(sql, values);
              }
            }
            await connection.commit();
            break;
          } catch (error) {
            await connection.rollback();
            if ((error as { errno?: number }).errno !== 1213 || attempt >= 5) throw error;
          }
        }
      }
    } finally {
      await connection.end();
    }
    return;
  }
  // SQLite: the same statements through the data source's single connection (writes are serialized there anyway).
  for (const [b, records] of batches.entries()) {
    await app.db.transaction(async (em) => {
      for (const [table, rows] of rowsOf(insurerId, channelId, records as never, prefix, b)) {
        for (let i = 0; i < rows.length; i += 60) {
          const chunk = rows.slice(i, i + 60).map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString().replace('T', ' ').replace('Z', '') : v])));
          const { sql, values } = insertSql(table, chunk, (n) => `"${n}"`);
          await em.query(sql, values);
        }
      }
    });
  }
}
