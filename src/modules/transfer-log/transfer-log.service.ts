import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from '../../logger';
import type { Secrets } from '../../db/secrets';
import type { RequestContext } from '../../graphql/context';
import { AppError, BadInputError, ForbiddenError, NotFoundError, UnauthenticatedError } from '../../graphql/errors';
import { newId } from '../../db/ids';
import { isDuplicateKeyError, isSqlite } from '../../db/dialect';
import { inTransaction } from '../../db/transaction';
import { isKnownKey, registerKey } from '../../db/key-registry';
import { pageSize } from '../../graphql/pagination';
import { ChainVerifier, entryHash, GENESIS_HASH, type ChainFailure } from '../../domain/hash-chain';
import { OrganizationEntity } from '../organization/organization.entity';
import { EXCHANGE_CODE } from '../../domain/organization-codes';
import type { OrganizationService } from '../organization/organization.service';
import { changeDigest, chainEntryOf, decodeLogCursor, isFieldPath, parseStringArray, unique, type ChainContent } from './transfer-log.chain';
import { CheckpointSigner, type CheckpointClaim } from './transfer-log.checkpoint';
import { TransferLogCheckpointEntity, TransferLogEntryEntity, TransferLogHeadEntity, TransferLogPolicyEntity } from './transfer-log.entity';
import { mayReadChain } from './transfer-log.access';

export type LogOutcome = 'OK' | 'REFUSED';

/** What a caller tells the log about one operation. Ids, codes, policy numbers and field paths only. */
export interface LogEntryInput {
  /** The chain: the insurer's organization id; null = the exchange's own chain. */
  insurerId: string | null;
  /** e.g. 'proposeAgreement', 'signAgreement', 'createPrincipal', 'submitSales', 'READ_PII'. */
  operation: string;
  /** Default OK. */
  outcome?: LogOutcome;
  /** The contract error code, for REFUSED. */
  errorCode?: string | null;
  actorPrincipalId: string;
  actorOrganizationId: string;
  /** The other organization. */
  counterpartyId?: string | null;
  agreementId?: string | null;
  policyNos?: string[];
  /** Field paths touched, e.g. 'policyholder.phone'. */
  fields?: string[];
  /** The change itself: ONLY its SHA-256 digest (over canonical JSON) is stored, never the value. */
  change?: unknown;
}

/** A refused attempt as {@link TransferLogService.recordRefusal} takes it. */
export type RefusalInput = Omit<LogEntryInput, 'outcome'> & { errorCode: string };

/** How {@link TransferLogService.writeOnChain} re-checks a write under its chain lock. */
export interface ChainWriteOptions<G> {
  /**
   * Runs under the chain lock, before the work, with the instant the lock is
   * held; what it returns is handed to the work. An {@link AppError} it
   * throws refuses the write: the transaction rolls back and the refusal is
   * recorded with {@link refusal}.
   */
  refuseOn: (em: EntityManager, at: Date) => Promise<G>;
  /** The REFUSED entry for a refusal of {@link refuseOn}, by its error code. */
  refusal: (errorCode: string) => RefusalInput;
}

/** The head of a chain as read under its lock. */
export interface ChainHead {
  chainId: string;
  seq: number;
  hash: string;
}

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

export interface TransferLogPage {
  entries: TransferLogEntryEntity[];
  hasNextPage: boolean;
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
 * The hash-chained transfer log (issue 3, contract README "Writes"). The only
 * writer of `transfer_log`: it appends and never updates or deletes.
 *
 * Concurrency: each chain has one row in `transfer_log_head`. {@link append}
 * (and {@link lockChain}) lock it with `SELECT … FOR UPDATE` on MySQL, so
 * appends to one chain are serialized while other chains proceed; SQLite's
 * single writer (the FIFO queue of `inTransaction`) serializes everything.
 * UNIQUE (insurer_id, seq) is the last line of defence.
 */
export class TransferLogService {
  private exchangeIdCache: string | null = null;
  private signingKeyRegistered = false;
  readonly signer: CheckpointSigner;

  constructor(
    private readonly db: DataSource,
    private readonly organizations: OrganizationService,
    secrets: Pick<Secrets, 'signingKey'>,
    private readonly log: Logger,
  ) {
    this.signer = new CheckpointSigner(secrets.signingKey);
  }

  // ------------------------------------------------------------- appending ---

  /**
   * Locks the head row of a chain (creating it when absent) and returns it.
   * Call it FIRST in a transaction that will append to this chain and also
   * locks other rows, so every writer takes the chain lock before anything
   * else and no two transactions wait on each other in opposite orders.
   * {@link append} calls it too (re-locking a row the transaction holds is free).
   * Must run inside `inTransaction` (throws otherwise).
   */
  async lockChain(em: EntityManager, insurerId: string | null): Promise<ChainHead> {
    if (!em.queryRunner?.isTransactionActive) throw new Error('transfer log: lockChain/append must run inside inTransaction');
    const chainId = insurerId ?? (await this.exchangeChainId(em));
    const existing = await this.readHeadLocked(em, chainId);
    if (existing) return existing;
    try {
      // A savepoint-free insert: on MySQL a duplicate-key error rolls back only this statement.
      await em
        .createQueryBuilder()
        .insert()
        .into(TransferLogHeadEntity)
        .values({ insurerId: chainId, seq: 0, hash: GENESIS_HASH, updatedAt: new Date() })
        .execute();
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      // Another transaction created it first: it is committed now, lock it.
    }
    const head = await this.readHeadLocked(em, chainId);
    if (!head) throw new Error('transfer log: chain head vanished');
    return head;
  }

  private async readHeadLocked(em: EntityManager, chainId: string): Promise<ChainHead | null> {
    const qb = em.getRepository(TransferLogHeadEntity).createQueryBuilder('h').where('h.insurer_id = :chainId', { chainId });
    if (!isSqlite(em.connection)) qb.setLock('pessimistic_write');
    const row = await qb.getOne();
    return row ? { chainId, seq: row.seq, hash: row.hash } : null;
  }

  /**
   * Appends one entry to a chain inside the caller's transaction, so the
   * change and its entry commit or roll back together. Computes
   * seq = head.seq + 1, prevHash = head.hash and
   * hash = sha256(prevHash || canonicalJson(content)) (content: see
   * `ChainContent` in transfer-log.chain.ts); stores only the digest of
   * `change`. Call it early in the transaction (or call {@link lockChain}
   * first): its head-row lock should be the transaction's first lock.
   */
  async append(em: EntityManager, input: LogEntryInput): Promise<TransferLogEntryEntity> {
    const policyNos = unique(input.policyNos);
    const fields = unique(input.fields);
    validateInput(input, policyNos, fields);
    const head = await this.lockChain(em, input.insurerId);
    const content: ChainContent = {
      id: newId(),
      seq: head.seq + 1,
      insurerId: head.chainId,
      at: new Date(),
      operation: input.operation,
      outcome: input.outcome ?? 'OK',
      errorCode: input.errorCode ?? null,
      actorPrincipalId: input.actorPrincipalId,
      actorOrganizationId: input.actorOrganizationId,
      counterpartyId: input.counterpartyId ?? null,
      agreementId: input.agreementId ?? null,
      policyNos,
      fields,
      digest: changeDigest(input.change ?? null),
    };
    const hash = entryHash(head.hash, content);
    const entry = em.getRepository(TransferLogEntryEntity).create({
      ...content,
      at: content.at as Date,
      policyNos: JSON.stringify(policyNos),
      fields: JSON.stringify(fields),
      prevHash: head.hash,
      hash,
    });
    await em.createQueryBuilder().insert().into(TransferLogEntryEntity).values(entry).execute();
    for (let i = 0; i < policyNos.length; i += 500) {
      const rows = policyNos.slice(i, i + 500).map((policyNo) => ({ insurerId: head.chainId, policyNo, seq: entry.seq }));
      await em.createQueryBuilder().insert().into(TransferLogPolicyEntity).values(rows).execute();
    }
    const moved = await em
      .createQueryBuilder()
      .update(TransferLogHeadEntity)
      .set({ seq: entry.seq, hash, updatedAt: content.at as Date })
      .where('insurer_id = :chainId AND seq = :seq', { chainId: head.chainId, seq: head.seq })
      .execute();
    if (moved.affected !== undefined && moved.affected !== 1) throw new Error('transfer log: the chain head moved while locked');
    return entry;
  }

  /**
   * One write on an insurer's chain (issue 8, defect 7): a transaction that
   * takes the chain lock first, then re-checks the write's permission under
   * it ({@link ChainWriteOptions.refuseOn}, judged at the instant the lock is
   * held, not at the request's start), then does the work, which appends its
   * entries with {@link append}. Every change of an agreement takes the same
   * lock, so a grant checked here cannot end before this write commits, and
   * in the chain no OK write under an agreement follows its termination. A
   * refusal rolls the transaction back and is recorded as REFUSED in a
   * transaction of its own, like a refusal caught before the transaction;
   * then it is thrown. Deadlocks retry the whole of it (`inTransaction`).
   */
  async writeOnChain<T, G>(insurerId: string, work: (em: EntityManager, checked: G) => Promise<T>, options: ChainWriteOptions<G>): Promise<T> {
    let refused: AppError | null = null;
    try {
      return await inTransaction(this.db, async (em) => {
        await this.lockChain(em, insurerId);
        let checked: G;
        try {
          checked = await options.refuseOn(em, new Date());
        } catch (error) {
          if (error instanceof AppError) refused = error;
          throw error;
        }
        return work(em, checked);
      });
    } catch (error) {
      if (refused !== null && error === refused) await this.recordRefusal(options.refusal((refused as AppError).code));
      throw error;
    }
  }

  /**
   * Records a refused attempt (outcome REFUSED, the error code) in a
   * transaction of its own, so the rollback of the refused work cannot erase
   * it. Never throws: a failure to record is logged and swallowed, so the
   * caller's own error reaches the client. Call it after the refused
   * transaction has ended (on SQLite, from inside one it would wait for itself).
   */
  async recordRefusal(input: RefusalInput): Promise<void> {
    try {
      await inTransaction(this.db, (em) => this.append(em, { ...input, outcome: 'REFUSED' }));
    } catch (err) {
      this.log.error({ err, operation: input.operation, errorCode: input.errorCode }, 'could not record a refused attempt in the transfer log');
    }
  }

  /** The EXCHANGE organization's id: the chain id of `insurerId: null` (cached once found). */
  async exchangeChainId(em: EntityManager = this.db.manager): Promise<string> {
    if (this.exchangeIdCache) return this.exchangeIdCache;
    const exchange = await this.organizations.findByCode(EXCHANGE_CODE, em);
    if (!exchange) throw new Error('transfer log: the EXCHANGE organization does not exist (bootstrap has not run)');
    this.exchangeIdCache = exchange.id;
    return exchange.id;
  }

  // --------------------------------------------------------------- reading ---

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

  /** A page of a chain, newest first, optionally only entries naming `policyNo` or of one `operation`. */
  async list(ctx: RequestContext, args: ListArgs): Promise<TransferLogPage> {
    const first = pageSize(args.first);
    let before: number | null = null;
    if (args.after !== undefined && args.after !== null) {
      before = decodeLogCursor(args.after);
      if (before === null) throw new BadInputError('after is not a cursor of this list', { field: 'after' });
    }
    const org = await this.authorizeChain(ctx, args.insurerCode);
    const qb = this.db.getRepository(TransferLogEntryEntity).createQueryBuilder('e').where('e.insurer_id = :chainId', { chainId: org.id });
    if (args.policyNo !== undefined && args.policyNo !== null) {
      qb.innerJoin(TransferLogPolicyEntity, 'p', 'p.insurer_id = e.insurer_id AND p.seq = e.seq AND p.policy_no = :policyNo', { policyNo: args.policyNo.trim() });
    }
    if (args.operation !== undefined && args.operation !== null) qb.andWhere('e.operation = :operation', { operation: args.operation });
    if (before !== null) qb.andWhere('e.seq < :before', { before });
    const rows = await qb.orderBy('e.seq', 'DESC').limit(first + 1).getMany();
    return { entries: rows.slice(0, first), hasNextPage: rows.length > first };
  }

  // ------------------------------------------------------------- verifying ---

  /** verifyTransferLog: the caller's permission, then {@link verifyChain}. */
  async verify(ctx: RequestContext, insurerCode: string, checkpoint?: CheckpointClaim | null): Promise<LogVerificationResult> {
    const org = await this.authorizeChain(ctx, insurerCode);
    return this.verifyChain(org, { checkpoint: checkpoint ?? null });
  }

  /**
   * Streams a chain in pages of {@link SCAN_PAGE_SIZE} by seq (constant
   * memory) and recomputes every hash, prevHash link and seq; checks the
   * policy-number index rows of each entry and the head row; then checks a
   * checkpoint: the one given, else the latest stored one signed with a key
   * the exchange has used (see {@link isTrustedKey}). A chain alone cannot show that its newest entries were
   * deleted and the head rewritten: the checkpoint can (its seq must exist
   * with its headHash, and its signature must verify with the exchange's key).
   * Entries appended after the head was read are not examined.
   */
  async verifyChain(
    chain: Pick<OrganizationEntity, 'id' | 'code'>,
    options: { checkpoint?: CheckpointClaim | null; onProgress?: (checked: number) => void } = {},
  ): Promise<LogVerificationResult> {
    const head = await this.db.getRepository(TransferLogHeadEntity).findOneBy({ insurerId: chain.id });
    const stored = options.checkpoint ? null : await this.latestTrustedCheckpoint(chain.id);
    const claim: CheckpointClaim | null = options.checkpoint ?? (stored ? this.claimOf(stored) : null);
    let checkpointHashAtSeq: string | null = claim && claim.seq === 0 ? GENESIS_HASH : null;

    const scan = await this.scan(chain.id, { afterSeq: 0, afterHash: GENESIS_HASH, untilSeq: head ? head.seq : null }, (row) => {
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
    return result;
  }

  /** Whether `claim` is a genuine checkpoint of `chain` that the chain extends (null) or why not. */
  private async checkClaim(chain: Pick<OrganizationEntity, 'id' | 'code'>, claim: CheckpointClaim, hashAtSeq: string | null): Promise<VerificationReason | null> {
    if (claim.insurerCode.trim().toUpperCase() !== chain.code) return 'CHECKPOINT_INSURER';
    if (!(await this.isTrustedKey(claim.publicKey))) return 'CHECKPOINT_KEY';
    if (!this.signer.verify(chain.id, claim)) return 'CHECKPOINT_SIGNATURE';
    if (hashAtSeq === null || hashAtSeq !== claim.headHash) return 'CHECKPOINT_NOT_EXTENDED';
    return null;
  }

  /**
   * Reads entries with afterSeq < seq (<= untilSeq when given) in seq order,
   * page by page, through a ChainVerifier starting at (afterSeq, afterHash),
   * and checks each entry's rows in `transfer_log_policy`.
   */
  private async scan(
    chainId: string,
    range: { afterSeq: number; afterHash: string; untilSeq: number | null },
    visit?: (row: TransferLogEntryEntity) => void,
    onProgress?: (checked: number) => void,
  ): Promise<{ verification: ReturnType<ChainVerifier['result']>; lastSeq: number; policyIndexBadSeq: number | null }> {
    const verifier = new ChainVerifier(range.afterHash, { startSeq: range.afterSeq + 1 });
    let lastSeq = range.afterSeq;
    let cursor = range.afterSeq;
    let policyIndexBadSeq: number | null = null;
    let reported = 0;
    for (;;) {
      const qb = this.db
        .getRepository(TransferLogEntryEntity)
        .createQueryBuilder('e')
        .where('e.insurer_id = :chainId AND e.seq > :cursor', { chainId, cursor });
      if (range.untilSeq !== null) qb.andWhere('e.seq <= :until', { until: range.untilSeq });
      const rows = await qb.orderBy('e.seq', 'ASC').limit(SCAN_PAGE_SIZE).getMany();
      if (rows.length === 0) break;
      const index = await this.policyIndex(chainId, rows[0]!.seq, rows[rows.length - 1]!.seq);
      for (const row of rows) {
        if (!verifier.push(chainEntryOf(row))) return { verification: verifier.result(), lastSeq, policyIndexBadSeq };
        if (!samePolicies(parseStringArray(row.policyNos), index.get(row.seq))) {
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
      if (rows.length < SCAN_PAGE_SIZE) break;
    }
    // Index rows beyond the last entry (an entry deleted with its head rewritten leaves them behind).
    const orphanQuery = this.db
      .getRepository(TransferLogPolicyEntity)
      .createQueryBuilder('p')
      .select('MIN(p.seq)', 'seq')
      .where('p.insurer_id = :chainId AND p.seq > :lastSeq', { chainId, lastSeq });
    if (range.untilSeq !== null) orphanQuery.andWhere('p.seq <= :until', { until: range.untilSeq });
    const orphan = await orphanQuery.getRawOne<{ seq: number | string | null }>();
    if (orphan?.seq !== null && orphan?.seq !== undefined) policyIndexBadSeq = Number(orphan.seq);
    return { verification: verifier.result(), lastSeq, policyIndexBadSeq };
  }

  private async policyIndex(chainId: string, fromSeq: number, toSeq: number): Promise<Map<number, string[]>> {
    const rows = await this.db
      .getRepository(TransferLogPolicyEntity)
      .createQueryBuilder('p')
      .where('p.insurer_id = :chainId AND p.seq >= :fromSeq AND p.seq <= :toSeq', { chainId, fromSeq, toSeq })
      .getMany();
    const map = new Map<number, string[]>();
    for (const row of rows) map.set(row.seq, [...(map.get(row.seq) ?? []), row.policyNo]);
    return map;
  }

  /**
   * Calls `write` with every entry of a chain in seq order, page by page
   * (for `verify-log --export`). Nothing is verified here.
   */
  async forEachEntry(chainId: string, write: (row: TransferLogEntryEntity) => void | Promise<void>): Promise<number> {
    let cursor = 0;
    let count = 0;
    for (;;) {
      const rows = await this.db
        .getRepository(TransferLogEntryEntity)
        .createQueryBuilder('e')
        .where('e.insurer_id = :chainId AND e.seq > :cursor', { chainId, cursor })
        .orderBy('e.seq', 'ASC')
        .limit(SCAN_PAGE_SIZE)
        .getMany();
      for (const row of rows) await write(row);
      count += rows.length;
      if (rows.length < SCAN_PAGE_SIZE) return count;
      cursor = rows[rows.length - 1]!.seq;
    }
  }

  /** The organization whose chain `code` names (an INSURER or the EXCHANGE), for the command line. */
  async chainByCode(code: string): Promise<OrganizationEntity | null> {
    const org = await this.organizations.findByCode(code);
    return org && (org.kind === 'INSURER' || org.kind === 'EXCHANGE') ? org : null;
  }

  // ----------------------------------------------------------- checkpoints ---

  /** transferLogCheckpoint: the latest checkpoint of a chain the caller may read (null when none yet). */
  async latestCheckpoint(ctx: RequestContext, insurerCode: string): Promise<TransferLogCheckpointEntity | null> {
    const org = await this.authorizeChain(ctx, insurerCode);
    return this.db.getRepository(TransferLogCheckpointEntity).findOne({ where: { insurerId: org.id }, order: { seq: 'DESC', signedAt: 'DESC', id: 'DESC' } });
  }

  /** createTransferLogCheckpoint: signs a checkpoint of the chain's current head on demand. */
  async createCheckpoint(ctx: RequestContext, insurerCode: string): Promise<TransferLogCheckpointEntity> {
    const org = await this.authorizeChain(ctx, insurerCode);
    return this.signCheckpoint(org);
  }

  /**
   * Signs (insurerId, insurerCode, seq, headHash, signedAt) of the chain's
   * current head with the exchange's Ed25519 key and stores it. Before
   * signing, the entries since the latest trusted checkpoint (or since
   * genesis) are verified, so a tampered chain is never signed: then an
   * error is thrown and logged instead.
   */
  async signCheckpoint(chain: Pick<OrganizationEntity, 'id' | 'code'>): Promise<TransferLogCheckpointEntity> {
    const head = await this.db.getRepository(TransferLogHeadEntity).findOneBy({ insurerId: chain.id });
    const headSeq = head?.seq ?? 0;
    const headHash = head?.hash ?? GENESIS_HASH;
    const previous = await this.latestTrustedCheckpoint(chain.id);
    let from = { afterSeq: 0, afterHash: GENESIS_HASH };
    if (previous && previous.seq <= headSeq) {
      const at = previous.seq === 0 ? null : await this.db.getRepository(TransferLogEntryEntity).findOneBy({ insurerId: chain.id, seq: previous.seq });
      if (previous.seq === 0 || at?.hash === previous.headHash) from = { afterSeq: previous.seq, afterHash: previous.headHash };
    }
    const scan = await this.scan(chain.id, { ...from, untilSeq: headSeq });
    const lastHash = scan.verification.headHash ?? from.afterHash;
    if (!scan.verification.valid || scan.policyIndexBadSeq !== null || scan.lastSeq !== headSeq || lastHash !== headHash) {
      this.log.error({ insurerId: chain.id, seq: headSeq }, 'transfer log does not verify: checkpoint refused');
      throw new AppError('INTERNAL_SERVER_ERROR', 'The transfer log does not verify, so no checkpoint was signed: run verifyTransferLog');
    }
    await this.registerSigningKey();
    const signedAt = new Date();
    const claim = this.signer.sign(chain.id, { insurerCode: chain.code, seq: headSeq, headHash, signedAt });
    const row = this.db.getRepository(TransferLogCheckpointEntity).create({ id: newId(), insurerId: chain.id, ...claim });
    await inTransaction(this.db, async (em) => {
      await em.getRepository(TransferLogCheckpointEntity).insert(row);
    });
    return row;
  }

  /**
   * Checkpoints every chain whose head moved since its latest checkpoint
   * (the hourly job). One chain's failure is logged and does not stop the others.
   */
  async checkpointMovedChains(): Promise<{ signed: number; failed: number }> {
    const moved = await this.db
      .getRepository(TransferLogHeadEntity)
      .createQueryBuilder('h')
      .innerJoin(OrganizationEntity, 'o', 'o.id = h.insurer_id')
      .select(['h.insurer_id AS insurerId', 'o.code AS code'])
      .where('h.seq > COALESCE((SELECT MAX(c.seq) FROM transfer_log_checkpoint c WHERE c.insurer_id = h.insurer_id AND c.public_key = :key), 0)', {
        key: this.signer.publicKey,
      })
      .getRawMany<{ insurerId: string; code: string }>();
    let signed = 0;
    let failed = 0;
    for (const chain of moved) {
      try {
        await this.signCheckpoint({ id: chain.insurerId, code: chain.code });
        signed += 1;
      } catch (err) {
        failed += 1;
        this.log.error({ err, insurerId: chain.insurerId }, 'transfer log checkpoint failed');
      }
    }
    return { signed, failed };
  }

  /**
   * The newest stored checkpoint of a chain signed with a trusted key whose
   * signature still verifies: checkpoints signed before a restart with
   * another key (MySQL without KEXIN_SIGNING_KEY, a rotated key, another
   * server) keep verifying with the key that signed them.
   */
  private async latestTrustedCheckpoint(chainId: string): Promise<TransferLogCheckpointEntity | null> {
    const row = await this.db
      .getRepository(TransferLogCheckpointEntity)
      .createQueryBuilder('c')
      .where('c.insurer_id = :chainId', { chainId })
      .andWhere("(c.public_key = :current OR c.public_key IN (SELECT k.key_id FROM exchange_key k WHERE k.purpose = 'CHECKPOINT'))", {
        current: this.signer.publicKey,
      })
      .orderBy('c.seq', 'DESC')
      .addOrderBy('c.signed_at', 'DESC')
      .addOrderBy('c.id', 'DESC')
      .limit(1)
      .getOne();
    return row && this.signer.verify(chainId, this.claimOf(row)) ? row : null;
  }

  /** The current signing key, or one the exchange signed checkpoints with before (recorded in `exchange_key`). */
  private async isTrustedKey(publicKey: string): Promise<boolean> {
    const key = publicKey.replace(/\s+/g, '');
    return this.signer.isCurrentKey(key) || (await isKnownKey(this.db, 'CHECKPOINT', key));
  }

  /** Records the current public key before its first signature, so the checkpoint verifies after the key changes. */
  private async registerSigningKey(): Promise<void> {
    if (this.signingKeyRegistered) return;
    await registerKey(this.db, 'CHECKPOINT', this.signer.publicKey);
    this.signingKeyRegistered = true;
  }

  private claimOf(row: TransferLogCheckpointEntity): CheckpointClaim {
    return { insurerCode: row.insurerCode, seq: row.seq, headHash: row.headHash, signedAt: row.signedAt, publicKey: row.publicKey, signature: row.signature };
  }
}

function samePolicies(expected: string[] | string, indexed: string[] | undefined): boolean {
  const want = typeof expected === 'string' ? [] : expected;
  const have = indexed ?? [];
  if (want.length !== have.length) return false;
  const set = new Set(have);
  return want.every((p) => set.has(p));
}

const MAX_NAME = 64;

/** Programming errors in a caller: they must never reach the log (and never a person's data in a field path). */
function validateInput(input: LogEntryInput, policyNos: string[], fields: string[]): void {
  const problems: string[] = [];
  if (!input.operation || input.operation.length > MAX_NAME) problems.push('operation');
  if (input.outcome !== undefined && input.outcome !== 'OK' && input.outcome !== 'REFUSED') problems.push('outcome');
  if (input.outcome === 'REFUSED' && !input.errorCode) problems.push('errorCode');
  if (input.errorCode && input.errorCode.length > MAX_NAME) problems.push('errorCode');
  if (!input.actorPrincipalId || !input.actorOrganizationId) problems.push('actor');
  if (policyNos.some((p) => p.length === 0 || p.length > MAX_NAME)) problems.push('policyNos');
  if (fields.some((f) => !isFieldPath(f))) problems.push('fields');
  if (problems.length) throw new Error(`transfer log: invalid entry (${problems.join(', ')})`);
}
