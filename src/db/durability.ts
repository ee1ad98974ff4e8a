import type { DataSource } from 'typeorm';
import { isSqlite } from './dialect';

/**
 * Why the database may lose a commit Kexin has already acknowledged, or null
 * when its settings are durable. On MySQL/MariaDB InnoDB must write and
 * flush its redo log at every commit (`innodb_flush_log_at_trx_commit = 1`):
 * with 0 a kill -9 of the server loses up to a second (the flush timeout) of
 * acknowledged batches, with 2 a crash of the machine does (issue 11, item 4).
 * SQLite runs in WAL with synchronous FULL (set in data-source.ts), which keeps
 * every commit through a kill of the process and a power loss; it is not asked here.
 */
export async function durabilityWarning(db: DataSource): Promise<string | null> {
  if (isSqlite(db)) return null;
  const rows = (await db.query('SELECT @@innodb_flush_log_at_trx_commit AS flush')) as Array<{ flush: unknown }>;
  const flush = Number(rows[0]?.flush);
  if (flush === 1) return null;
  return `the database is not durable: innodb_flush_log_at_trx_commit = ${String(rows[0]?.flush)} (not 1), so a crash of the database server (0) or of its machine (2) can lose transactions Kexin has already acknowledged. Set innodb_flush_log_at_trx_commit = 1.`;
}
