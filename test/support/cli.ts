import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Io } from '../../src/cli/cli-support';
import { startTestApp, type TestApp } from './app';
import { TEST_DB } from './db';

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
