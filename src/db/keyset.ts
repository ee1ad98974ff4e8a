import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';

/**
 * One page of `qb` (its WHERE already set), newest first, keyset-paginated
 * on `<alias>.id` (UUIDv7: id order is creation order, and unique, so pages
 * are stable and never overlap): the rows below `after` (an id), at most
 * `first`, and whether more follow (one row read beyond the page).
 */
export async function pageById<E extends ObjectLiteral>(qb: SelectQueryBuilder<E>, alias: string, after: string | null, first: number): Promise<{ rows: E[]; hasNextPage: boolean }> {
  if (after !== null) qb.andWhere(`${alias}.id < :pageAfter`, { pageAfter: after });
  const rows = await qb.orderBy(`${alias}.id`, 'DESC').limit(first + 1).getMany();
  return { rows: rows.slice(0, first), hasNextPage: rows.length > first };
}
