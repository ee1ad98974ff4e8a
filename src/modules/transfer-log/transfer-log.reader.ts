import type { DataSource } from 'typeorm';
import type { RequestContext } from '../../graphql/context';
import { BadInputError, ForbiddenError, NotFoundError, UnauthenticatedError } from '../../graphql/errors';
import { pageSize } from '../../graphql/pagination';
import type { OrganizationEntity } from '../organization/organization.entity';
import type { OrganizationService } from '../organization/organization.service';
import { decodeLogCursor, type StoredEntry } from './transfer-log.chain';
import { TransferLogEntryEntity, TransferLogPolicyEntity } from './transfer-log.entity';
import { mayReadChain } from './transfer-log.access';
import { policyNosOfEntries, PolicyRowStream } from './transfer-log.policies';

export interface TransferLogPage {
  entries: StoredEntry[];
  hasNextPage: boolean;
  /** The entries the same filter matches on every page; counted on first call only (issue 12: only when `totalCount` is selected). */
  totalCount: () => Promise<number>;
}

export interface ListArgs {
  insurerCode: string;
  policyNo?: string | null;
  operation?: string | null;
  first?: number | null;
  after?: string | null;
}

/** Rows per page when streaming a chain (verification, export): constant memory. */
export const SCAN_PAGE_SIZE = 1000;

/**
 * The reading side of the transfer log: which chain an organization code
 * names and who may read it, the `transferLog` query's pages, and the
 * whole-chain stream the export of `verify-log` writes. Reads only.
 */
export class TransferLogReader {
  constructor(
    private readonly db: DataSource,
    private readonly organizations: Pick<OrganizationService, 'findByCode'>,
  ) {}

  /**
   * The chain named by an organization code, if the caller may read it
   * (contract: the insurer's ADMIN or COMPLIANCE, REGULATOR; the EXCHANGE
   * ADMIN for the exchange's own chain). Another insurer's code is FORBIDDEN
   * whether it exists or not, so codes do not leak.
   */
  async authorizeChain(ctx: RequestContext, insurerCode: string): Promise<OrganizationEntity> {
    if (!ctx.actor) throw new UnauthenticatedError();
    const org = await this.organizations.findByCode(insurerCode);
    const isChain = !!org && (org.kind === 'INSURER' || org.kind === 'EXCHANGE');
    if (isChain && mayReadChain(ctx.actor, org)) return org;
    if (ctx.actor.organizationKind === 'REGULATOR') throw new NotFoundError('Insurer');
    throw new ForbiddenError('Only the insurer\'s ADMIN or COMPLIANCE principals and the regulator may use its transfer log');
  }

  /** The organization whose chain `code` names (an INSURER or the EXCHANGE), for the command line. */
  async chainByCode(code: string): Promise<OrganizationEntity | null> {
    const org = await this.organizations.findByCode(code);
    return org && (org.kind === 'INSURER' || org.kind === 'EXCHANGE') ? org : null;
  }

  /** A page of a chain, newest first, optionally only entries naming `policyNo` or of one `operation`. */
  async list(ctx: RequestContext, args: ListArgs): Promise<TransferLogPage> {
    const first = pageSize(args.first);
    let before: number | null = null;
    if (args.after !== undefined && args.after !== null) {
      before = decodeLogCursor(args.after);
      if (before === null) throw new BadInputError('after is not a cursor of this list', { field: 'after' });
    }
    const org = await this.authorizeChain(ctx, args.insurerCode);
    const matching = () => {
      const qb = this.db.getRepository(TransferLogEntryEntity).createQueryBuilder('e').where('e.insurer_id = :chainId', { chainId: org.id });
      if (args.policyNo !== undefined && args.policyNo !== null) {
        qb.innerJoin(TransferLogPolicyEntity, 'p', 'p.insurer_id = e.insurer_id AND p.seq = e.seq AND p.policy_no = :policyNo', { policyNo: args.policyNo.trim() });
      }
      if (args.operation !== undefined && args.operation !== null) qb.andWhere('e.operation = :operation', { operation: args.operation });
      return qb;
    };
    const qb = matching();
    if (before !== null) qb.andWhere('e.seq < :before', { before });
    const rows = await qb.orderBy('e.seq', 'DESC').limit(first + 1).getMany();
    const entries = rows.slice(0, first);
    const policyNos = await policyNosOfEntries(this.db, org.id, entries.map((e) => e.seq));
    // The same FROM and WHERE as the page without the cursor, sent only when asked (as countPolicyPage).
    let counted: Promise<number> | null = null;
    const totalCount = (): Promise<number> => (counted ??= matching().getCount());
    return { entries: entries.map((e) => ({ ...e, policyNos: policyNos.get(e.seq) ?? [] })), hasNextPage: rows.length > first, totalCount };
  }

  /**
   * Calls `write` with every entry of a chain in seq order, page by page
   * (for `verify-log --export`). Nothing is verified here.
   */
  async forEachEntry(chainId: string, write: (row: StoredEntry) => void | Promise<void>): Promise<number> {
    let cursor = 0;
    let count = 0;
    const policies = new PolicyRowStream(this.db, chainId, 0, null);
    for (;;) {
      const rows = await this.db
        .getRepository(TransferLogEntryEntity)
        .createQueryBuilder('e')
        .where('e.insurer_id = :chainId AND e.seq > :cursor', { chainId, cursor })
        .orderBy('e.seq', 'ASC')
        .limit(SCAN_PAGE_SIZE)
        .getMany();
      for (const row of rows) await write({ ...row, policyNos: (await policies.take(row.seq)).policyNos });
      count += rows.length;
      if (rows.length < SCAN_PAGE_SIZE) return count;
      cursor = rows[rows.length - 1]!.seq;
    }
  }
}
