import type { TableColumnOptions } from 'typeorm';

/**
 * Column shapes shared by the migrations; they mirror src/db/columns.ts.
 * `id()` is the shape as shipped (the database's default character set):
 * on MySQL/MariaDB migration 0011 turns every id column of the tables that
 * exist then into ascii_bin. A table created by a later migration must give
 * its id columns `{ charset: 'ascii', collation: 'ascii_bin' }` too, or a
 * join of its ids with the others compares across collations.
 */
export function id(name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions {
  return { name, type: 'varchar', length: '36', ...extra };
}

export function instant(name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions {
  return { name, type: 'datetime', precision: 3, ...extra };
}
