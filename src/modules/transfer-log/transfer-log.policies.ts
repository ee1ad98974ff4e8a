/**
 * The policy numbers of log entries, stored as rows of `transfer_log_policy`
 * (insurer_id, policy_no, seq, ord) instead of a JSON text column (issue 10:
 * a 1000-record batch's numbers did not fit a MySQL TEXT column, and the
 * rows were written anyway for `transferLog(policyNo:)`). `ord` is the
 * number's position in the entry's hashed `policyNos` array, so the array is
 * rebuilt exactly from the rows; editing, adding or removing a row changes
 * the rebuilt array and breaks the entry's hash. Reads are per page of
 * entries (one statement per page or per chunk of rows), never per entry.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { chunk, CHUNK_IN } from '../../db/bulk';
import { TransferLogPolicyEntity } from './transfer-log.entity';

/** Rows per statement when streaming a chain's policy numbers: bounded memory whatever the entries hold. */
export const POLICY_ROW_CHUNK = 5000;

/** The rows of one entry: its policy numbers in `ord` order, and whether the ordinals are exactly 0, 1, … n-1. */
export interface EntryPolicies {
  policyNos: string[];
  ordinalsSound: boolean;
}

interface PolicyRow {
  seq: number;
  policyNo: string;
  ord: number;
}

/** The rows that record `policyNos` as the policy numbers of entry `seq` of a chain. */
export function policyRowsOf(chainId: string, seq: number, policyNos: readonly string[]): TransferLogPolicyEntity[] {
  return policyNos.map((policyNo, ord) => ({ insurerId: chainId, policyNo, seq, ord }));
}

function entryPoliciesOf(rows: readonly PolicyRow[]): EntryPolicies {
  return { policyNos: rows.map((r) => r.policyNo), ordinalsSound: rows.every((r, i) => r.ord === i) };
}

function normalized(rows: Array<Record<string, unknown>>): PolicyRow[] {
  return rows.map((r) => ({ seq: Number(r.seq), policyNo: String(r.policyNo), ord: Number(r.ord) }));
}

/** The policy numbers of the entries `seqs` of a chain (one page of `transferLog`), in one statement per {@link CHUNK_IN} entries. */
export async function policyNosOfEntries(db: DataSource | EntityManager, chainId: string, seqs: readonly number[]): Promise<Map<number, string[]>> {
  const bySeq = new Map<number, PolicyRow[]>(seqs.map((seq) => [seq, []]));
  for (const part of chunk(seqs, CHUNK_IN)) {
    const rows = await db
      .createQueryBuilder(TransferLogPolicyEntity, 'p')
      .select(['p.seq AS seq', 'p.policy_no AS policyNo', 'p.ord AS ord'])
      .where('p.insurer_id = :chainId AND p.seq IN (:...seqs)', { chainId, seqs: part })
      .orderBy('p.seq', 'ASC')
      .addOrderBy('p.ord', 'ASC')
      .getRawMany<Record<string, unknown>>();
    for (const row of normalized(rows)) bySeq.get(row.seq)?.push(row);
  }
  return new Map([...bySeq].map(([seq, rows]) => [seq, entryPoliciesOf(rows).policyNos]));
}

/**
 * A chain's policy rows in (seq, ord) order, read in chunks of
 * {@link POLICY_ROW_CHUNK} as the entries are visited in seq order: memory
 * stays flat however many numbers an entry or the chain holds (verification
 * and export of millions of entries stream through it).
 */
export class PolicyRowStream {
  private buffer: PolicyRow[] = [];
  private position = 0;
  private exhausted = false;
  private afterSeq: number;
  private afterOrd = Number.MAX_SAFE_INTEGER;

  /** Rows with `afterSeq < seq <= untilSeq` (no upper bound when `untilSeq` is null). */
  constructor(
    private readonly db: DataSource,
    private readonly chainId: string,
    afterSeq: number,
    private readonly untilSeq: number | null,
  ) {
    this.afterSeq = afterSeq;
  }

  /**
   * The rows of entry `seq`. Entries must be asked in increasing seq order;
   * rows of seqs skipped over (an entry that is missing) are passed by.
   */
  async take(seq: number): Promise<EntryPolicies> {
    const rows: PolicyRow[] = [];
    for (;;) {
      const row = await this.peek();
      if (row === null || row.seq > seq) return entryPoliciesOf(rows);
      this.position += 1;
      if (row.seq === seq) rows.push(row);
    }
  }

  private async peek(): Promise<PolicyRow | null> {
    if (this.position < this.buffer.length) return this.buffer[this.position]!;
    if (this.exhausted) return null;
    await this.fill();
    return this.position < this.buffer.length ? this.buffer[this.position]! : null;
  }

  /** The next chunk after the last row read (keyset on (seq, ord), written so both databases use a range of the (insurer_id, seq, ord) index). */
  private async fill(): Promise<void> {
    const qb = this.db
      .createQueryBuilder(TransferLogPolicyEntity, 'p')
      .select(['p.seq AS seq', 'p.policy_no AS policyNo', 'p.ord AS ord'])
      .where('p.insurer_id = :chainId AND p.seq >= :afterSeq AND (p.seq > :afterSeq OR p.ord > :afterOrd)', { chainId: this.chainId, afterSeq: this.afterSeq, afterOrd: this.afterOrd });
    if (this.untilSeq !== null) qb.andWhere('p.seq <= :untilSeq', { untilSeq: this.untilSeq });
    const rows = normalized(await qb.orderBy('p.seq', 'ASC').addOrderBy('p.ord', 'ASC').limit(POLICY_ROW_CHUNK).getRawMany<Record<string, unknown>>());
    this.buffer = rows;
    this.position = 0;
    this.exhausted = rows.length < POLICY_ROW_CHUNK;
    const last = rows[rows.length - 1];
    if (last) {
      this.afterSeq = last.seq;
      this.afterOrd = last.ord;
    }
  }
}
