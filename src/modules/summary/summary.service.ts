import type { DataSource } from 'typeorm';
import { isIsoDate } from '../../domain/dates';
import { isCompletenessStatus } from '../../domain/enums';
import type { RequestContext } from '../../graphql/context';
import { BadInputError, NotFoundError, UnauthenticatedError } from '../../graphql/errors';
import { isMissingFieldPath, MISSING_FIELD_PATHS } from '../../domain/completeness';
import { encodeCursor } from '../../graphql/pagination';
import type { AgreementScope } from '../agreement/agreement.entity';
import type { GrantService } from '../agreement/grant.service';
import { normalizeCode } from '../../domain/organization-codes';
import type { OrganizationService } from '../organization/organization.service';
import { POLICY_STATUSES } from '../policy/policy.entity';
import { POLICY_CURSOR } from '../policy/policy.mapper';
import type { PolicyFilterData, PolicyService } from '../policy/policy.service';
import { isPartner } from '../agreement/agreement.access';
import { bookAccess, type Book } from './summary.access';
import { exportRow, policiesCsv, summaryCsv, type PolicyExportRow } from './summary.csv';
import {
  commissionHoldRows,
  DIRECT_KEY,
  exportPolicyPage,
  organizationCodes,
  summaryBuckets,
  SUMMARY_DIMENSIONS,
  type BucketRow,
  type CommissionHoldRow,
  type DateRange,
  type PolicyExportFilter,
  type SummaryDimension,
} from './summary.queries';

/** Rows a GraphQL policy export may hold; larger exports go through `npm run export`. */
export const EXPORT_MAX_ROWS = 10_000;
const EXPORT_PAGE = 500;

/**
 * The completeness views of an insurer's book (issue 5 item 2): the summary
 * by channel, product or application month, the commission holds per channel
 * (DOMAIN.md 缓发手续费) and CSV exports of both and of a filtered policy
 * list. Every number comes from the STORED completeness (`policy.completeness`
 * and `policy_missing_field`, rewritten by the write paths in the same
 * transaction as every change), summed from the counters the database's
 * triggers keep from those rows in the same statements (migration 0010):
 * no per-policy work at query time, no scan of the book, nothing decrypted. The SQL is in
 * summary.queries.ts, the CSV in summary.csv.ts: this class decides who sees
 * which book and composes.
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
    return summaryBuckets(this.db, book, groupBy, range);
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

  /** Commission holds of a book, of one channel when `channelCode` is given (none outside the book). */
  async holdsOf(book: Book, channelCode?: string | null): Promise<CommissionHoldRow[]> {
    let channelId = book.onlyChannelId;
    if (channelCode !== null && channelCode !== undefined && channelCode.trim() !== '') {
      const channel = await this.organizations.findByCode(channelCode);
      if (!channel || (book.onlyChannelId !== null && channel.id !== book.onlyChannelId)) return [];
      channelId = channel.id;
    }
    return commissionHoldRows(this.db, book.insurerId, channelId);
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
      for (const [id, code] of await organizationCodes(this.db, unknown)) codes.set(id, code);
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
      const page = await exportPolicyPage(this.db, { insurerId: book.insurerId, channelId, filter, beforeId: cursor, size: EXPORT_PAGE });
      if (page.length === 0) break;
      const unknown = [...new Set(page.map((p) => p.channelId).filter((id): id is string => id !== null && !codes.has(id)))];
      for (const [id, code] of await organizationCodes(this.db, unknown)) codes.set(id, code);
      await visit(page.map((p) => exportRow(p, book.insurerCode, codes)));
      count += page.length;
      if (page.length < EXPORT_PAGE) break;
      cursor = page[page.length - 1]!.id;
    }
    return count;
  }
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
  if (filter.missingField !== undefined && filter.missingField !== null && !isMissingFieldPath(filter.missingField.trim())) {
    throw new BadInputError(`missingField is a field path, one of ${MISSING_FIELD_PATHS.join(', ')}`, { field: 'missingField', allowed: [...MISSING_FIELD_PATHS] });
  }
}
