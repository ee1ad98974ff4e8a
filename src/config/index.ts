/**
 * The only module that reads `process.env`. Everything else receives the
 * frozen {@link Config} built here once at start.
 *
 * Variables (see .env.example and the contract's "Running" table):
 * PORT, DATABASE_URL, KEXIN_MIGRATE, KEXIN_ADMIN_TOKEN, KEXIN_DEMO,
 * KEXIN_DATA_KEY, KEXIN_SIGNING_KEY, KEXIN_MAX_BODY_BYTES, NODE_ENV, LOG_LEVEL.
 */
import path from 'node:path';

export type DatabaseConfig =
  | { readonly type: 'mysql'; readonly url: string; readonly database: string }
  | { readonly type: 'sqlite'; readonly path: string; readonly isDefault: boolean };

export interface Config {
  readonly port: number;
  readonly database: DatabaseConfig;
  /** Apply pending migrations at start (true) or refuse to start with pending ones (false). */
  readonly migrate: boolean;
  /** Bootstrap bearer token of the EXCHANGE ADMIN; generated for the embedded default when unset. */
  readonly adminToken: string | null;
  /** `true`/`false` when KEXIN_DEMO is set; `null` means "seed only a freshly created embedded database". */
  readonly demo: boolean | null;
  /** 32-byte AES key for ID numbers and phones at rest; required with MySQL. */
  readonly dataKey: Buffer | null;
  /** Ed25519 private key (PKCS#8 PEM or base64 DER) that signs transfer-log checkpoints. */
  readonly signingKey: string | null;
  /** Largest request body read, in bytes; a bigger one answers 413 (a full 500-record batch is under 1 MB). */
  readonly maxBodyBytes: number;
  readonly production: boolean;
  readonly logLevel: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_SQLITE_PATH = './data/kexin.sqlite';

type Env = Record<string, string | undefined>;

export interface LoadConfigOptions {
  /**
   * Whether a MySQL DATABASE_URL needs KEXIN_DATA_KEY (default true: the
   * server encrypts ID numbers and phones with it). A command that never
   * reads or writes a person's data (verify-log) passes false.
   */
  readonly requireDataKey?: boolean;
}

/** Reads and validates the environment; throws {@link ConfigError} naming the problem. */
export function loadConfig(env: Env = process.env, options: LoadConfigOptions = {}): Config {
  const config: Config = {
    port: parsePort(env.PORT),
    database: parseDatabaseUrl(env.DATABASE_URL),
    migrate: parseBoolean('KEXIN_MIGRATE', env.KEXIN_MIGRATE) ?? true,
    adminToken: parseAdminToken(env.KEXIN_ADMIN_TOKEN),
    demo: parseBoolean('KEXIN_DEMO', env.KEXIN_DEMO),
    dataKey: parseDataKey(env.KEXIN_DATA_KEY),
    signingKey: blankToNull(env.KEXIN_SIGNING_KEY),
    maxBodyBytes: parseMaxBodyBytes(env.KEXIN_MAX_BODY_BYTES),
    production: env.NODE_ENV === 'production',
    logLevel: blankToNull(env.LOG_LEVEL) ?? (env.NODE_ENV === 'test' ? 'silent' : 'info'),
  };
  if (config.database.type === 'mysql' && !config.dataKey && options.requireDataKey !== false) {
    throw new ConfigError('KEXIN_DATA_KEY is required with a MySQL DATABASE_URL (32 bytes, base64: `openssl rand -base64 32`)');
  }
  return Object.freeze(config);
}

function blankToNull(value: string | undefined): string | null {
  return value === undefined || value.trim() === '' ? null : value.trim();
}

function parsePort(raw: string | undefined): number {
  const value = blankToNull(raw);
  if (value === null) return 4000;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 0 || port > 65535) {
    throw new ConfigError(`PORT must be a whole number from 0 to 65535, got "${value}"`);
  }
  return port;
}

export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;

function parseMaxBodyBytes(raw: string | undefined): number {
  const value = blankToNull(raw);
  if (value === null) return DEFAULT_MAX_BODY_BYTES;
  const bytes = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(bytes) || bytes < 1) {
    throw new ConfigError(`KEXIN_MAX_BODY_BYTES must be a positive whole number of bytes, got "${value}"`);
  }
  return bytes;
}

function parseBoolean(name: string, raw: string | undefined): boolean | null {
  const value = blankToNull(raw)?.toLowerCase();
  if (value === undefined || value === null) return null;
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(`${name} must be true or false (or 1/0), got "${raw}"`);
}

function parseAdminToken(raw: string | undefined): string | null {
  const value = blankToNull(raw);
  if (value !== null && value.length < 24) {
    throw new ConfigError('KEXIN_ADMIN_TOKEN must be at least 24 characters long');
  }
  return value;
}

function parseDataKey(raw: string | undefined): Buffer | null {
  const value = blankToNull(raw);
  if (value === null) return null;
  const key = Buffer.from(value, 'base64');
  if (key.length !== 32 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
    throw new ConfigError('KEXIN_DATA_KEY must be 32 bytes encoded as base64 (`openssl rand -base64 32`)');
  }
  return key;
}

/** `mysql://user:pass@host:3306/db`, `sqlite:PATH`, or unset for the embedded default. */
export function parseDatabaseUrl(raw: string | undefined): DatabaseConfig {
  const value = blankToNull(raw);
  if (value === null) return { type: 'sqlite', path: DEFAULT_SQLITE_PATH, isDefault: true };
  if (value.startsWith('sqlite:')) {
    const file = value.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file === '') throw new ConfigError('DATABASE_URL "sqlite:" needs a file path, e.g. sqlite:./data/kexin.sqlite');
    return { type: 'sqlite', path: file === ':memory:' ? file : path.normalize(file), isDefault: false };
  }
  if (value.startsWith('mysql://') || value.startsWith('mariadb://')) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ConfigError('DATABASE_URL is not a valid URL (expected mysql://user:pass@host:3306/db)');
    }
    const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
    if (!url.hostname) throw new ConfigError('DATABASE_URL has no host (expected mysql://user:pass@host:3306/db)');
    if (!database || database.includes('/')) {
      throw new ConfigError('DATABASE_URL names no database (expected mysql://user:pass@host:3306/db)');
    }
    return { type: 'mysql', url: value.replace(/^mariadb:/, 'mysql:'), database };
  }
  throw new ConfigError('DATABASE_URL must start with mysql:// or sqlite: (unset means ./data/kexin.sqlite)');
}
