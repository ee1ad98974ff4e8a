import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Io } from '../../src/cli/cli-support';
import { startTestApp, type TestApp } from './app';
import { createDataSource } from '../../src/db/data-source';
import { createTestDatabase, TEST_DB } from './db';

export interface CliApp {
  app: TestApp;
  /** A fresh temporary directory (the SQLite database lives there); removed by stopCliApp. */
  dir: string;
  /** The environment a command run gets: the app's database, with its data key. */
  env: Record<string, string>;
}

/**
 * A test app for a command-line test: on SQLite a database file in a fresh
 * directory (a command opens it by its URL), on MySQL this run's database.
 * `extraEnv` goes both to the app and to the command's environment.
 */
export async function startCliApp(dirPrefix: string, extraEnv: Record<string, string> = {}): Promise<CliApp> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), dirPrefix));
  const sqliteUrl = `sqlite:${path.join(dir, 'kexin.sqlite')}`;
  const app = await startTestApp({ ...extraEnv, ...(TEST_DB === 'sqlite' ? { DATABASE_URL: sqliteUrl } : {}) });
  const env = {
    NODE_ENV: 'test',
    DATABASE_URL: app.config.database.type === 'mysql' ? app.config.database.url : sqliteUrl,
    KEXIN_DATA_KEY: Buffer.alloc(32, 7).toString('base64'),
    ...extraEnv,
  };
  return { app, dir, env };
}

export async function stopCliApp(app: TestApp, dir: string): Promise<void> {
  await app.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Runs a command's run function with `env`, and what it wrote to standard output and error. */
export async function runCaptured(
  run: (argv: readonly string[], env: Record<string, string | undefined>, io: Io) => Promise<number>,
  argv: readonly string[],
  env: Record<string, string>,
): Promise<{ status: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await run(argv, env, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { status, out: out.join(''), err: err.join('') };
}

type Run = (argv: readonly string[], env: Record<string, string | undefined>, io: Io) => Promise<number>;

/** A refusal of a usage mistake: status 2, nothing on standard output, one line on standard error naming `message` and pointing to --help. */
export function expectUsageRefusal(result: { status: number; out: string; err: string }, message: RegExp): void {
  expect(result).toMatchObject({ status: 2, out: '' });
  expect(result.err.split('\n')).toEqual([expect.stringMatching(message), '']);
  expect(result.err).toMatch(/-- --help\)$/m);
}

/**
 * Runs a command where the server has not created its database yet: a
 * missing SQLite file (its folder must not appear), an empty SQLite file,
 * and on MySQL a missing database and an empty one. Each answers status 2
 * with one line saying so and how to create it (npm start), and nothing
 * is created.
 */
export async function expectNoDatabaseRefusal(run: Run, argv: readonly string[], env: Record<string, string>, dir: string): Promise<void> {
  const missing = path.join(dir, 'not-yet', 'kexin.sqlite');
  const none = await runCaptured(run, argv, { ...env, DATABASE_URL: `sqlite:${missing}` });
  expect(none).toMatchObject({ status: 2, out: '' });
  expect(none.err).toMatch(/^[a-z-]+: there is no database at \S*not-yet.kexin\.sqlite: start the server once \(npm start\) to create it/);
  expect(none.err.trim().split('\n')).toHaveLength(1);
  expect(fs.existsSync(path.dirname(missing))).toBe(false);

  const empty = path.join(dir, 'empty.sqlite');
  fs.writeFileSync(empty, '');
  const blank = await runCaptured(run, argv, { ...env, DATABASE_URL: `sqlite:${empty}` });
  expect(blank).toMatchObject({ status: 2, out: '' });
  expect(blank.err).toMatch(/holds no Kexin schema yet: start the server once \(npm start\)/);
  expect(blank.err).not.toMatch(/pending migrations/);
  const check = await createDataSource({ type: 'sqlite', path: empty, isDefault: false });
  await check.initialize();
  try {
    expect(await check.query('SELECT name FROM sqlite_master')).toEqual([]);
  } finally {
    await check.destroy();
  }

  if (TEST_DB !== 'mysql') return;
  const absentUrl = new URL(env.DATABASE_URL!);
  absentUrl.pathname = `/kexin_absent_${Date.now().toString(36)}`;
  const absent = await runCaptured(run, argv, { ...env, DATABASE_URL: absentUrl.toString() });
  expect(absent).toMatchObject({ status: 2, out: '' });
  expect(absent.err).toMatch(/there is no database `kexin_absent_\w+` on the MySQL server: create it/);

  const fresh = await createTestDatabase();
  try {
    const url = (fresh.config as { url: string }).url;
    const unset = await runCaptured(run, argv, { ...env, DATABASE_URL: url });
    expect(unset).toMatchObject({ status: 2, out: '' });
    expect(unset.err).toMatch(/holds no Kexin schema yet: start the server once \(npm start\)/);
    const mysql = await import('mysql2/promise');
    const conn = await mysql.createConnection({ uri: url });
    try {
      const [tables] = await conn.query('SHOW TABLES');
      expect(tables).toEqual([]);
    } finally {
      await conn.end();
    }
  } finally {
    await fresh.drop();
  }
}
