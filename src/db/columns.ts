import type { ValueTransformer } from 'typeorm';

/**
 * Column helpers shared by every entity, so MySQL and SQLite store the same
 * shapes: ids are VARCHAR(36) UUIDv7 strings (TypeORM's SQLite driver has no CHAR), instants are DATETIME(3) in UTC,
 * counters come back as numbers on both drivers.
 */
export const idColumn = { type: 'varchar', length: 36 } as const;

/** MySQL returns BIGINT and COUNT(*) as strings, SQLite as numbers: normalise. */
export const numberTransformer: ValueTransformer = {
  to: (value: unknown) => value,
  from: (value: unknown) => (value === null || value === undefined ? value : Number(value)),
};

/** DATETIME(3): millisecond precision on MySQL/MariaDB; TypeORM stores ISO text on SQLite. */
export const instantColumn = { type: 'datetime', precision: 3 } as const;

/** A calendar date kept as the 'YYYY-MM-DD' string it is on the wire. */
export const dateColumn = { type: 'date' } as const;

export function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}
