/**
 * The only module that reads `process.env`. Everything else receives the
 * frozen {@link Config} built here once at start.
 *
 * Variables (see .env.example and the contract's "Running" table):
 * PORT, DATABASE_URL, KEXIN_MIGRATE, KEXIN_ADMIN_TOKEN, KEXIN_DEMO,
 * KEXIN_DATA_KEY, KEXIN_DATA_KEY_PREVIOUS, KEXIN_SIGNING_KEY, KEXIN_MAX_BODY_BYTES,
 * KEXIN_SHUTDOWN_GRACE_MS, KEXIN_DB_POOL_SIZE, KEXIN_METRICS_TOKEN,
 * KEXIN_METRICS_PORT, KEXIN_SLOW_REQUEST_MS, KEXIN_CORS_ORIGINS,
 * KEXIN_ISSUED_KEYS_FILE, NODE_ENV, LOG_LEVEL.
 *
 * Every variable is checked by one zod schema; a bad start names every
 * wrong variable, what it must be and what it got (never a secret's value).
 */
import path from 'node:path';
import { z } from 'zod';
import { parsePrivateKey } from '../modules/transfer-log/transfer-log.checkpoint';

export type DatabaseConfig =
  | {
      readonly type: 'mysql';
      readonly url: string;
      readonly database: string;
      /** Connections Kexin keeps open to the server (mysql2 connectionLimit); {@link DEFAULT_DB_POOL_SIZE} when not given. */
      readonly poolSize?: number;
    }
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
  /** Older data keys (KEXIN_DATA_KEY_PREVIOUS, comma-separated): they only open values sealed before a rotation. */
  readonly previousDataKeys: readonly Buffer[];
  /** Ed25519 private key (PKCS#8 PEM or base64 DER) that signs transfer-log checkpoints; checked to parse. */
  readonly signingKey: string | null;
  /** Largest request body read, in bytes (HTTP 413 beyond). */
  readonly maxBodyBytes: number;
  /** How long a SIGTERM waits for accepted requests to be answered before cutting them. */
  readonly shutdownGraceMs: number;
  readonly production: boolean;
  readonly logLevel: LogLevel;
  /** A request taking at least this long (ms) is logged at `warn` ("slow request") instead of `info`. */
  readonly slowRequestMs: number;
  /** Origins (`https://host[:port]`) whose browser pages may call /graphql (CORS); empty: no CORS headers at all. */
  readonly corsOrigins: readonly string[];
  /** Where a generated admin token and demo keys are written (mode 0600) instead of the log stream. */
  readonly issuedKeysFile: string;
  /** GET /metrics (src/metrics.ts); off (404) when neither is set. */
  readonly metrics: MetricsConfig;
}

export interface MetricsConfig {
  /** Bearer token a scrape must send (KEXIN_METRICS_TOKEN); with it, /metrics is served on the main port too. */
  readonly token: string | null;
  /** A separate port bound to 127.0.0.1 for /metrics only (KEXIN_METRICS_PORT; 0 = any free port); null = none. */
  readonly port: number | null;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_SQLITE_PATH = './data/kexin.sqlite';
export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
/**
 * MySQL connections per Kexin process. Each request holds one only while its
 * statements run, but a write holds its connection for its whole transaction,
 * including the wait for its chain's lock: 10 leaves reads a connection while
 * several batches queue on one chain, and stays far below the server's
 * max_connections (151) with a few processes. More does not add throughput on
 * a small server (2 cores here): the extra queries only queue inside it.
 */
export const DEFAULT_DB_POOL_SIZE = 10;
export const DEFAULT_SLOW_REQUEST_MS = 1000;
/**
 * Apollo Sandbox: studio.apollographql.com/sandbox, and the Sandbox embedded in
 * Apollo's landing page at GET /graphql (an iframe of sandbox.embed.apollographql.com).
 * The CORS default outside production.
 */
export const SANDBOX_ORIGINS = ['https://studio.apollographql.com', 'https://sandbox.embed.apollographql.com'] as const;
/** Issued keys of a MySQL (or in-memory SQLite) server; a SQLite file's are `<file>.issued-keys.txt` beside it. */
export const DEFAULT_ISSUED_KEYS_FILE = './data/kexin-issued-keys.txt';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

type Env = Record<string, string | undefined>;

/** Unset and blank mean the same: the default. */
const optionalText = z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined), z.string().optional());

function got(value: unknown): string {
  return JSON.stringify(value);
}

function wholeNumber(name: string, min: number, max: number, fallback: number, unit = '') {
  return optionalText.transform((value, ctx) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `${name} must be a whole number from ${min} to ${max}${unit}, got ${got(value)}` });
      return z.NEVER;
    }
    return n;
  });
}

function flag(name: string) {
  return optionalText.transform((value, ctx) => {
    if (value === undefined) return null;
    const v = value.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    ctx.addIssue({ code: 'custom', message: `${name} must be true or false (or 1/0), got ${got(value)}` });
    return z.NEVER;
  });
}

const BASE64_KEY = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** A 32-byte key in base64, or null when it is not one. */
function key32(value: string): Buffer | null {
  const key = Buffer.from(value, 'base64');
  return key.length === 32 && BASE64_KEY.test(value) ? key : null;
}

const envSchema = z.object({
  PORT: wholeNumber('PORT', 0, 65535, 4000),
  DATABASE_URL: optionalText.transform((value, ctx) => {
    try {
      return parseDatabaseUrl(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  }),
  KEXIN_MIGRATE: flag('KEXIN_MIGRATE'),
  KEXIN_DEMO: flag('KEXIN_DEMO'),
  KEXIN_ADMIN_TOKEN: optionalText.transform((value, ctx) => {
    if (value !== undefined && value.length < 24) {
      ctx.addIssue({ code: 'custom', message: 'KEXIN_ADMIN_TOKEN must be at least 24 characters long (openssl rand -hex 24)' });
      return z.NEVER;
    }
    return value ?? null;
  }),
  KEXIN_DATA_KEY: optionalText.transform((value, ctx) => {
    if (value === undefined) return null;
    const key = Buffer.from(value, 'base64');
    if (key.length !== 32 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
      ctx.addIssue({ code: 'custom', message: 'KEXIN_DATA_KEY must be 32 bytes encoded as base64 (`openssl rand -base64 32`)' });
      return z.NEVER;
    }
    return key;
  }),
  KEXIN_DATA_KEY_PREVIOUS: optionalText.transform((value, ctx) => {
    if (value === undefined) return [];
    const keys = value.split(',').map((part) => key32(part.trim()));
    if (keys.some((k) => k === null)) {
      ctx.addIssue({ code: 'custom', message: 'KEXIN_DATA_KEY_PREVIOUS must be 32-byte keys encoded as base64, separated by commas' });
      return z.NEVER;
    }
    return keys as Buffer[];
  }),
  KEXIN_SIGNING_KEY: optionalText.transform((value, ctx) => {
    if (value === undefined) return null;
    try {
      parsePrivateKey(value);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: 'KEXIN_SIGNING_KEY must be an Ed25519 private key, PKCS#8 PEM (`openssl genpkey -algorithm ed25519`) or its DER in base64',
      });
      return z.NEVER;
    }
    return value;
  }),
  KEXIN_MAX_BODY_BYTES: wholeNumber('KEXIN_MAX_BODY_BYTES', 1, Number.MAX_SAFE_INTEGER, DEFAULT_MAX_BODY_BYTES, ' (bytes)'),
  KEXIN_SHUTDOWN_GRACE_MS: wholeNumber('KEXIN_SHUTDOWN_GRACE_MS', 1, 3_600_000, DEFAULT_SHUTDOWN_GRACE_MS, ' (milliseconds)'),
  KEXIN_DB_POOL_SIZE: wholeNumber('KEXIN_DB_POOL_SIZE', 1, 1000, DEFAULT_DB_POOL_SIZE, ' (connections)'),
  KEXIN_METRICS_TOKEN: optionalText.transform((value, ctx) => {
    if (value !== undefined && (value.length < 24 || /\s/.test(value))) {
      ctx.addIssue({ code: 'custom', message: 'KEXIN_METRICS_TOKEN must be at least 24 characters without spaces (openssl rand -hex 24)' });
      return z.NEVER;
    }
    return value ?? null;
  }),
  KEXIN_METRICS_PORT: optionalText.transform((value, ctx) => {
    if (value === undefined) return null;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n > 65535) {
      ctx.addIssue({ code: 'custom', message: `KEXIN_METRICS_PORT must be a whole number from 0 to 65535, got ${got(value)}` });
      return z.NEVER;
    }
    return n;
  }),
  KEXIN_SLOW_REQUEST_MS: wholeNumber('KEXIN_SLOW_REQUEST_MS', 0, 3_600_000, DEFAULT_SLOW_REQUEST_MS, ' (milliseconds)'),
  KEXIN_CORS_ORIGINS: optionalText.transform((value, ctx) => {
    if (value === undefined) return null;
    if (value.toLowerCase() === 'none') return [];
    const origins = value.split(',').map((o) => o.trim()).filter((o) => o !== '');
    const bad = origins.filter((o) => !isOrigin(o));
    if (bad.length || origins.length === 0) {
      ctx.addIssue({ code: 'custom', message: `KEXIN_CORS_ORIGINS must be none or a comma list of origins like https://studio.apollographql.com (scheme://host[:port], no path, no *), got ${got(value)}` });
      return z.NEVER;
    }
    return origins;
  }),
  KEXIN_ISSUED_KEYS_FILE: optionalText,
  NODE_ENV: optionalText,
  LOG_LEVEL: optionalText.transform((value, ctx) => {
    if (value === undefined) return null;
    const level = LOG_LEVELS.find((l) => l === value.toLowerCase());
    if (!level) {
      ctx.addIssue({ code: 'custom', message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${got(value)}` });
      return z.NEVER;
    }
    return level;
  }),
});

export interface LoadConfigOptions {
  /**
   * Whether a MySQL DATABASE_URL needs KEXIN_DATA_KEY (default true: the
   * server encrypts ID numbers and phones with it). A command that never
   * reads or writes a person's data (verify-log) passes false.
   */
  readonly requireDataKey?: boolean;
}

/** Reads and validates the environment; throws {@link ConfigError} naming every problem, one per line. */
export function loadConfig(env: Env = process.env, options: LoadConfigOptions = {}): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => issue.message).join('\n'));
  const e = parsed.data;
  if (e.DATABASE_URL.type === 'mysql' && !e.KEXIN_DATA_KEY && options.requireDataKey !== false) {
    throw new ConfigError('KEXIN_DATA_KEY is required with a MySQL DATABASE_URL (32 bytes, base64: `openssl rand -base64 32`)');
  }
  if (e.KEXIN_METRICS_PORT !== null && e.KEXIN_METRICS_PORT !== 0 && e.KEXIN_METRICS_PORT === e.PORT) {
    throw new ConfigError(`KEXIN_METRICS_PORT must differ from PORT (${e.PORT}): the metrics port is a separate loopback listener`);
  }
  const production = e.NODE_ENV === 'production';
  const database = e.DATABASE_URL;
  return Object.freeze({
    port: e.PORT,
    database: e.DATABASE_URL.type === 'mysql' ? { ...e.DATABASE_URL, poolSize: e.KEXIN_DB_POOL_SIZE } : e.DATABASE_URL,
    migrate: e.KEXIN_MIGRATE ?? true,
    adminToken: e.KEXIN_ADMIN_TOKEN,
    demo: e.KEXIN_DEMO,
    dataKey: e.KEXIN_DATA_KEY,
    previousDataKeys: Object.freeze([...e.KEXIN_DATA_KEY_PREVIOUS]),
    signingKey: e.KEXIN_SIGNING_KEY,
    maxBodyBytes: e.KEXIN_MAX_BODY_BYTES,
    shutdownGraceMs: e.KEXIN_SHUTDOWN_GRACE_MS,
    production,
    logLevel: e.LOG_LEVEL ?? (e.NODE_ENV === 'test' ? 'silent' : 'info'),
    metrics: Object.freeze({ token: e.KEXIN_METRICS_TOKEN, port: e.KEXIN_METRICS_PORT }),
    slowRequestMs: e.KEXIN_SLOW_REQUEST_MS,
    corsOrigins: Object.freeze(e.KEXIN_CORS_ORIGINS ?? (production ? [] : [...SANDBOX_ORIGINS])),
    issuedKeysFile: e.KEXIN_ISSUED_KEYS_FILE ?? (database.type === 'sqlite' && database.path !== ':memory:' ? database.path + '.issued-keys.txt' : DEFAULT_ISSUED_KEYS_FILE),
  });
}

/** `scheme://host[:port]` exactly as a browser sends it in `Origin` (lower case, no path, no trailing slash). */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}

/** `mysql://user:pass@host:3306/db`, `sqlite:PATH`, or unset for the embedded default. */
export function parseDatabaseUrl(raw: string | undefined): DatabaseConfig {
  const value = raw === undefined || raw.trim() === '' ? null : raw.trim();
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
