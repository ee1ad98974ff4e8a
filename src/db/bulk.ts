/**
 * Multi-row writes and lookups sized under the drivers' parameter limits
 * (issue 4 item 5): the batch shape of every bulk write, whatever the table.
 * Every function takes the caller's EntityManager (its transaction).
 */
import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

/** Rows per multi-row statement: well under MySQL's 65,535 and SQLite's 32,766 bound parameters. */
export const CHUNK_ROWS = 200;
/** Values per `IN (…)` list. */
export const CHUNK_IN = 1000;

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Multi-row INSERT, chunked. */
export async function insertRows<T extends ObjectLiteral>(em: EntityManager, target: EntityTarget<T>, rows: T[]): Promise<void> {
  for (const part of chunk(rows, CHUNK_ROWS)) await em.createQueryBuilder().insert().into(target).values(part).execute();
}

/**
 * Multi-row INSERT … ON DUPLICATE KEY UPDATE (MySQL/MariaDB) / ON CONFLICT (id)
 * DO UPDATE (SQLite), chunked: new rows and changed rows in one statement.
 * Only for tables whose rows this transaction owns under the insurer's chain
 * lock, so the only key that can collide is the primary key.
 */
export async function upsertRows<T extends ObjectLiteral>(em: EntityManager, target: EntityTarget<T>, rows: T[], overwrite: string[]): Promise<void> {
  for (const part of chunk(rows, CHUNK_ROWS)) {
    await em.createQueryBuilder().insert().into(target).values(part).orUpdate(overwrite, ['id']).execute();
  }
}
