/**
 * Hand-written reads for the hottest paths (issue 10 (b)), through the same
 * pool as TypeORM: the point read's CPU profile under the read bench put
 * ~20% of each request in TypeORM's query builder and entity hydration and
 * ~2% in mysql2's promise wrapper capturing a stack per query. Here one SQL
 * text runs as a prepared statement on both databases: mysql2's callback
 * `execute` on the MysqlDriver's pool (binary protocol, statement prepared
 * once per connection, no stack captured), better-sqlite3's cached
 * `prepare` on SQLite. Rows are hydrated from the entities' own column
 * metadata by the driver's `prepareHydratedValue`, so they are what
 * TypeORM would have built. Everything else stays on TypeORM.
 */
import type { DataSource, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';
import type { MysqlDriver } from 'typeorm/driver/mysql/MysqlDriver';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { isSqlite } from './dialect';

type Row = Record<string, unknown>;
type Param = string | number | null | Date;

interface SqliteStatement {
  all(...params: unknown[]): Row[];
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
}

/** Prepared statements of each SQLite connection, by SQL text (the texts are the few constants of the callers). */
const sqliteStatements = new WeakMap<object, Map<string, SqliteStatement>>();

/**
 * Rows of `sql` with `params` (`?` placeholders), as a prepared statement.
 * Each statement is handed to the data source's logger like TypeORM's own,
 * so the statement-count tests see it.
 */
export function preparedRows(db: DataSource, sql: string, params: readonly Param[]): Promise<Row[]> {
  db.logger.logQuery(sql, params as unknown[]);
  if (isSqlite(db)) return Promise.resolve(sqliteRows(db, sql, params));
  return new Promise((resolve, reject) => {
    (db.driver as MysqlDriver).pool.execute(sql, params, (error: Error | null, rows: unknown) => (error ? reject(error) : resolve(rows as Row[])));
  });
}

function sqliteRows(db: DataSource, sql: string, params: readonly Param[]): Row[] {
  const connection = (db.driver as unknown as { databaseConnection: SqliteDatabase }).databaseConnection;
  let cache = sqliteStatements.get(connection);
  if (!cache) sqliteStatements.set(connection, (cache = new Map()));
  let statement = cache.get(sql);
  if (!statement) cache.set(sql, (statement = connection.prepare(sql)));
  // TypeORM stores instants on SQLite as 'YYYY-MM-DD HH:MM:SS.SSS' UTC text and binds them so.
  return statement.all(...params.map((p) => (p instanceof Date ? p.toISOString().replace('T', ' ').replace('Z', '') : p)));
}

/** How to read one entity back from the columns {@link selectColumns} named on one alias. */
interface Plan {
  metadata: EntityMetadata;
  primaryKey: string;
  fields: ReadonlyArray<{ key: string; property: string; column: ColumnMetadata }>;
}

/**
 * Plans of each data source by entity, alias and property list (the callers
 * pass constant lists, so the list itself is the key), built on first use:
 * no metadata lookup or key joining per row.
 */
const plans = new WeakMap<DataSource, Map<EntityTarget<ObjectLiteral>, Map<string, Map<readonly string[] | null, Plan>>>>();

function planOf(db: DataSource, entity: EntityTarget<ObjectLiteral>, alias: string, properties: readonly string[] | null = null): Plan {
  let byEntity = plans.get(db);
  if (!byEntity) plans.set(db, (byEntity = new Map()));
  let byAlias = byEntity.get(entity);
  if (!byAlias) byEntity.set(entity, (byAlias = new Map()));
  let byProperties = byAlias.get(alias);
  if (!byProperties) byAlias.set(alias, (byProperties = new Map()));
  let plan = byProperties.get(properties);
  if (!plan) {
    const metadata = db.getMetadata(entity);
    const wanted = (c: ColumnMetadata) => !c.isVirtual && (!properties || properties.includes(c.propertyName) || c.isPrimary);
    const fields = metadata.columns.filter(wanted).map((column) => ({ key: `${alias}__${column.databaseName}`, property: column.propertyName, column }));
    plan = { metadata, primaryKey: `${alias}__${metadata.primaryColumns[0]!.databaseName}`, fields };
    byProperties.set(properties, plan);
  }
  return plan;
}

/**
 * The SELECT list of `entity`'s columns on table alias `alias` (only those
 * of `properties` and the primary key, when given), each as `alias__column`
 * (the names {@link hydrate} reads back with the same `properties`).
 */
export function selectColumns(db: DataSource, entity: EntityTarget<ObjectLiteral>, alias: string, properties: readonly string[] | null = null): string {
  return planOf(db, entity, alias, properties)
    .fields.map((f) => `${alias}.${f.column.databaseName} AS ${f.key}`)
    .join(', ');
}

/**
 * The entity `alias` of `row` (selected by {@link selectColumns}), with every
 * value as TypeORM hydrates it (only `properties` and the primary key, when
 * given); null when the row has none (a LEFT JOIN miss).
 */
export function hydrate<T extends ObjectLiteral>(db: DataSource, entity: EntityTarget<T>, row: Row, alias: string): T | null;
export function hydrate<T extends ObjectLiteral, K extends keyof T & string>(db: DataSource, entity: EntityTarget<T>, row: Row, alias: string, properties: readonly K[]): Pick<T, K> | null;
export function hydrate<T extends ObjectLiteral>(db: DataSource, entity: EntityTarget<T>, row: Row, alias: string, properties: readonly string[] | null = null): T | null {
  const plan = planOf(db, entity, alias, properties);
  const id = row[plan.primaryKey];
  if (id === null || id === undefined) return null;
  const target = plan.metadata.create() as Row;
  for (const field of plan.fields) target[field.property] = db.driver.prepareHydratedValue(row[field.key], field.column);
  return target as T;
}
