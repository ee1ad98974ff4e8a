import { In, type DataSource, type SelectQueryBuilder } from 'typeorm';
import { isSqlite } from '../../db/dialect';
import { isIsoDate } from '../../domain/dates';
import { isCompletenessStatus } from '../../domain/enums';
import type { RequestContext } from '../../graphql/context';
import { BadInputError, NotFoundError, UnauthenticatedError } from '../../graphql/errors';
import { encodeCursor } from '../../graphql/pagination';
import type { AgreementScope } from '../agreement/agreement.entity';
import type { GrantService } from '../agreement/grant.service';
import { OrganizationEntity } from '../organization/organization.entity';
import { DIRECT_CHANNEL_CODE, normalizeCode } from '../../domain/organization-codes';
import type { OrganizationService } from '../organization/organization.service';
import { POLICY_STATUSES, PolicyEntity, PolicyMissingFieldEntity } from '../policy/policy.entity';
import { POLICY_CURSOR } from '../policy/policy.mapper';
import type { PolicyFilterData, PolicyService } from '../policy/policy.service';
import { storedCompleteness } from '../policy/stored-completeness';
import { isPartner } from '../agreement/agreement.access';
import { bookAccess, type Book } from './summary.access';
import { csvText, type CsvCell } from './summary.csv';

export const SUMMARY_DIMENSIONS = ['CHANNEL', 'PRODUCT', 'APPLICATION_MONTH'] as const;
export type SummaryDimension = (typeof SUMMARY_DIMENSIONS)[number];

/** Bucket key of the policies sold without a channel (contract README "Reads"). */
export const DIRECT_KEY = DIRECT_CHANNEL_CODE;
/** Policy numbers listed per channel in a commission hold (the count is always complete). */
export const HOLD_LIST_LIMIT = 500;
/** Rows a GraphQL policy export may hold; larger exports go through `npm run export`. */
export const EXPORT_MAX_ROWS = 10_000;
const EXPORT_PAGE = 500;

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

/** One line of a policy export: codes, dates and field paths only, never a person's data. */
export interface PolicyExportRow {
  policyNo: string;
  insurerCode: string;
  /** Channel code, or DIRECT. */
  channel: string;
  productCode: string;
  applicationDate: string;
  status: string;
  completeness: string;
  missing: string[];
}

interface RawBucket {
  k: string | null;
  total: number | string;
  complete: number | string | null;
  incomplete: number | string | null;
  suspect: number | string | null;
}

/**
 * The completeness views of an insurer's book (issue 5 item 2): the summary
 * by channel, product or application month, the commission holds per channel
 * (DOMAIN.md 缓发手续费) and CSV exports of both and of a filtered policy
 * list. Every number comes from the STORED completeness (`policy.completeness`
 * and `policy_missing_field`, rewritten by the write paths in the same
 * transaction as every change) through GROUP BY in SQL over indexed columns:
 * no per-policy work at query time and nothing is decrypted.
 *
 * Methods taking a RequestContext check who may see what (summary.access.ts)
 * and then call the scope-free methods taking a {@link Book}, which the
 * command line (src/cli/export.ts) calls directly for a whole insurer.
 */
export class SummaryService {
  constructor(
    private readonly db: DataSource,
    private readonly organizations: OrganizationService,
    private readonly grants: GrantService,
    private readonly policies: Pick<PolicyService, 'list'>,
  ) {}

  // ---------------------------------------------------------- visibility ---

  /** The book of `insurerCode` the caller may see for a view needing `scope` from a partner (throws otherwise). */
  async authorizeBook(ctx: RequestContext, insurerCode: string, scope: AgreementScope = 'READ_COMPLETENESS'): Promise<Book> {
    if (!ctx.actor) throw new UnauthenticatedError();
    const insurer = await ctx.loaders.organizationByCode.load(normalizeCode(insurerCode));
    const grant = insurer && isPartner(ctx.actor) ? await this.grants.of(ctx, ctx.actor.organizationId, insurer.id) : null;
    const verdict = bookAccess(ctx.actor, insurer, grant, scope);
    if (verdict instanceof Error) throw verdict;
    return verdict;
  }

  /** The whole book of an insurer, for the command line (which runs with the database's own rights). */
  async bookOfInsurer(insurerCode: string): Promise<Book> {
    const insurer = await this.organizations.findByCode(insurerCode);
    if (!insurer || insurer.kind !== 'INSURER') throw new NotFoundError('Insurer');
    return { insurerId: insurer.id, insurerCode: insurer.code, onlyChannelId: null };
  }

  // ------------------------------------------------------------- summary ---

  /**
   * completenessSummary: one bucket per channel (organization code, DIRECT
   * for none), product code or application month (YYYY-MM) of the visible
   * policies applied for within [from, to] (inclusive, either optional), in
   * key order, each with complete + incomplete + suspect = total and the
   * count of policies missing each required field path.
   */
  async completenessSummary(ctx: RequestContext, insurerCode: string, groupBy: SummaryDimension, range: DateRange = {}): Promise<BucketRow[]> {
    checkRange(range);
    return this.summarize(await this.authorizeBook(ctx, insurerCode), groupBy, range);
  }

  /** The summary of a book (no permission check: callers have done it). Two aggregated queries. */
  async summarize(book: Book, groupBy: SummaryDimension, range: DateRange = {}): Promise<BucketRow[]> {
    if (!SUMMARY_DIMENSIONS.includes(groupBy)) throw new BadInputError('groupBy must be CHANNEL, PRODUCT or APPLICATION_MONTH', { field: 'groupBy' });
    checkRange(range);
    const key = this.keyExpression(groupBy);
    const counts = this.scoped(this.db.getRepository(PolicyEntity).createQueryBuilder('p'), book, range)
      .select(key, 'k')
      .addSelect('COUNT(*)', 'total')
      .addSelect("SUM(CASE WHEN p.completeness = 'COMPLETE' THEN 1 ELSE 0 END)", 'complete')
      .addSelect("SUM(CASE WHEN p.completeness = 'INCOMPLETE' THEN 1 ELSE 0 END)", 'incomplete')
      .addSelect("SUM(CASE WHEN p.completeness = 'SUSPECT' THEN 1 ELSE 0 END)", 'suspect')
      .groupBy(key);
    const missing = this.scoped(
      this.db.getRepository(PolicyMissingFieldEntity).createQueryBuilder('m').innerJoin(PolicyEntity, 'p', 'p.id = m.policy_id'),
      book,
      range,
    )
      .andWhere('m.insurer_id = :insurerId')
      .select(key, 'k')
      .addSelect('m.field', 'field')
      .addSelect('COUNT(*)', 'n')
      .groupBy(key)
      .addGroupBy('m.field');
    const [bucketRows, missingRows] = [await counts.getRawMany<RawBucket>(), await missing.getRawMany<{ k: string | null; field: string; n: number | string }>()];

    const channelCodes = groupBy === 'CHANNEL' ? await this.codesOf(bucketRows.map((r) => r.k)) : new Map<string, string>();
    const keyOf = (raw: string | null): string => {
      if (groupBy === 'CHANNEL') return raw === null ? DIRECT_KEY : (channelCodes.get(String(raw)) ?? String(raw));
      return String(raw ?? '');
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

  /** exportCompletenessCsv: the same buckets as {@link completenessSummary}, as CSV. */
  async exportCompletenessCsv(ctx: RequestContext, insurerCode: string, groupBy: SummaryDimension, range: DateRange = {}): Promise<string> {
    return summaryCsv(groupBy, await this.completenessSummary(ctx, insurerCode, groupBy, range));
  }

  // ---------------------------------------------------- commission holds ---

  /**
   * commissionHolds (DOMAIN.md 缓发手续费: commission on a policy whose
   * customer information is untrue or incomplete waits until it is
   * corrected): per selling channel, the policies that are INCOMPLETE or
   * SUSPECT now. Policies sold directly carry no channel commission and are
   * not listed. Same visibility as the summary.
   */
  async commissionHolds(ctx: RequestContext, insurerCode: string, channelCode?: string | null): Promise<CommissionHoldRow[]> {
    return this.holdsOf(await this.authorizeBook(ctx, insurerCode), channelCode);
  }

  /** Commission holds of a book: one aggregated query, and one for the first policy numbers per channel. */
  async holdsOf(book: Book, channelCode?: string | null): Promise<CommissionHoldRow[]> {
    let channelId = book.onlyChannelId;
    if (channelCode !== null && channelCode !== undefined && channelCode.trim() !== '') {
      const channel = await this.organizations.findByCode(channelCode);
      if (!channel || (book.onlyChannelId !== null && channel.id !== book.onlyChannelId)) return [];
      channelId = channel.id;
    }
    const where = ["p.insurer_id = ?", 'p.channel_id IS NOT NULL', "p.completeness IN ('INCOMPLETE', 'SUSPECT')"];
    const params: unknown[] = [book.insurerId];
    if (channelId !== null) {
      where.push('p.channel_id = ?');
      params.push(channelId);
    }
    const counts = (await this.db.query(
      `SELECT p.channel_id AS channelId, SUM(CASE WHEN p.completeness = 'INCOMPLETE' THEN 1 ELSE 0 END) AS incomplete, ` +
        `SUM(CASE WHEN p.completeness = 'SUSPECT' THEN 1 ELSE 0 END) AS suspect FROM policy p WHERE ${where.join(' AND ')} GROUP BY p.channel_id`,
      params,
    )) as Array<{ channelId: string; incomplete: number | string; suspect: number | string }>;
    if (counts.length === 0) return [];
    const listed = (await this.db.query(
      'SELECT t.channelId AS channelId, t.policyNo AS policyNo FROM (' +
        'SELECT p.channel_id AS channelId, p.policy_no AS policyNo, ROW_NUMBER() OVER (PARTITION BY p.channel_id ORDER BY p.policy_no) AS rn ' +
        `FROM policy p WHERE ${where.join(' AND ')}) t WHERE t.rn <= ? ORDER BY t.channelId, t.policyNo`,
      [...params, HOLD_LIST_LIMIT],
    )) as Array<{ channelId: string; policyNo: string }>;
    const codes = await this.codesOf(counts.map((c) => c.channelId));
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

  // ------------------------------------------------------ policy exports ---

  /**
   * exportPoliciesCsv: exactly the policies `policies(filter)` lists for the
   * caller (the same PolicyService code pages through them, so visibility and
   * filter meaning cannot drift apart), newest first, as CSV with no person
   * data: nothing of a person is read, so no READ_PII entry arises. At most
   * {@link EXPORT_MAX_ROWS} rows (BAD_USER_INPUT beyond: narrow the filter,
   * or use `npm run export` on the server).
   */
  async exportPoliciesCsv(ctx: RequestContext, filter: PolicyFilterData = {}): Promise<string> {
    checkPolicyFilter(filter);
    const rows: PolicyExportRow[] = [];
    const codes = new Map<string, string>();
    let after: string | null = null;
    for (;;) {
      const page = await this.policies.list(ctx, { filter, first: EXPORT_PAGE, after });
      if (page.totalCount > EXPORT_MAX_ROWS) {
        throw new BadInputError(`${page.totalCount} policies match, more than ${EXPORT_MAX_ROWS}: narrow the filter, or use npm run export on the server`, {
          limit: EXPORT_MAX_ROWS,
        });
      }
      const entities = page.items.map((item) => item.entity);
      const unknown = entities.flatMap((p) => [p.insurerId, p.channelId]).filter((id): id is string => id !== null && !codes.has(id));
      for (const [id, code] of await this.codesOf(unknown)) codes.set(id, code);
      rows.push(...entities.map((p) => exportRow(p, codes.get(p.insurerId) ?? p.insurerId, codes)));
      if (!page.hasNextPage || entities.length === 0) break;
      after = encodeCursor(POLICY_CURSOR, entities[entities.length - 1]!.id);
    }
    return policiesCsv(rows);
  }

  /**
   * Calls `visit` with the policies of `book` matching `filter`, newest
   * first, page by page (keyset on id, constant memory): the command line
   * streams whole books with it.
   */
  async forEachPolicy(book: Book, filter: PolicyExportFilter, visit: (rows: PolicyExportRow[]) => void | Promise<void>): Promise<number> {
    checkPolicyFilter(filter);
    let channelId: string | null | undefined;
    const channelCode = filter.channelCode?.trim();
    if (channelCode) {
      if (normalizeCode(channelCode) === DIRECT_KEY) channelId = null;
      else {
        const channel = await this.organizations.findByCode(channelCode);
        if (!channel) return 0;
        channelId = channel.id;
      }
    }
    if (book.onlyChannelId !== null) {
      if (channelId !== undefined && channelId !== book.onlyChannelId) return 0;
      channelId = book.onlyChannelId;
    }
    const codes = new Map<string, string>();
    let cursor: string | null = null;
    let count = 0;
    for (;;) {
      const qb = this.db
        .getRepository(PolicyEntity)
        .createQueryBuilder('p')
        .select(['p.id', 'p.policyNo', 'p.channelId', 'p.productCode', 'p.applicationDate', 'p.status', 'p.completeness', 'p.issues'])
        .where('p.insurer_id = :insurerId', { insurerId: book.insurerId });
      if (channelId === null) qb.andWhere('p.channel_id IS NULL');
      else if (channelId !== undefined) qb.andWhere('p.channel_id = :channelId', { channelId });
      if (filter.completeness) qb.andWhere('p.completeness = :completeness', { completeness: filter.completeness });
      if (filter.status) qb.andWhere('p.status = :status', { status: filter.status });
      if (filter.missingField) {
        qb.andWhere('EXISTS (SELECT 1 FROM policy_missing_field m WHERE m.policy_id = p.id AND m.insurer_id = p.insurer_id AND m.field = :missingField)', {
          missingField: filter.missingField.trim(),
        });
      }
      if (cursor !== null) qb.andWhere('p.id < :cursor', { cursor });
      const page = await qb.orderBy('p.id', 'DESC').take(EXPORT_PAGE).getMany();
      if (page.length === 0) break;
      const unknown = [...new Set(page.map((p) => p.channelId).filter((id): id is string => id !== null && !codes.has(id)))];
      for (const [id, code] of await this.codesOf(unknown)) codes.set(id, code);
      await visit(page.map((p) => exportRow(p, book.insurerCode, codes)));
      count += page.length;
      if (page.length < EXPORT_PAGE) break;
      cursor = page[page.length - 1]!.id;
    }
    return count;
  }

  // ------------------------------------------------------------- helpers ---

  /** Restricts a query on alias `p` (policy) to a book and an application-date range; binds :insurerId. */
  private scoped<T extends object>(qb: SelectQueryBuilder<T>, book: Book, range: DateRange): SelectQueryBuilder<T> {
    qb.where('p.insurer_id = :insurerId', { insurerId: book.insurerId });
    if (book.onlyChannelId !== null) qb.andWhere('p.channel_id = :onlyChannelId', { onlyChannelId: book.onlyChannelId });
    if (range.from) qb.andWhere('p.application_date >= :from', { from: range.from });
    if (range.to) qb.andWhere('p.application_date <= :to', { to: range.to });
    return qb;
  }

  /** The SQL of a bucket key. The month is cut from the date's text: SUBSTR on SQLite (dates are stored as text), DATE_FORMAT on MySQL. */
  private keyExpression(groupBy: SummaryDimension): string {
    if (groupBy === 'CHANNEL') return 'p.channel_id';
    if (groupBy === 'PRODUCT') return 'p.product_code';
    return isSqlite(this.db) ? 'SUBSTR(p.application_date, 1, 7)' : "DATE_FORMAT(p.application_date, '%Y-%m')";
  }

  /** Organization codes of ids (one query; nulls ignored). */
  private async codesOf(ids: Array<string | null>): Promise<Map<string, string>> {
    const wanted = [...new Set(ids.filter((id): id is string => id !== null && id !== undefined).map(String))];
    if (wanted.length === 0) return new Map();
    const rows = await this.db.getRepository(OrganizationEntity).findBy({ id: In(wanted) });
    return new Map(rows.map((row) => [row.id, row.code]));
  }
}

/** A policy as a line of an export: channel code (DIRECT for none) and the missing paths of its stored verdict. */
function exportRow(
  p: Pick<PolicyEntity, 'policyNo' | 'channelId' | 'productCode' | 'applicationDate' | 'status' | 'completeness' | 'issues'>,
  insurerCode: string,
  codes: ReadonlyMap<string, string>,
): PolicyExportRow {
  return {
    policyNo: p.policyNo,
    insurerCode,
    channel: p.channelId === null ? DIRECT_KEY : (codes.get(p.channelId) ?? p.channelId),
    productCode: p.productCode,
    applicationDate: p.applicationDate,
    status: p.status,
    completeness: p.completeness,
    missing: storedCompleteness(p).missing,
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkRange(range: DateRange): void {
  for (const [name, value] of [['from', range.from], ['to', range.to]] as const) {
    if (value !== null && value !== undefined && !isIsoDate(value)) throw new BadInputError(`${name} must be a calendar date written YYYY-MM-DD`, { field: name });
  }
  if (range.from && range.to && range.from > range.to) throw new BadInputError('from must not be after to', { field: 'from' });
}

function checkPolicyFilter(filter: PolicyExportFilter): void {
  if (filter.completeness && !isCompletenessStatus(filter.completeness)) throw new BadInputError('completeness must be COMPLETE, INCOMPLETE or SUSPECT', { field: 'completeness' });
  if (filter.status && !(POLICY_STATUSES as readonly string[]).includes(filter.status)) throw new BadInputError('status must be PENDING or UNDERWRITTEN', { field: 'status' });
  if (filter.missingField && filter.missingField.length > 64) throw new BadInputError('missingField is a field path such as policyholder.phone', { field: 'missingField' });
}

/** Header of the key column of a summary CSV. */
const KEY_HEADER: Record<SummaryDimension, string> = { CHANNEL: 'channel', PRODUCT: 'product', APPLICATION_MONTH: 'applicationMonth' };

/**
 * A summary as CSV: the key, total, complete, incomplete, suspect, then one
 * column `missing:<field path>` per field missing anywhere (sorted), with the
 * bucket's count (0 when none).
 */
export function summaryCsv(groupBy: SummaryDimension, buckets: readonly BucketRow[]): string {
  const fields = [...new Set(buckets.flatMap((b) => b.missingByField.map((m) => m.field)))].sort(compare);
  const header = [KEY_HEADER[groupBy], 'total', 'complete', 'incomplete', 'suspect', ...fields.map((f) => `missing:${f}`)];
  const rows = buckets.map((b): CsvCell[] => {
    const byField = new Map(b.missingByField.map((m) => [m.field, m.count]));
    return [b.key, b.total, b.complete, b.incomplete, b.suspect, ...fields.map((f) => byField.get(f) ?? 0)];
  });
  return csvText(header, rows);
}

/** Policies as CSV: policyNo, insurer, channel, product, applicationDate, status, completeness, missing (paths joined with ';'). */
export function policiesCsv(rows: readonly PolicyExportRow[]): string {
  return csvText(
    ['policyNo', 'insurer', 'channel', 'product', 'applicationDate', 'status', 'completeness', 'missing'],
    rows.map((r) => [r.policyNo, r.insurerCode, r.channel, r.productCode, r.applicationDate, r.status, r.completeness, r.missing.join(';')]),
  );
}

/** Commission holds as CSV: channel, held, incomplete, suspect, truncated, policyNos (joined with ';'). */
export function holdsCsv(rows: readonly CommissionHoldRow[]): string {
  return csvText(
    ['channel', 'held', 'incomplete', 'suspect', 'listed', 'policyNos'],
    rows.map((r) => [r.channelCode, r.held, r.incomplete, r.suspect, r.policyNos.length, r.policyNos.join(';')]),
  );
}
