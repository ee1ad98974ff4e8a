/**
 * The SQL of the completeness views: sums over the completeness counters
 * (`completeness_count`, `missing_field_count`, kept by the triggers of
 * migration 0010 from the stored completeness), keyset pages of a book for
 * the exports, organization codes of ids. Every function
 * takes the database and plain parameters (a {@link Book} already decided
 * by the service) and checks nothing: the service authorizes first.
 */
import type { DataSource } from 'typeorm';
import { isSqlite } from '../../db/dialect';
import { organizationsById } from '../organization/organization.queries';
import { DIRECT_CHANNEL_CODE } from '../../domain/organization-codes';
import { PolicyEntity } from '../policy/policy.entity';
import type { Book } from './summary.access';

export const SUMMARY_DIMENSIONS = ['CHANNEL', 'PRODUCT', 'APPLICATION_MONTH'] as const;
export type SummaryDimension = (typeof SUMMARY_DIMENSIONS)[number];

/** Bucket key of the policies sold without a channel (contract README "Reads"). */
export const DIRECT_KEY = DIRECT_CHANNEL_CODE;
/** Policy numbers listed per channel in a commission hold (the count is always complete). */
export const HOLD_LIST_LIMIT = 500;

export interface DateRange {
  /** 'YYYY-MM-DD', inclusive; null = no lower bound. */
  from?: string | null;
  /** 'YYYY-MM-DD', inclusive; null = no upper bound. */
  to?: string | null;
}

export interface FieldCountRow {
  field: string;
  count: number;
}

export interface BucketRow {
  key: string;
  total: number;
  complete: number;
  incomplete: number;
  suspect: number;
  missingByField: FieldCountRow[];
}

export interface CommissionHoldRow {
  channelId: string;
  channelCode: string;
  /** Policies whose commission is withheld: incomplete + suspect. */
  held: number;
  incomplete: number;
  suspect: number;
  /** The first {@link HOLD_LIST_LIMIT} policy numbers, in policy-number order. */
  policyNos: string[];
  /** True when more policies are held than listed. */
  truncated: boolean;
}

export interface PolicyExportFilter {
  /** A channel's organization code, or DIRECT for policies sold without one. */
  channelCode?: string | null;
  completeness?: string | null;
  status?: string | null;
  /** Only policies whose `completeness.missing` contains this path. */
  missingField?: string | null;
}

interface RawBucket {
  k: string | null;
  total: number | string;
  complete: number | string | null;
  incomplete: number | string | null;
  suspect: number | string | null;
}

/**
 * The buckets of a book by `groupBy` within an application-date range, in
 * key order (channel codes, DIRECT for none), each with the count of
 * policies missing each field path. Two aggregated queries over the
 * counters the triggers of migration 0010 keep (`completeness_count`,
 * `missing_field_count`: a few rows per channel × product × day, read
 * through their primary keys) and one for the channel codes: a summary never
 * scans the book (issue 10 (d): 5.3 s at 1,000,000 policies as a GROUP BY
 * over `policy`).
 */
export async function summaryBuckets(db: DataSource, book: Book, groupBy: SummaryDimension, range: DateRange): Promise<BucketRow[]> {
  const key = keyExpression(db, groupBy);
  const where = countersWhere(book, range);
  const bucketRows = (await db.query(
    `SELECT ${key} AS k, SUM(c.policies) AS total, ${statusSums('c.policies')} FROM completeness_count c WHERE ${where.sql} GROUP BY ${key} HAVING SUM(c.policies) > 0`,
    where.params,
  )) as RawBucket[];
  const missingRows = (await db.query(
    `SELECT ${key} AS k, c.field AS field, SUM(c.policies) AS n FROM missing_field_count c WHERE ${where.sql} GROUP BY ${key}, c.field HAVING SUM(c.policies) > 0`,
    where.params,
  )) as Array<{ k: string | null; field: string; n: number | string }>;

  const channelCodes = groupBy === 'CHANNEL' ? await organizationCodes(db, bucketRows.map((r) => channelIdOf(r.k))) : new Map<string, string>();
  const keyOf = (raw: string | null): string => {
    if (groupBy !== 'CHANNEL') return String(raw ?? '');
    const channelId = channelIdOf(raw);
    return channelId === null ? DIRECT_KEY : (channelCodes.get(channelId) ?? channelId);
  };
  const missingByKey = new Map<string, FieldCountRow[]>();
  for (const row of missingRows) {
    const k = keyOf(row.k);
    missingByKey.set(k, [...(missingByKey.get(k) ?? []), { field: String(row.field), count: Number(row.n) }]);
  }
  return bucketRows
    .map((row) => {
      const k = keyOf(row.k);
      return {
        key: k,
        total: Number(row.total),
        complete: Number(row.complete ?? 0),
        incomplete: Number(row.incomplete ?? 0),
        suspect: Number(row.suspect ?? 0),
        missingByField: (missingByKey.get(k) ?? []).sort((a, b) => b.count - a.count || compare(a.field, b.field)),
      };
    })
    .sort((a, b) => compare(a.key, b.key));
}

/**
 * Per selling channel of an insurer (only `channelId` when given), the
 * policies INCOMPLETE or SUSPECT now, in channel-code order: one aggregated
 * query, one for the first {@link HOLD_LIST_LIMIT} policy numbers per
 * channel, one for the codes.
 */
export async function commissionHoldRows(db: DataSource, insurerId: string, channelId: string | null): Promise<CommissionHoldRow[]> {
  const where = ['p.insurer_id = ?', 'p.channel_id IS NOT NULL', "p.completeness IN ('INCOMPLETE', 'SUSPECT')"];
  const params: unknown[] = [insurerId];
  if (channelId !== null) {
    where.push('p.channel_id = ?');
    params.push(channelId);
  }
  // The counts from the counters (migration 0010), not a GROUP BY over the book.
  const countWhere = ['c.insurer_id = ?', "c.channel_key <> ''", "c.completeness IN ('INCOMPLETE', 'SUSPECT')", ...(channelId !== null ? ['c.channel_key = ?'] : [])];
  const counts = (await db.query(
    `SELECT c.channel_key AS channelId, ${statusSums('c.policies')} FROM completeness_count c WHERE ${countWhere.join(' AND ')} GROUP BY c.channel_key HAVING SUM(c.policies) > 0`,
    params,
  )) as Array<{ channelId: string; incomplete: number | string; suspect: number | string }>;
  if (counts.length === 0) return [];
  const listed = (await db.query(
    'SELECT t.channelId AS channelId, t.policyNo AS policyNo FROM (' +
      'SELECT p.channel_id AS channelId, p.policy_no AS policyNo, ROW_NUMBER() OVER (PARTITION BY p.channel_id ORDER BY p.policy_no) AS rn ' +
      `FROM policy p WHERE ${where.join(' AND ')}) t WHERE t.rn <= ? ORDER BY t.channelId, t.policyNo`,
    [...params, HOLD_LIST_LIMIT],
  )) as Array<{ channelId: string; policyNo: string }>;
  const codes = await organizationCodes(db, counts.map((c) => c.channelId));
  return counts
    .map((c) => {
      const incomplete = Number(c.incomplete ?? 0);
      const suspect = Number(c.suspect ?? 0);
      const policyNos = listed.filter((l) => String(l.channelId) === String(c.channelId)).map((l) => String(l.policyNo));
      return {
        channelId: String(c.channelId),
        channelCode: codes.get(String(c.channelId)) ?? String(c.channelId),
        held: incomplete + suspect,
        incomplete,
        suspect,
        policyNos,
        truncated: incomplete + suspect > policyNos.length,
      };
    })
    .sort((a, b) => compare(a.channelCode, b.channelCode));
}

/**
 * One keyset page (newest first, ids below `beforeId`) of an insurer's
 * policies matching `filter`; `channelId` null = sold directly, undefined =
 * any channel. Reads only the columns of an export line.
 */
export async function exportPolicyPage(
  db: DataSource,
  page: { insurerId: string; channelId: string | null | undefined; filter: PolicyExportFilter; beforeId: string | null; size: number },
): Promise<PolicyEntity[]> {
  const { channelId, filter, beforeId } = page;
  const qb = db
    .getRepository(PolicyEntity)
    .createQueryBuilder('p')
    .select(['p.id', 'p.policyNo', 'p.channelId', 'p.productCode', 'p.applicationDate', 'p.status', 'p.completeness', 'p.issues'])
    .where('p.insurer_id = :insurerId', { insurerId: page.insurerId });
  if (channelId === null) qb.andWhere('p.channel_id IS NULL');
  else if (channelId !== undefined) qb.andWhere('p.channel_id = :channelId', { channelId });
  if (filter.completeness) qb.andWhere('p.completeness = :completeness', { completeness: filter.completeness });
  if (filter.status) qb.andWhere('p.status = :status', { status: filter.status });
  if (filter.missingField) {
    qb.andWhere('EXISTS (SELECT 1 FROM policy_missing_field m WHERE m.policy_id = p.id AND m.insurer_id = p.insurer_id AND m.field = :missingField)', {
      missingField: filter.missingField.trim(),
    });
  }
  if (beforeId !== null) qb.andWhere('p.id < :cursor', { cursor: beforeId });
  return qb.orderBy('p.id', 'DESC').take(page.size).getMany();
}

/** The codes of the organizations of `ids` by id (one query through {@link organizationsById}). */
export async function organizationCodes(db: DataSource, ids: Array<string | null>): Promise<Map<string, string>> {
  return new Map([...(await organizationsById(db, ids))].map(([id, org]) => [id, org.code]));
}

/** The conditions on counter alias `c` of a book and an application-date range (the columns of the counters' primary keys). */
function countersWhere(book: Book, range: DateRange): { sql: string; params: unknown[] } {
  const conditions: Array<[string, unknown]> = [['c.insurer_id = ?', book.insurerId]];
  if (book.onlyChannelId !== null) conditions.push(['c.channel_key = ?', book.onlyChannelId]);
  if (range.from) conditions.push(['c.application_date >= ?', range.from]);
  if (range.to) conditions.push(['c.application_date <= ?', range.to]);
  return { sql: conditions.map(([sql]) => sql).join(' AND '), params: conditions.map(([, value]) => value) };
}

/** The counters' channel key ('' for the policies sold directly) as a channel id or null. */
function channelIdOf(key: string | null): string | null {
  return key === null || key === '' ? null : String(key);
}

/** The complete / incomplete / suspect sums of `counted` (a count column) by status. */
function statusSums(counted: string): string {
  return ['COMPLETE', 'INCOMPLETE', 'SUSPECT'].map((status) => `SUM(CASE WHEN c.completeness = '${status}' THEN ${counted} ELSE 0 END) AS ${status.toLowerCase()}`).join(', ');
}

/** The SQL of a bucket key. The month is cut from the date's text: SUBSTR on SQLite (dates are stored as text), DATE_FORMAT on MySQL. */
function keyExpression(db: DataSource, groupBy: SummaryDimension): string {
  if (groupBy === 'CHANNEL') return 'c.channel_key';
  if (groupBy === 'PRODUCT') return 'c.product_code';
  return isSqlite(db) ? 'SUBSTR(c.application_date, 1, 7)' : "DATE_FORMAT(c.application_date, '%Y-%m')";
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
