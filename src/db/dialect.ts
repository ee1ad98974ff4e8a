/**
 * What differs between the two drivers, asked in one place: which one
 * answers, and how each reports a refused unique key. No imports of the
 * data source itself, so any module may ask.
 */
import type { DataSource } from 'typeorm';

/** Whether this data source is the embedded SQLite default (one shared connection, no row locks). Pass `em.connection` for a manager. */
export function isSqlite(db: Pick<DataSource, 'options'>): boolean {
  return db.options.type === 'better-sqlite3';
}

/** A unique index refused a row (MySQL 1062, SQLite's constraint errors): someone else wrote it first. */
export function isDuplicateKeyError(error: unknown): boolean {
  const e = error as { errno?: number; code?: string; driverError?: { errno?: number; code?: string } } | null;
  const errno = e?.errno ?? e?.driverError?.errno;
  const code = e?.code ?? e?.driverError?.code ?? '';
  return errno === 1062 /* ER_DUP_ENTRY */ || code.startsWith('SQLITE_CONSTRAINT');
}
