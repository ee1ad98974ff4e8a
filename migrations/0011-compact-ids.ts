import type { MigrationInterface, QueryRunner } from 'typeorm';

/** An id column as information_schema describes it. */
interface IdColumn {
  table: string;
  column: string;
  nullable: boolean;
}

/** The character set and collation of the compact form: one byte per character, compared bytewise. */
const COMPACT = 'CHARACTER SET ascii COLLATE ascii_bin';

/**
 * Every id column of this database not yet in `collation` (or, with `inCollation`, only those in it):
 * VARCHAR(36) named `id`, `*_id` or `*_by` (and `completeness_count.channel_key`, a channel id or '' for
 * policies sold directly), the shape migrations/columns.ts `id()` creates. The length
 * keeps the short non-UUID `*_id` columns out (`key_id`, `before_key_id`: VARCHAR(16); `exchange_key.key_id`:
 * VARCHAR(200)), and reading the catalogue instead of a list covers tables added by any earlier migration.
 */
async function idColumns(q: QueryRunner, collation: string, inCollation: boolean): Promise<IdColumn[]> {
  const rows = (await q.query(
    `SELECT c.TABLE_NAME AS t, c.COLUMN_NAME AS c, c.IS_NULLABLE AS n
       FROM information_schema.COLUMNS c
       JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME AND t.TABLE_TYPE = 'BASE TABLE'
      WHERE c.TABLE_SCHEMA = DATABASE() AND c.DATA_TYPE = 'varchar' AND c.CHARACTER_MAXIMUM_LENGTH = 36
        AND (c.COLUMN_NAME = 'id' OR c.COLUMN_NAME LIKE '%\\_id' OR c.COLUMN_NAME LIKE '%\\_by' OR c.COLUMN_NAME = 'channel_key')
        AND (c.COLLATION_NAME = ?) = ?
      ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`,
    [collation, inCollation ? 1 : 0],
  )) as Array<{ t: string; c: string; n: string }>;
  return rows.map((r) => ({ table: r.t, column: r.c, nullable: r.n === 'YES' }));
}

/** The columns grouped by table, so each table is rebuilt once with all of its columns. */
function byTable(columns: IdColumn[]): Map<string, IdColumn[]> {
  const tables = new Map<string, IdColumn[]>();
  for (const column of columns) tables.set(column.table, [...(tables.get(column.table) ?? []), column]);
  return tables;
}

/** One `ALTER TABLE` per table retyping its id columns (MODIFY keeps their keys and copies the data). */
async function retype(q: QueryRunner, columns: IdColumn[], charsetOf: (table: string) => Promise<string>): Promise<void> {
  for (const [table, list] of byTable(columns)) {
    const charset = await charsetOf(table);
    const modify = list.map((c) => `MODIFY \`${c.column}\` VARCHAR(36) ${charset} ${c.nullable ? 'NULL' : 'NOT NULL'}`);
    await q.query(`ALTER TABLE \`${table}\` ${modify.join(', ')}`);
  }
}

/** The table's default character set and collation: what its id columns had before up() (they were created without one). */
async function tableDefault(q: QueryRunner, table: string): Promise<string> {
  const [row] = (await q.query(
    `SELECT a.CHARACTER_SET_NAME AS cs, t.TABLE_COLLATION AS co
       FROM information_schema.TABLES t JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY a ON a.COLLATION_NAME = t.TABLE_COLLATION
      WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_NAME = ?`,
    [table],
  )) as Array<{ cs: string; co: string }>;
  return `CHARACTER SET ${row!.cs} COLLATE ${row!.co}`;
}

function isMysql(q: QueryRunner): boolean {
  return q.connection.driver.options.type === 'mysql' || q.connection.driver.options.type === 'mariadb';
}

/**
 * Compact ids on MySQL/MariaDB (issue 10 (d)). Ids are lowercase UUIDv7 text
 * (src/db/ids.ts; every id from the wire passes `isId` first), so utf8mb4
 * with a Unicode collation bought nothing: it reserves 4 bytes a character in
 * sort buffers and temporary tables and compares through collation weights
 * on every index probe, join and GROUP BY. `ascii_bin` stores and compares the
 * same 36 bytes as bytes; the ids, their uniqueness and their order do not
 * change (ascii_bin orders lowercase hex as utf8mb4_unicode_ci does, and no
 * two ids differ only in case). Every id column moves together, so a join of
 * two ids never compares across collations and stays an index lookup; string
 * parameters are coerced to the column's collation and keep using the indexes.
 * One thing does change: a string with non-ASCII characters compared with an
 * id is an SQL error (ER 1267, illegal mix of collations) instead of no row,
 * so ids from outside must pass `isId` before a query (as all do today).
 *
 * The book is no smaller for it (InnoDB stores an ASCII id in 37 bytes in
 * either character set); measured at 50,000 policies, the missing-field
 * join on ids ran in 0.48-0.70x the time, a GROUP BY over ids in 0.77-0.79x.
 * VARCHAR rather than CHAR(36): the entities declare varchar (SQLite has no
 * CHAR in TypeORM), so CHAR would show as schema drift, for 0.7% of the book
 * (2 of 274 MB measured). BINARY(16) would halve the ids' bytes but needs
 * every query, cursor and entity to convert: not done here.
 *
 * A no-op on SQLite, whose text has no collation cost.
 */
export class CompactIds1764000000011 implements MigrationInterface {
  name = 'CompactIds1764000000011';

  async up(q: QueryRunner): Promise<void> {
    if (!isMysql(q)) return;
    await retype(q, await idColumns(q, 'ascii_bin', false), async () => COMPACT);
  }

  async down(q: QueryRunner): Promise<void> {
    if (!isMysql(q)) return;
    await retype(q, await idColumns(q, 'ascii_bin', true), (table) => tableDefault(q, table));
  }
}
