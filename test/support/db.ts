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
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await admin.end();
  }
  const url = new URL(server.toString());
  url.pathname = `/${name}`;
  return {
    config: { type: 'mysql', url: url.toString(), database: name },
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
