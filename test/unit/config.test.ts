import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, loadConfig, parseDatabaseUrl } from '../../src/config';
import { dataSourceOptions } from '../../src/db/data-source';

const KEY = Buffer.alloc(32, 1).toString('base64');

describe('config', () => {
  it('defaults to the embedded SQLite file, port 4000, migrations on', () => {
    const config = loadConfig({});
    expect(config.database).toEqual({ type: 'sqlite', path: './data/kexin.sqlite', isDefault: true });
    expect(config.port).toBe(4000);
    expect(config.migrate).toBe(true);
    expect(config.demo).toBeNull();
    expect(config.adminToken).toBeNull();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads sqlite: and mysql:// URLs', () => {
    expect(parseDatabaseUrl('sqlite:./x/y.db')).toEqual({ type: 'sqlite', path: 'x/y.db', isDefault: false });
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ type: 'sqlite', path: ':memory:', isDefault: false });
    expect(parseDatabaseUrl('mysql://root@127.0.0.1:3306/kexin')).toEqual({ type: 'mysql', url: 'mysql://root@127.0.0.1:3306/kexin', database: 'kexin' });
  });

  it.each([
    ['postgres://x/y', /must start with mysql:\/\/ or sqlite:/],
    ['mysql://127.0.0.1:3306', /names no database/],
    ['mysql://127.0.0.1:3306/', /names no database/],
    ['mysql://:bad', /not a valid URL|no host/],
    ['sqlite:', /needs a file path/],
  ])('a bad DATABASE_URL %s names the problem', (url, message) => {
    expect(() => loadConfig({ DATABASE_URL: url, KEXIN_DATA_KEY: KEY })).toThrow(message);
    expect(() => loadConfig({ DATABASE_URL: url, KEXIN_DATA_KEY: KEY })).toThrow(ConfigError);
  });

  it('requires KEXIN_DATA_KEY with MySQL and checks its size', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://root@h/db' })).toThrow(/KEXIN_DATA_KEY is required/);
    expect(() => loadConfig({ KEXIN_DATA_KEY: Buffer.alloc(16).toString('base64') })).toThrow(/32 bytes/);
    expect(loadConfig({ DATABASE_URL: 'mysql://root@h/db', KEXIN_DATA_KEY: KEY }).dataKey?.length).toBe(32);
  });

  it('validates PORT, booleans and the admin token', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
    expect(() => loadConfig({ KEXIN_MIGRATE: 'maybe' })).toThrow(/KEXIN_MIGRATE/);
    expect(loadConfig({ KEXIN_MIGRATE: 'false', KEXIN_DEMO: '1' })).toMatchObject({ migrate: false, demo: true });
    expect(() => loadConfig({ KEXIN_ADMIN_TOKEN: 'short' })).toThrow(/at least 24/);
    expect(loadConfig({ NODE_ENV: 'production' }).production).toBe(true);
  });

  it('names the allowed log levels for a bad LOG_LEVEL', () => {
    expect(() => loadConfig({ LOG_LEVEL: 'verbose' })).toThrow(ConfigError);
    expect(() => loadConfig({ LOG_LEVEL: 'verbose' })).toThrow('LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"');
    expect(loadConfig({ LOG_LEVEL: 'DEBUG' }).logLevel).toBe('debug');
  });

  it('parses KEXIN_SIGNING_KEY at start: a clear error for anything but an Ed25519 private key, never the key itself', () => {
    for (const bad of ['notapem', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----', rsaKey()]) {
      let error: unknown;
      try {
        loadConfig({ KEXIN_SIGNING_KEY: bad });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/^KEXIN_SIGNING_KEY must be an Ed25519 private key, PKCS#8 PEM/);
      expect((error as Error).message).not.toContain(bad.slice(0, 12));
    }
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(loadConfig({ KEXIN_SIGNING_KEY: pem }).signingKey).toBe(pem.trim());
  });

  it('reads the body limit and the shutdown grace period, positive whole numbers with defaults', () => {
    expect(loadConfig({})).toMatchObject({ maxBodyBytes: 2 * 1024 * 1024, shutdownGraceMs: 10_000 });
    expect(loadConfig({ KEXIN_MAX_BODY_BYTES: '1000', KEXIN_SHUTDOWN_GRACE_MS: '2500' })).toMatchObject({ maxBodyBytes: 1000, shutdownGraceMs: 2500 });
    for (const bad of ['0', '-1', '1.5', '2MB']) {
      expect(() => loadConfig({ KEXIN_MAX_BODY_BYTES: bad })).toThrow(/^KEXIN_MAX_BODY_BYTES must be a whole number from 1/);
      expect(() => loadConfig({ KEXIN_SHUTDOWN_GRACE_MS: bad })).toThrow(/^KEXIN_SHUTDOWN_GRACE_MS must be a whole number from 1/);
    }
  });

  it('gives MySQL a connection pool of KEXIN_DB_POOL_SIZE (default 10), handed to the data source', () => {
    const mysql = (env: Record<string, string> = {}) => loadConfig({ DATABASE_URL: 'mysql://root@h/db', KEXIN_DATA_KEY: KEY, ...env }).database;
    expect(mysql()).toEqual({ type: 'mysql', url: 'mysql://root@h/db', database: 'db', poolSize: 10 });
    expect(dataSourceOptions(mysql({ KEXIN_DB_POOL_SIZE: '24' }))).toMatchObject({ type: 'mysql', poolSize: 24 });
    expect(loadConfig({ KEXIN_DB_POOL_SIZE: '4' }).database).toEqual({ type: 'sqlite', path: './data/kexin.sqlite', isDefault: true });
    for (const bad of ['0', '1001', '2.5', 'ten']) {
      expect(() => mysql({ KEXIN_DB_POOL_SIZE: bad })).toThrow(/^KEXIN_DB_POOL_SIZE must be a whole number from 1 to 1000 \(connections\)/);
    }
  });

  it('lists every wrong variable at once, one per line', () => {
    expect(() => loadConfig({ PORT: 'x', LOG_LEVEL: 'loud', KEXIN_DEMO: 'maybe' })).toThrow(/^PORT .*\nKEXIN_DEMO .*\nLOG_LEVEL .*$/);
  });
});

function rsaKey(): string {
  return generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}
