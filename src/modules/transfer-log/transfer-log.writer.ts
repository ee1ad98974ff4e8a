import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from '../../logger';
import type { Metrics } from '../../metrics';
import type { RequestContext } from '../../graphql/context';
import { AppError, UnauthenticatedError } from '../../graphql/errors';
import { insertRows } from '../../db/bulk';
import { newId } from '../../db/ids';
import { isDuplicateKeyError, isSqlite } from '../../db/dialect';
import { inTransaction } from '../../db/transaction';
import { entryHash, GENESIS_HASH } from '../../domain/hash-chain';
import { EXCHANGE_CODE } from '../../domain/organization-codes';
import type { OrganizationService } from '../organization/organization.service';
import { changeDigest, isFieldPath, unique, type ChainContent } from './transfer-log.chain';
import { TransferLogEntryEntity, TransferLogHeadEntity, TransferLogPolicyEntity } from './transfer-log.entity';
import { policyRowsOf } from './transfer-log.policies';

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

/** A refused attempt as {@link TransferLogWriter.recordRefusal} takes it. */
export type RefusalInput = Omit<LogEntryInput, 'outcome'> & { errorCode: string };

/** How {@link TransferLogWriter.writeOnChain} re-checks a write under its chain lock. */
export interface ChainWriteOptions<G> {
  /**
   * Runs under the chain lock, before the work, with the instant the lock is
   * held; what it returns is handed to the work. An {@link AppError} it
   * throws refuses the write: the transaction rolls back and the refusal is
   * recorded with {@link refusal}.
   */
  refuseOn: (em: EntityManager, at: Date) => Promise<G>;
  /**
   * The REFUSED entry for a refusal of {@link refuseOn}, by its error code;
   * null where the contract keeps refusals off the chain (startRemediation:
   * an outsider must not be able to write into an insurer's chain by asking).
   */
  refusal: ((errorCode: string) => RefusalInput) | null;
}

/** The head of a chain as read under its lock. */
export interface ChainHead {
  chainId: string;
  seq: number;
  hash: string;
}

/**
 * The writing side of the hash-chained transfer log (issue 3, contract
 * README "Writes"): the only writer of `transfer_log`. It appends and never
 * updates or deletes; every write to customer data reaches it through
 * {@link writeOnChain} (or {@link lockChain} + {@link append} inside the
 * caller's own transaction).
 *
 * Concurrency: each chain has one row in `transfer_log_head`. {@link append}
 * (and {@link lockChain}) lock it with `SELECT … FOR UPDATE` on MySQL, so
 * appends to one chain are serialized while other chains proceed; SQLite's
 * single writer (the FIFO queue of `inTransaction`) serializes everything.
 * UNIQUE (insurer_id, seq) is the last line of defence.
 */
export class TransferLogWriter {
  private exchangeIdCache: string | null = null;

  constructor(
    private readonly db: DataSource,
    private readonly organizations: Pick<OrganizationService, 'findByCode'>,
    private readonly log: Logger,
    private readonly metrics: Pick<Metrics, 'chainAppended'> | null = null,
  ) {}

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
    const { policyNos: _hashedAsRows, ...columns } = content;
    const entry: TransferLogEntryEntity = { ...columns, at: content.at as Date, fields: JSON.stringify(fields), prevHash: head.hash, hash };
    await insertRows(em, TransferLogEntryEntity, [entry]);
    await insertRows(em, TransferLogPolicyEntity, policyRowsOf(head.chainId, entry.seq, policyNos));
    const moved = await em
      .createQueryBuilder()
      .update(TransferLogHeadEntity)
      .set({ seq: entry.seq, hash, updatedAt: content.at as Date })
      .where('insurer_id = :chainId AND seq = :seq', { chainId: head.chainId, seq: head.seq })
      .execute();
    if (moved.affected !== undefined && moved.affected !== 1) throw new Error('transfer log: the chain head moved while locked');
    this.metrics?.chainAppended(content.outcome);
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
   * transaction of its own (unless {@link ChainWriteOptions.refusal} is
   * null), like a refusal caught before the transaction; then it is thrown. Deadlocks retry the whole of it (`inTransaction`).
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
      if (refused !== null && error === refused && options.refusal) await this.recordRefusal(options.refusal((refused as AppError).code));
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
