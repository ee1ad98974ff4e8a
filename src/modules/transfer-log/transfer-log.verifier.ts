import type { DataSource } from 'typeorm';
import type { RequestContext } from '../../graphql/context';
import type { Metrics } from '../../metrics';
import { ChainVerifier, GENESIS_HASH, type ChainFailure } from '../../domain/hash-chain';
import type { OrganizationEntity } from '../organization/organization.entity';
import { chainEntryOf } from './transfer-log.chain';
import type { CheckpointClaim, CheckpointSigner } from './transfer-log.checkpoint';
import { TransferLogEntryEntity, TransferLogHeadEntity, TransferLogPolicyEntity } from './transfer-log.entity';
import { PolicyRowStream } from './transfer-log.policies';
import { SCAN_PAGE_SIZE, type TransferLogReader } from './transfer-log.reader';

/** Why a verification failed (null when valid). */
export type VerificationReason =
  | ChainFailure
  | 'HEAD_MISSING'
  | 'HEAD_MISMATCH'
  | 'POLICY_INDEX'
  | 'CHECKPOINT_INSURER'
  | 'CHECKPOINT_KEY'
  | 'CHECKPOINT_SIGNATURE'
  | 'CHECKPOINT_NOT_EXTENDED';

export interface LogVerificationResult {
  /** True when the chain, its head row and the checkpoint (when one was checked) all agree. */
  valid: boolean;
  /** Entries examined. */
  checked: number;
  /** seq of the first entry that is wrong or missing; null when valid (or only the checkpoint's signature is bad). */
  firstInvalidSeq: number | null;
  /** Recomputed hash of the newest entry that verified (null for an empty chain). */
  headHash: string | null;
  /** seq of the newest entry that verified (0 for an empty chain). */
  headSeq: number;
  reason: VerificationReason | null;
  /** Whether the chain extends the checkpoint checked; null when none was. */
  checkpointValid: boolean | null;
  /** seq of the checkpoint checked (the one given, else the latest stored one signed with the current key). */
  checkpointSeq: number | null;
}

/** What one pass of {@link scanChain} found. */
export interface ChainScan {
  verification: ReturnType<ChainVerifier['result']>;
  lastSeq: number;
  policyIndexBadSeq: number | null;
}

/**
 * What the verifier needs to know about checkpoints, answered by the
 * checkpoint store (transfer-log.checkpoints.ts), which itself verifies with
 * {@link scanChain} before it signs: declared here so the two do not import
 * each other.
 */
export interface CheckpointTrust {
  readonly signer: Pick<CheckpointSigner, 'verify'>;
  /** The newest stored checkpoint of a chain signed with a trusted key whose signature still verifies, or null. */
  latestTrustedClaim(chainId: string): Promise<CheckpointClaim | null>;
  /** Whether the exchange signs with `publicKey` now or signed checkpoints with it before. */
  isTrustedKey(publicKey: string): Promise<boolean>;
}

/**
 * Reads entries with afterSeq < seq (<= untilSeq when given) in seq order,
 * page by page, with their policy numbers rebuilt from `transfer_log_policy`
 * (streamed in chunks: flat memory), through a ChainVerifier starting at
 * (afterSeq, afterHash). An edited, added or removed policy row changes the
 * rebuilt array and so fails the entry's hash; ordinals that are not exactly
 * 0 … n-1, and rows past the last entry, are reported as POLICY_INDEX.
 */
export async function scanChain(
  db: DataSource,
  chainId: string,
  range: { afterSeq: number; afterHash: string; untilSeq: number | null },
  visit?: (row: TransferLogEntryEntity) => void,
  onProgress?: (checked: number) => void,
): Promise<ChainScan> {
  const verifier = new ChainVerifier(range.afterHash, { startSeq: range.afterSeq + 1 });
  const policies = new PolicyRowStream(db, chainId, range.afterSeq, range.untilSeq);
  let lastSeq = range.afterSeq;
  let cursor = range.afterSeq;
  let policyIndexBadSeq: number | null = null;
  let reported = 0;
  while (range.untilSeq === null || cursor < range.untilSeq) {
    const rows = await nextPage(db, chainId, cursor, range.untilSeq);
    if (rows.length === 0) break;
    for (const row of rows) {
      const { policyNos, ordinalsSound } = await policies.take(row.seq);
      if (!verifier.push(chainEntryOf({ ...row, policyNos }))) return { verification: verifier.result(), lastSeq, policyIndexBadSeq };
      if (!ordinalsSound) {
        policyIndexBadSeq = row.seq;
        return { verification: verifier.result(), lastSeq, policyIndexBadSeq };
      }
      visit?.(row);
      lastSeq = row.seq;
    }
    cursor = rows[rows.length - 1]!.seq;
    if (onProgress && Math.floor(verifier.result().checked / 10_000) > reported) {
      reported = Math.floor(verifier.result().checked / 10_000);
      onProgress(verifier.result().checked);
    }
  }
  // Policy rows beyond the last entry (an entry deleted with its head rewritten leaves them behind).
  const orphanQuery = db
    .getRepository(TransferLogPolicyEntity)
    .createQueryBuilder('p')
    .select('MIN(p.seq)', 'seq')
    .where('p.insurer_id = :chainId AND p.seq > :lastSeq', { chainId, lastSeq });
  if (range.untilSeq !== null) orphanQuery.andWhere('p.seq <= :until', { until: range.untilSeq });
  const orphan = await orphanQuery.getRawOne<{ seq: number | string | null }>();
  if (orphan?.seq !== null && orphan?.seq !== undefined) policyIndexBadSeq = Number(orphan.seq);
  return { verification: verifier.result(), lastSeq, policyIndexBadSeq };
}

/**
 * The entries after `cursor`, a page at a time: the window of seqs
 * (cursor, cursor + SCAN_PAGE_SIZE], an index range. MariaDB plans the
 * open-ended `seq > ?` as a scan of the chain's whole index prefix (measured
 * 1 s a page at 900,000 of 1,000,000 entries, quadratic in the chain's
 * length). A valid chain has no gaps, so a window holds the next page; only
 * after a gap of a whole window does the open-ended query answer, with the
 * first entry beyond it (which the verifier then refuses, as before).
 */
async function nextPage(db: DataSource, chainId: string, cursor: number, untilSeq: number | null): Promise<TransferLogEntryEntity[]> {
  const entries = (until: number | null, limit: number) => {
    const qb = db.getRepository(TransferLogEntryEntity).createQueryBuilder('e').where('e.insurer_id = :chainId AND e.seq > :cursor', { chainId, cursor });
    if (until !== null) qb.andWhere('e.seq <= :until', { until });
    return qb.orderBy('e.seq', 'ASC').limit(limit).getMany();
  };
  const windowEnd = untilSeq === null ? cursor + SCAN_PAGE_SIZE : Math.min(cursor + SCAN_PAGE_SIZE, untilSeq);
  const rows = await entries(windowEnd, SCAN_PAGE_SIZE);
  return rows.length > 0 ? rows : entries(untilSeq, 1);
}

/**
 * Proves a chain intact (verifyTransferLog, `verify-log`, the tests after
 * every scenario): every hash, link and seq, the policy-number index, the
 * head row, and a checkpoint kept outside the database. Reads only.
 */
export class TransferLogVerifier {
  constructor(
    private readonly db: DataSource,
    private readonly chains: Pick<TransferLogReader, 'authorizeChain'>,
    private readonly trust: CheckpointTrust,
    private readonly metrics: Pick<Metrics, 'chainVerified'> | null = null,
  ) {}

  /** verifyTransferLog: the caller's permission, then {@link verifyChain}. */
  async verify(ctx: RequestContext, insurerCode: string, checkpoint?: CheckpointClaim | null): Promise<LogVerificationResult> {
    const org = await this.chains.authorizeChain(ctx, insurerCode);
    return this.verifyChain(org, { checkpoint: checkpoint ?? null });
  }

  /**
   * Streams a chain in pages of {@link SCAN_PAGE_SIZE} by seq (constant
   * memory) and recomputes every hash, prevHash link and seq; checks the
   * policy-number index rows of each entry and the head row; then checks a
   * checkpoint: the one given, else the latest stored one signed with a key
   * the exchange has used (see {@link CheckpointTrust.isTrustedKey}). A chain alone cannot show that its newest entries were
   * deleted and the head rewritten: the checkpoint can (its seq must exist
   * with its headHash, and its signature must verify with the exchange's key).
   * Entries appended after the head was read are not examined.
   */
  async verifyChain(
    chain: Pick<OrganizationEntity, 'id' | 'code'>,
    options: { checkpoint?: CheckpointClaim | null; onProgress?: (checked: number) => void } = {},
  ): Promise<LogVerificationResult> {
    const head = await this.db.getRepository(TransferLogHeadEntity).findOneBy({ insurerId: chain.id });
    const claim: CheckpointClaim | null = options.checkpoint ?? (await this.trust.latestTrustedClaim(chain.id));
    let checkpointHashAtSeq: string | null = claim && claim.seq === 0 ? GENESIS_HASH : null;

    const scan = await scanChain(this.db, chain.id, { afterSeq: 0, afterHash: GENESIS_HASH, untilSeq: head ? head.seq : null }, (row) => {
      if (claim && row.seq === claim.seq) checkpointHashAtSeq = row.hash;
    }, options.onProgress);

    const result: LogVerificationResult = {
      valid: true,
      checked: scan.verification.checked,
      firstInvalidSeq: null,
      headHash: scan.verification.headHash,
      headSeq: scan.lastSeq,
      reason: null,
      checkpointValid: null,
      checkpointSeq: claim ? claim.seq : null,
    };
    const fail = (reason: VerificationReason, seq: number | null) => Object.assign(result, { valid: false, reason, firstInvalidSeq: seq });

    if (!scan.verification.valid) {
      const failure = scan.verification.failure!;
      // A seq that jumps means entries are missing: report the first missing seq.
      fail(failure, failure === 'SEQ' ? scan.lastSeq + 1 : scan.verification.firstInvalidSeq);
    } else if (scan.policyIndexBadSeq !== null) {
      fail('POLICY_INDEX', scan.policyIndexBadSeq);
    } else if (!head) {
      if (scan.lastSeq > 0) fail('HEAD_MISSING', scan.lastSeq);
    } else if (head.seq !== scan.lastSeq) {
      fail('HEAD_MISMATCH', Math.min(head.seq, scan.lastSeq) + 1);
    } else if (head.hash !== (scan.verification.headHash ?? GENESIS_HASH)) {
      fail('HEAD_MISMATCH', scan.lastSeq || 1);
    }

    if (claim) {
      const problem = await this.checkClaim(chain, claim, checkpointHashAtSeq);
      result.checkpointValid = problem === null;
      if (problem && result.valid) {
        if (problem === 'CHECKPOINT_NOT_EXTENDED') fail(problem, Math.min(claim.seq, scan.lastSeq + 1));
        else fail(problem, null);
      }
    }
    this.metrics?.chainVerified(result.reason);
    return result;
  }

  /** Whether `claim` is a genuine checkpoint of `chain` that the chain extends (null) or why not. */
  private async checkClaim(chain: Pick<OrganizationEntity, 'id' | 'code'>, claim: CheckpointClaim, hashAtSeq: string | null): Promise<VerificationReason | null> {
    if (claim.insurerCode.trim().toUpperCase() !== chain.code) return 'CHECKPOINT_INSURER';
    if (!(await this.trust.isTrustedKey(claim.publicKey))) return 'CHECKPOINT_KEY';
    if (!this.trust.signer.verify(chain.id, claim)) return 'CHECKPOINT_SIGNATURE';
    if (hashAtSeq === null || hashAtSeq !== claim.headHash) return 'CHECKPOINT_NOT_EXTENDED';
    return null;
  }
}
