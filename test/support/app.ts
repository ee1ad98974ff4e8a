import type { DataSource } from 'typeorm';
import { loadConfig, type Config } from '../../src/config';
import { bootstrap } from '../../src/db/bootstrap';
import { createDataSource } from '../../src/db/data-source';
import { resolveSecrets } from '../../src/db/secrets';
import { createLogger, type Logger } from '../../src/logger';
import { createServer, type KexinServer } from '../../src/server';
import { createTestDatabase, type TestDatabase } from './db';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface GqlResult<T = Record<string, any>> {
  data?: T | null;
  errors?: Array<{ message: string; path?: readonly (string | number)[]; extensions?: Record<string, any> }>;
}

export interface TestApp {
  config: Config;
  db: DataSource;
  server: KexinServer;
  services: KexinServer['services'];
  /** Runs an operation through the real Apollo pipeline (shield, formatError) as the holder of `token`. */
  gql<T = Record<string, any>>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>>;
  /** Like gql, but fails the test on any error and returns data. */
  ok<T = Record<string, any>>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<T>;
  /** Starts listening on a free loopback port (once) and returns the base URL. */
  url(): Promise<string>;
  close(): Promise<void>;
}

/**
 * A Kexin server on a fresh database of this run's kind (SQLite in memory or a
 * new MySQL database), migrated and bootstrapped, with the admin token
 * {@link ADMIN_TOKEN}. One per test file; `database` instead of a fresh one
 * (the bench's kept scale book); `options.log` instead of the silent logger.
 */
export async function startTestApp(env: Record<string, string> = {}, database?: TestDatabase, options: { log?: Logger } = {}): Promise<TestApp> {
  const test = database ?? (await createTestDatabase());
  const config = loadConfig({
    NODE_ENV: 'test',
    KEXIN_ADMIN_TOKEN: ADMIN_TOKEN,
    KEXIN_DATA_KEY: Buffer.alloc(32, 7).toString('base64'),
    DATABASE_URL: test.config.type === 'mysql' ? test.config.url : 'sqlite::memory:',
    ...env,
  });
  const db = await createDataSource(config.database);
  await db.initialize();
  await db.runMigrations({ transaction: 'each' });
  const server = await createServer({ config, db, log: options.log ?? createLogger(config.logLevel), secrets: resolveSecrets(config) });
  await bootstrap(server.services, config.adminToken);
  let baseUrl: string | null = null;

  const gql = async <T>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>> => {
    const response = await server.apollo.executeOperation<T>({ query, variables }, { contextValue: await server.contextFor(token) });
    if (response.body.kind !== 'single') throw new Error('unexpected incremental response');
    return response.body.singleResult as GqlResult<T>;
  };

  return {
    config,
    db,
    server,
    services: server.services,
    gql,
    ok: async <T>(token: string | null, query: string, variables?: Record<string, unknown>) => {
      const result = await gql<T>(token, query, variables);
      if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
      return result.data as T;
    },
    url: async () => {
      if (!baseUrl) baseUrl = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
      return baseUrl;
    },
    close: async () => {
      await server.stop();
      if (db.isInitialized) await db.destroy();
      await test.drop();
    },
  };
}

/** The `extensions.code` of the first error, or undefined. */
export function errorCode(result: GqlResult<unknown>): string | undefined {
  return result.errors?.[0]?.extensions?.code as string | undefined;
}
