/**
 * Multi-row writes and lookups sized under the drivers' parameter limits
 * (issue 4 item 5): the batch shape of every bulk write, whatever the table.
 * Every function takes the caller's EntityManager (its transaction).
 *
 * The INSERTs are built here from the entity metadata and sent with
 * `em.query` (the transaction's own connection), not with TypeORM's query
 * builder: profiling `submitSales` (issue 10) showed ~25% of the ingest's
 * CPU in InsertQueryBuilder, which creates a named parameter per value and
 * searches the parameter list linearly for each. Values are converted with
 * the driver's own `preparePersistentValue` (transformers, DATETIME(3) as a
 * Date for mysql2 / UTC text on SQLite, JSON text, booleans as 0/1), so
 * what is stored is exactly what the query builder stored.
 */
import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import type { EntityMetadata } from 'typeorm/metadata/EntityMetadata';
import { isSqlite } from './dialect';

/** Values per `IN (…)` list. */
export const CHUNK_IN = 1000;

/**
 * Bound parameters per statement: MySQL/MariaDB's placeholder limit is
 * 65,535; better-sqlite3 12 refuses more than 32,766 (SQLITE_MAX_VARIABLE_NUMBER,
 * checked on this build). One statement per table per batch wherever that allows.
 */
export const MAX_PARAMETERS = { mysql: 65_535, sqlite: 32_766 } as const;

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The parts of a table's INSERT that depend only on its metadata and the driver, built once. */
interface InsertShape {
  columns: ColumnMetadata[];
  /** `INSERT INTO t (a, b, …) VALUES ` */
  head: string;
  /** `(?, ?, …)` */
  tuple: string;
}

const shapes = new WeakMap<EntityMetadata, InsertShape>();

function insertShape(em: EntityManager, metadata: EntityMetadata): InsertShape {
  const known = shapes.get(metadata);
  if (known) return known;
  const driver = em.connection.driver;
  const columns = metadata.columns.filter((c) => c.isInsert && !c.isVirtual);
  const defaulted = columns.find((c) => c.default !== undefined);
  if (defaulted) throw new Error(`bulk: ${metadata.tableName}.${defaulted.databaseName} has a default, which insertRows does not apply`);
  const shape = {
    columns,
    head: `INSERT INTO ${driver.escape(metadata.tableName)} (${columns.map((c) => driver.escape(c.databaseName)).join(', ')}) VALUES `,
    tuple: `(${columns.map(() => '?').join(', ')})`,
  };
  shapes.set(metadata, shape);
  return shape;
}

/**
 * A row's value for a column as the driver stores it. No bulk-written column
 * has a database default ({@link insertShape} refuses one), so an absent
 * (undefined) value is NULL, as the query builder wrote it (DEFAULT on
 * MySQL, NULL on SQLite).
 */
function persisted(em: EntityManager, column: ColumnMetadata, row: ObjectLiteral): unknown {
  const value = em.connection.driver.preparePersistentValue(column.getEntityValue(row), column);
  return value === undefined ? null : value;
}

/** The conflict clause that turns the INSERT into an upsert on the primary key `id`, overwriting `overwrite` (database column names). */
function upsertClause(em: EntityManager, overwrite: readonly string[]): string {
  const q = (name: string) => em.connection.driver.escape(name);
  return isSqlite(em.connection)
    ? ` ON CONFLICT (${q('id')}) DO UPDATE SET ${overwrite.map((c) => `${q(c)} = EXCLUDED.${q(c)}`).join(', ')}`
    : ` ON DUPLICATE KEY UPDATE ${overwrite.map((c) => `${q(c)} = VALUES(${q(c)})`).join(', ')}`;
}

async function writeRows<T extends ObjectLiteral>(em: EntityManager, target: EntityTarget<T>, rows: readonly T[], conflict: string): Promise<void> {
  if (rows.length === 0) return;
  const shape = insertShape(em, em.connection.getMetadata(target));
  const limit = isSqlite(em.connection) ? MAX_PARAMETERS.sqlite : MAX_PARAMETERS.mysql;
  const perStatement = Math.max(1, Math.floor(limit / shape.columns.length));
  for (let start = 0; start < rows.length; start += perStatement) {
    const end = Math.min(rows.length, start + perStatement);
    const values: unknown[] = new Array((end - start) * shape.columns.length);
    let v = 0;
    for (let r = start; r < end; r += 1) for (const column of shape.columns) values[v++] = persisted(em, column, rows[r]!);
    await em.query(shape.head + new Array(end - start).fill(shape.tuple).join(', ') + conflict, values);
  }
}

/** Multi-row INSERT: one statement per table where the parameter limit allows. */
export async function insertRows<T extends ObjectLiteral>(em: EntityManager, target: EntityTarget<T>, rows: readonly T[]): Promise<void> {
  await writeRows(em, target, rows, '');
}

/**
 * Multi-row INSERT … ON DUPLICATE KEY UPDATE (MySQL/MariaDB) / ON CONFLICT (id)
 * DO UPDATE (SQLite): new rows and changed rows in one statement.
 * Only for tables whose rows this transaction owns under the insurer's chain
 * lock, so the only key that can collide is the primary key.
 */
export async function upsertRows<T extends ObjectLiteral>(em: EntityManager, target: EntityTarget<T>, rows: readonly T[], overwrite: string[]): Promise<void> {
  await writeRows(em, target, rows, upsertClause(em, overwrite));
}
