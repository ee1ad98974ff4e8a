import fs from 'node:fs';
import path from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { DEFAULT_DB_POOL_SIZE, type DatabaseConfig } from '../config';
import { entities } from './entities';
import { migrations } from '../../migrations';

/**
 * Options for MySQL 8 / MariaDB 10.11+ or better-sqlite3; `synchronize` is never on.
 * `flavor` tells TypeORM which of the two MySQL dialects answers: MariaDB reports
 * column defaults differently, and reading its schema as MySQL shows false drift.
 */
export function dataSourceOptions(database: DatabaseConfig, flavor: 'mysql' | 'mariadb' = 'mysql'): DataSourceOptions {
  const common = {
    entities,
    migrations,
    migrationsTableName: 'kexin_migrations',
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    migrationsRun: false,
    logging: false,
    // TypeORM 1.x already throws on a `where` with null/undefined; state it so an
    // upgrade or a copied option can never turn it into "match every row".
    invalidWhereValuesBehavior: { null: 'throw' as const, undefined: 'throw' as const },
  };
  if (database.type === 'mysql') {
    return {
      ...common,
      type: flavor,
      url: database.url,
      charset: 'utf8mb4_unicode_ci',
      timezone: 'Z',
      supportBigNumbers: true,
      bigNumberStrings: false,
      poolSize: database.poolSize ?? DEFAULT_DB_POOL_SIZE,
      connectTimeout: 10_000,
    };
  }
  if (database.path !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(database.path)), { recursive: true });
  return {
    ...common,
    type: 'better-sqlite3',
    database: database.path,
    enableWAL: database.path !== ':memory:',
    timeout: 10_000,
    prepareDatabase: (raw: { pragma: (sql: string) => unknown }) => {
      raw.pragma('foreign_keys = ON');
      raw.pragma('busy_timeout = 10000');
      // FULL, not WAL's default NORMAL: NORMAL keeps every commit through a kill of
      // the process but can lose the last acknowledged ones on a power loss or an
      // OS crash; "nothing acknowledged is lost" is worth one fsync per commit.
      raw.pragma('synchronous = FULL');
    },
  };
}

/** Builds (does not connect) the data source; on MySQL URLs it first asks the server whether it is MariaDB. */
export async function createDataSource(database: DatabaseConfig): Promise<DataSource> {
  const flavor = database.type === 'mysql' ? await detectMysqlFlavor(database.url) : 'mysql';
  return new DataSource(dataSourceOptions(database, flavor));
}

async function detectMysqlFlavor(url: string): Promise<'mysql' | 'mariadb'> {
  const mysql = await import('mysql2/promise');
  const conn = await mysql.createConnection({ uri: url, connectTimeout: 10_000 });
  try {
    const [rows] = await conn.query('SELECT VERSION() AS version');
    const version = String((rows as Array<{ version: string }>)[0]?.version ?? '');
    return version.toLowerCase().includes('mariadb') ? 'mariadb' : 'mysql';
  } finally {
    await conn.end();
  }
}

/** Initialises the data source and applies (or, with migrate=false, refuses) pending migrations. */
export async function openDatabase(database: DatabaseConfig, options: { migrate: boolean }): Promise<DataSource> {
  const db = await createDataSource(database);
  await db.initialize();
  try {
    if (options.migrate) {
      await db.runMigrations({ transaction: 'each' });
    } else if (await db.showMigrations()) {
      throw new Error('there are pending migrations and KEXIN_MIGRATE=false: apply them first');
    }
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return db;
}
