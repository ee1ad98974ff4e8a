import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../../src/config';
import { createDataSource } from '../../src/db/data-source';

/** Which database this jest run targets: `KEXIN_TEST_DB=mysql` with `TEST_MYSQL_URL`, else SQLite in memory. */
export const TEST_DB: 'sqlite' | 'mysql' = process.env.KEXIN_TEST_DB === 'mysql' ? 'mysql' : 'sqlite';

function mysqlServerUrl(): URL {
  const raw = process.env.TEST_MYSQL_URL;
  if (!raw) throw new Error('KEXIN_TEST_DB=mysql needs TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/kexin_test');
  return new URL(raw);
}

export interface TestDatabase {
  config: DatabaseConfig;
  /** Drops the per-file MySQL database (a no-op for SQLite in memory). */
  drop(): Promise<void>;
}

/** A fresh, empty database for one test file: SQLite in memory, or a new utf8mb4 MySQL database. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (TEST_DB === 'sqlite') {
    return { config: { type: 'sqlite', path: ':memory:', isDefault: false }, drop: async () => undefined };
  }
  const server = mysqlServerUrl();
  const name = `kexin_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = await adminConnection(server);
  try {
    await createDatabase(admin, name);
  } finally {
    await admin.end();
  }
  return {
    config: mysqlConfig(server, name),
    drop: async () => {
      const conn = await adminConnection(server);
      try {
        await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await conn.end();
      }
    },
  };
}

/**
 * A MySQL database `name` kept across runs (the bench's scale book, hours to
 * load): reused when it exists and `keep` (given a connection to it) says its
 * content is still what the caller wants; otherwise dropped and created
 * empty. `drop` leaves it in place.
 */
export async function keptTestDatabase(name: string, keep: (conn: Awaited<ReturnType<typeof adminConnection>>) => Promise<boolean>): Promise<TestDatabase & { reused: boolean }> {
  const server = mysqlServerUrl();
  const admin = await adminConnection(server);
  try {
    const [found] = (await admin.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = ?', [name])) as unknown as [unknown[]];
    let reused = false;
    if (found.length > 0) {
      await admin.query(`USE \`${name}\``);
      reused = await keep(admin);
    }
    if (!reused) {
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await createDatabase(admin, name);
    }
    return { config: mysqlConfig(server, name), drop: async () => undefined, reused };
  } finally {
    await admin.end();
  }
}

async function createDatabase(admin: Awaited<ReturnType<typeof adminConnection>>, name: string): Promise<void> {
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
}

function mysqlConfig(server: URL, name: string): DatabaseConfig {
  const url = new URL(server.toString());
  url.pathname = `/${name}`;
  return { type: 'mysql', url: url.toString(), database: name };
}

async function adminConnection(server: URL) {
  const mysql = await import('mysql2/promise');
  return mysql.createConnection({
    host: server.hostname,
    port: Number(server.port || 3306),
    user: decodeURIComponent(server.username || 'root'),
    password: decodeURIComponent(server.password || ''),
  });
}

/** A data source on a fresh database, not yet initialised. */
export async function createTestDataSource(): Promise<{ db: DataSource; drop: () => Promise<void> }> {
  const test = await createTestDatabase();
  const db = await createDataSource(test.config);
  return {
    db,
    drop: async () => {
      if (db.isInitialized) await db.destroy();
      await test.drop();
    },
  };
}
