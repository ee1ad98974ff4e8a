import type { DataSource, EntityManager } from 'typeorm';
import { isSqlite } from './dialect';

/** MySQL/MariaDB errors after which the whole transaction may simply be run again. */
const RETRYABLE_ERRNOS = new Set([1213 /* ER_LOCK_DEADLOCK */, 1205 /* ER_LOCK_WAIT_TIMEOUT */]);
const MAX_ATTEMPTS = 5;

/**
 * One FIFO queue per SQLite data source: TypeORM's better-sqlite3 driver
 * shares a single connection, so two transactions open at once would
 * interleave their statements on it. Each transaction waits its turn.
 */
const sqliteQueues = new WeakMap<DataSource, Promise<unknown>>();

/**
 * First statement of every SQLite transaction: a write that changes nothing,
 * so the write lock is taken at the start, waiting (busy_timeout) for another
 * process's transaction. TypeORM begins deferred transactions; one that read
 * first and then wanted to write while another process (npm run rotate-key
 * on the server's file) had committed failed at once with "database is
 * locked" instead of waiting (seen: submitSales answering
 * INTERNAL_SERVER_ERROR during a rotation).
 */
const TAKE_WRITE_LOCK = 'UPDATE kexin_migrations SET id = id WHERE 1 = 0';

/**
 * Who hears of every retry on a data source (the server's metrics): per data
 * source rather than per call, so each of the write paths that call
 * inTransaction is counted without passing an option through all of them.
 */
const retryObservers = new WeakMap<DataSource, (errno: number | undefined) => void>();

/** Calls `observer` with the errno (1213/1205) of every retry `inTransaction` makes on `db` (one observer per data source: the last server built on it). */
export function observeRetries(db: DataSource, observer: (errno: number | undefined) => void): void {
  retryObservers.set(db, observer);
}

function errnoOf(error: unknown): number | undefined {
  const e = error as { errno?: number; driverError?: { errno?: number } } | null;
  return e?.errno ?? e?.driverError?.errno;
}

export function isRetryableError(error: unknown): boolean {
  const errno = errnoOf(error);
  return errno !== undefined && RETRYABLE_ERRNOS.has(errno);
}

export interface TransactionOptions {
  /** Called before each retry (for logs and tests). */
  onRetry?: (attempt: number, error: unknown) => void;
  /** Base delay in ms for the exponential backoff (default 20). */
  backoffMs?: number;
}

/**
 * Runs `work` in one transaction. On MySQL a deadlock or lock-wait timeout
 * (1213/1205, also what Galera and sharded engines answer) rolls back and
 * retries the whole function with jittered exponential backoff, so `work`
 * must not have side effects outside the entity manager it is given.
 * On the embedded SQLite, transactions run one at a time in arrival order.
 */
export async function inTransaction<T>(db: DataSource, work: (em: EntityManager) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  if (isSqlite(db)) {
    return enqueue(db, () =>
      db.transaction(async (em) => {
        await em.query(TAKE_WRITE_LOCK);
        return work(em);
      }),
    );
  }
  const backoff = options.backoffMs ?? 20;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await db.transaction('READ COMMITTED', work);
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS || !isRetryableError(error)) throw error;
      options.onRetry?.(attempt, error);
      retryObservers.get(db)?.(errnoOf(error));
      const delay = backoff * 2 ** (attempt - 1);
      await new Promise((resolve) => setTimeout(resolve, delay / 2 + Math.random() * delay));
    }
  }
}

function enqueue<T>(db: DataSource, task: () => Promise<T>): Promise<T> {
  const previous = sqliteQueues.get(db) ?? Promise.resolve();
  const run = previous.then(task, task);
  sqliteQueues.set(db, run.catch(() => undefined));
  return run;
}
