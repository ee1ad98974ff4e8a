import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Entries read per statement while carrying the policy numbers over. */
const ENTRY_PAGE = 1000;
/** Rows per multi-row upsert (4 parameters each): far under both databases' limits. */
const ROW_CHUNK = 1000;

const ordIndex = () => new TableIndex({ name: 'uq_transfer_log_policy_entry', columnNames: ['insurer_id', 'seq', 'ord'], isUnique: true });

interface EntryPage {
  insurer_id: string;
  seq: number | string;
  policy_nos?: string;
  id?: string;
}

function isSqlite(q: QueryRunner): boolean {
  return q.connection.options.type === 'better-sqlite3';
}

/** The next page of entries after (insurerId, seq), ordered by chain and seq, with `columns`. */
async function entriesAfter(q: QueryRunner, columns: string, after: { insurerId: string; seq: number } | null): Promise<EntryPage[]> {
  const where = after ? 'WHERE insurer_id > ? OR (insurer_id = ? AND seq > ?)' : '';
  const params = after ? [after.insurerId, after.insurerId, after.seq] : [];
  return q.query(`SELECT insurer_id, seq, ${columns} FROM transfer_log ${where} ORDER BY insurer_id, seq LIMIT ${ENTRY_PAGE}`, params);
}

/** Visits every entry of every chain, a page at a time (flat memory on a log of millions). */
async function forEachEntryPage(q: QueryRunner, columns: string, visit: (page: EntryPage[]) => Promise<void>): Promise<void> {
  let after: { insurerId: string; seq: number } | null = null;
  for (;;) {
    const page = await entriesAfter(q, columns, after);
    if (page.length === 0) return;
    await visit(page);
    const last = page[page.length - 1]!;
    after = { insurerId: last.insurer_id, seq: Number(last.seq) };
  }
}

/** The hashed array of a stored `policy_nos`; throws for text that is not one (an edited entry: its order cannot be recovered). */
function hashedPolicyNos(entry: EntryPage): string[] {
  try {
    const value: unknown = JSON.parse(entry.policy_nos ?? '');
    if (Array.isArray(value) && value.every((p) => typeof p === 'string')) return value as string[];
  } catch {
    // reported below
  }
  throw new Error(
    `migration 0009: transfer_log entry ${entry.seq} of chain ${entry.insurer_id} has policy_nos that are not a JSON array of strings ` +
      '(the entry fails verification: investigate it with verify-log before migrating)',
  );
}

/** INSERT … or UPDATE the ordinal of existing rows, in one statement per chunk. */
async function upsertOrdinals(q: QueryRunner, rows: Array<[string, string, number, number]>): Promise<void> {
  const conflict = isSqlite(q) ? 'ON CONFLICT (insurer_id, policy_no, seq) DO UPDATE SET ord = excluded.ord' : 'ON DUPLICATE KEY UPDATE ord = VALUES(ord)';
  for (let i = 0; i < rows.length; i += ROW_CHUNK) {
    const part = rows.slice(i, i + ROW_CHUNK);
    await q.query(`INSERT INTO transfer_log_policy (insurer_id, policy_no, seq, ord) VALUES ${part.map(() => '(?, ?, ?, ?)').join(', ')} ${conflict}`, part.flat());
  }
}

/**
 * Issue 10: an entry's policy numbers move out of the `transfer_log.policy_nos`
 * JSON text (a 1000-record batch's numbers overflow a MySQL TEXT column) into
 * the rows of `transfer_log_policy` it already had, which get `ord`, the
 * position in the hashed array, so the array is rebuilt exactly and every
 * existing entry keeps its hash. Rows the JSON did not name (an index that
 * was edited, or rows of a deleted entry) get negative ordinals, which
 * verification reports (POLICY_INDEX) instead of silently healing.
 */
export class TransferLogPolicyRows1764000000009 implements MigrationInterface {
  name = 'TransferLogPolicyRows1764000000009';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('transfer_log_policy', new TableColumn({ name: 'ord', type: 'integer', isNullable: true }));
    await forEachEntryPage(q, 'policy_nos', async (page) => {
      const rows = page.flatMap((e) => hashedPolicyNos(e).map((policyNo, ord): [string, string, number, number] => [e.insurer_id, policyNo, Number(e.seq), ord]));
      await upsertOrdinals(q, rows);
    });
    const strays: Array<{ insurer_id: string; policy_no: string; seq: number | string }> = await q.query(
      'SELECT insurer_id, policy_no, seq FROM transfer_log_policy WHERE ord IS NULL ORDER BY insurer_id, seq, policy_no',
    );
    let previous = '';
    let ord = 0;
    for (const row of strays) {
      const key = `${row.insurer_id}/${row.seq}`;
      ord = key === previous ? ord - 1 : -1;
      previous = key;
      await q.query('UPDATE transfer_log_policy SET ord = ? WHERE insurer_id = ? AND policy_no = ? AND seq = ?', [ord, row.insurer_id, row.policy_no, row.seq]);
    }
    await q.changeColumn('transfer_log_policy', 'ord', new TableColumn({ name: 'ord', type: 'integer' }));
    await q.createIndex('transfer_log_policy', ordIndex());
    await q.dropColumn('transfer_log', 'policy_nos');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.addColumn('transfer_log', new TableColumn({ name: 'policy_nos', type: 'text', isNullable: true }));
    await forEachEntryPage(q, 'id', async (page) => {
      for (const chainId of new Set(page.map((e) => e.insurer_id))) {
        const entries = page.filter((e) => e.insurer_id === chainId);
        const rows: Array<{ seq: number | string; policy_no: string }> = await q.query(
          'SELECT seq, policy_no FROM transfer_log_policy WHERE insurer_id = ? AND seq >= ? AND seq <= ? AND ord >= 0 ORDER BY seq, ord',
          [chainId, entries[0]!.seq, entries[entries.length - 1]!.seq],
        );
        const bySeq = new Map<number, string[]>(entries.map((e) => [Number(e.seq), []]));
        for (const row of rows) bySeq.get(Number(row.seq))?.push(row.policy_no);
        for (const entry of entries) await q.query('UPDATE transfer_log SET policy_nos = ? WHERE id = ?', [JSON.stringify(bySeq.get(Number(entry.seq))), entry.id]);
      }
    });
    await q.changeColumn('transfer_log', 'policy_nos', new TableColumn({ name: 'policy_nos', type: 'text' }));
    await q.dropIndex('transfer_log_policy', ordIndex().name!);
    await q.dropColumn('transfer_log_policy', 'ord');
  }
}
