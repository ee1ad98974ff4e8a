import { Table, type MigrationInterface, type QueryRunner, type TableColumnOptions } from 'typeorm';
import { id } from './columns';

/** The bucket columns both counter tables share (a primary key: '' stands for the direct channel). */
function bucketColumns(): TableColumnOptions[] {
  return [
    id('insurer_id', { isPrimary: true }),
    id('channel_key', { isPrimary: true }),
    { name: 'product_code', type: 'varchar', length: '64', isPrimary: true },
    { name: 'application_date', type: 'date', isPrimary: true },
  ];
}

const BUCKET = ['insurer_id', 'channel_key', 'product_code', 'application_date'];
const COMPLETENESS_KEY = [...BUCKET, 'completeness'];
const MISSING_KEY = [...BUCKET, 'field'];

type Dialect = 'mysql' | 'sqlite';

/**
 * `INSERT INTO table (key…, policies) <source> ` adding `delta` to the row
 * of that key (creating it at `delta`), in each dialect's upsert. `source`
 * is a VALUES(…) or a SELECT with a WHERE (SQLite needs one before ON CONFLICT).
 */
function bump(dialect: Dialect, table: string, key: string[], source: string, delta: 1 | -1): string {
  const sign = delta > 0 ? '+ 1' : '- 1';
  const head = `INSERT INTO ${table} (${key.join(', ')}, policies) ${source}`;
  return dialect === 'mysql' ? `${head} ON DUPLICATE KEY UPDATE policies = ${table}.policies ${sign}` : `${head} ON CONFLICT (${key.join(', ')}) DO UPDATE SET policies = policies ${sign}`;
}

/** The bucket of policy row `r` (NEW or OLD) as select expressions. */
function bucketOf(r: string): string {
  return `${r}.insurer_id, COALESCE(${r}.channel_id, ''), ${r}.product_code, ${r}.application_date`;
}

/** Policy row `r` counted (+1) or uncounted (-1): its status and each of its missing fields. */
function policyCounted(dialect: Dialect, r: string, delta: 1 | -1): string[] {
  return [
    bump(dialect, 'completeness_count', COMPLETENESS_KEY, `VALUES (${bucketOf(r)}, ${r}.completeness, ${delta})`, delta),
    bump(
      dialect,
      'missing_field_count',
      MISSING_KEY,
      `SELECT m.insurer_id, COALESCE(${r}.channel_id, ''), ${r}.product_code, ${r}.application_date, m.field, ${delta} FROM policy_missing_field m WHERE m.policy_id = ${r}.id`,
      delta,
    ),
  ];
}

/** Missing-field row `r` counted or uncounted in its policy's bucket (nothing while its policy does not exist: the policy's own trigger counts it then). */
function missingCounted(dialect: Dialect, r: string, delta: 1 | -1): string {
  return bump(
    dialect,
    'missing_field_count',
    MISSING_KEY,
    `SELECT ${r}.insurer_id, COALESCE(p.channel_id, ''), p.product_code, p.application_date, ${r}.field, ${delta} FROM policy p WHERE p.id = ${r}.policy_id`,
    delta,
  );
}

/** A trigger running `statements` for each row; on UPDATE only when one of `changed` differs (null-safe). */
function trigger(dialect: Dialect, name: string, event: string, table: string, statements: string[], changed: string[] = []): string {
  const differs = changed.map((c) => (dialect === 'mysql' ? `NOT (NEW.${c} <=> OLD.${c})` : `NEW.${c} IS NOT OLD.${c}`)).join(' OR ');
  const body = statements.map((s) => `${s};`).join(' ');
  if (dialect === 'sqlite') return `CREATE TRIGGER ${name} AFTER ${event}${changed.length ? ` OF ${changed.join(', ')}` : ''} ON ${table} FOR EACH ROW${differs ? ` WHEN ${differs}` : ''} BEGIN ${body} END`;
  return `CREATE TRIGGER ${name} AFTER ${event} ON ${table} FOR EACH ROW BEGIN ${differs ? `IF ${differs} THEN ${body} END IF;` : body} END`;
}

/** The columns of a policy that place it in a counter row. */
const POLICY_COUNTED = ['insurer_id', 'channel_id', 'product_code', 'application_date', 'completeness'];

/** Every trigger, by name: the policy's own (status and the missing rows it carries) and the missing rows'. */
function triggers(dialect: Dialect): Array<[string, string]> {
  const moved = [...policyCounted(dialect, 'OLD', -1), ...policyCounted(dialect, 'NEW', 1)];
  const defs: Array<[string, string, string, string[], string[]?]> = [
    ['trg_policy_count_ins', 'INSERT', 'policy', policyCounted(dialect, 'NEW', 1)],
    ['trg_policy_count_upd', 'UPDATE', 'policy', moved, POLICY_COUNTED],
    ['trg_policy_count_del', 'DELETE', 'policy', policyCounted(dialect, 'OLD', -1)],
    ['trg_missing_count_ins', 'INSERT', 'policy_missing_field', [missingCounted(dialect, 'NEW', 1)]],
    ['trg_missing_count_upd', 'UPDATE', 'policy_missing_field', [missingCounted(dialect, 'OLD', -1), missingCounted(dialect, 'NEW', 1)], ['policy_id', 'field', 'insurer_id']],
    ['trg_missing_count_del', 'DELETE', 'policy_missing_field', [missingCounted(dialect, 'OLD', -1)]],
  ];
  return defs.map(([name, event, table, statements, changed]) => [name, trigger(dialect, name, event, table, statements, changed)]);
}

/**
 * Completeness counters (issue 10 (d)): `completeness_count` and
 * `missing_field_count`, per insurer × channel × product × application day,
 * filled from the existing book, then kept by AFTER INSERT / UPDATE /
 * DELETE triggers on `policy` and `policy_missing_field`. Triggers, not
 * service code, so every writer (sales upserts, which fire the UPDATE
 * triggers on both databases, corrections, underwriting, re-flags, seeders)
 * moves the counters in its own statement and transaction, and they cannot
 * drift from the rows. A missing-field row counts in its policy's bucket
 * whichever of the two is written first.
 */
export class CompletenessCounters1764000000010 implements MigrationInterface {
  name = 'CompletenessCounters1764000000010';

  async up(q: QueryRunner): Promise<void> {
    const dialect = dialectOf(q);
    await q.createTable(new Table({ name: 'completeness_count', columns: [...bucketColumns(), { name: 'completeness', type: 'varchar', length: '16', isPrimary: true }, { name: 'policies', type: 'integer' }] }));
    await q.createTable(new Table({ name: 'missing_field_count', columns: [...bucketColumns(), { name: 'field', type: 'varchar', length: '64', isPrimary: true }, { name: 'policies', type: 'integer' }] }));
    const bucket = "p.insurer_id, COALESCE(p.channel_id, ''), p.product_code, p.application_date";
    await q.query(`INSERT INTO completeness_count (${COMPLETENESS_KEY.join(', ')}, policies) SELECT ${bucket}, p.completeness, COUNT(*) FROM policy p GROUP BY ${bucket}, p.completeness`);
    const missingBucket = bucket.replace('p.insurer_id', 'm.insurer_id');
    await q.query(
      `INSERT INTO missing_field_count (${MISSING_KEY.join(', ')}, policies) SELECT ${missingBucket}, m.field, COUNT(*) FROM policy_missing_field m JOIN policy p ON p.id = m.policy_id GROUP BY ${missingBucket}, m.field`,
    );
    for (const [, sql] of triggers(dialect)) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [name] of triggers(dialectOf(q))) await q.query(`DROP TRIGGER IF EXISTS ${name}`);
    await q.dropTable('missing_field_count');
    await q.dropTable('completeness_count');
  }
}

function dialectOf(q: QueryRunner): Dialect {
  return q.connection.options.type === 'better-sqlite3' ? 'sqlite' : 'mysql';
}
