import type { TableColumnOptions } from 'typeorm';

/** Column shapes shared by the migrations; they mirror src/db/columns.ts. */
export function id(name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions {
  return { name, type: 'varchar', length: '36', ...extra };
}

export function instant(name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions {
  return { name, type: 'datetime', precision: 3, ...extra };
}
