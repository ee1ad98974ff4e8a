import type { DataSource, EntityManager } from 'typeorm';
import { logActor, requireActor, requireAttestation, type Actor } from '../../auth/actor';
import { maySubmitSales } from './sales.access';
import type { RequestContext } from '../../graphql/context';
import type { Metrics, SalesVerdict } from '../../metrics';
import { AgreementInactiveError, BadInputError, ForbiddenError, NotFoundError } from '../../graphql/errors';
import { insertRows } from '../../db/bulk';
import { isDuplicateKeyError } from '../../db/dialect';
import { newId } from '../../db/ids';
import { todayInChina } from '../../domain/dates';
import { normalizeCode } from '../../domain/organization-codes';
import type { GrantService } from '../agreement/grant.service';
import type { OrganizationEntity } from '../organization/organization.entity';
import type { PiiCipher } from '../person/pii';
import { prepareRecord, rejected, writeBatch, type PreparedRecord, type SalesRecordOutcome } from '../policy/policy-batch';
import { logReflagged } from '../policy/policy-reflag';
import { MAX_IDEMPOTENCY_KEY } from '../policy/policy.validation';
import type { RefusalInput, TransferLogWriter } from '../transfer-log/transfer-log.writer';
import { SalesBatchEntity, storedResponse } from './sales.entity';
import { BatchChecker, MAX_BATCH_RECORDS, PayloadHasher, type SalesRecordData } from './sales.validation';

/**
 * Records hashed, checked and sealed between yields to the event loop.
 * Hashing, judging and sealing a full batch is ~200 ms of CPU (issue 10
 * profile: canonical JSON, AES-GCM, HMAC blind indexes, facts); done in one
 * go, it stalled the replies of the batch that holds the insurer's chain
 * lock meanwhile, and so held the lock (and the other client) that much longer.
 */
const RECORD_SLICE = 100;

/** Calls `visit` for every item, yielding to the event loop every {@link RECORD_SLICE} items. */
async function forEachSliced<T>(items: readonly T[], visit: (item: T, index: number) => void): Promise<void> {
  for (let index = 0; index < items.length; index += 1) {
    if (index > 0 && index % RECORD_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    visit(items[index]!, index);
  }
}

/** What submitSales needs of the transfer log. */
export type SalesLog = Pick<TransferLogWriter, 'append' | 'recordRefusal' | 'writeOnChain'>;

/** Contract `SubmitSalesPayload`; exactly what is stored for replays (no person's data in it). */
export interface SubmitSalesResult {
  batchId: string;
  replayed: boolean;
  accepted: number;
  rejected: number;
  results: SalesRecordOutcome[];
}

/**
 * The bank and broker sales push (contract `submitSales`, README "Writes";
 * Art. 5 and 6 of the measures): every record is judged on its own, stored
 * with its completeness even when incomplete, and the whole batch commits
 * with ONE transfer-log entry, or not at all. Built for batches (issue 4
 * item 5): the write phases are the policy store's (`policy-batch.ts`), a
 * constant number of statements per batch.
 */
export class SalesService {
  constructor(
    private readonly db: DataSource,
    private readonly grants: GrantService,
    private readonly log: SalesLog,
    private readonly pii: PiiCipher,
    private readonly metrics: Pick<Metrics, 'salesJudged'> | null = null,
  ) {}

  /**
   * submitSales. In order:
   * 1. BAD_USER_INPUT (nothing written) for an idempotency key that is not 1
   *    to 128 characters, or 0 or more than {@link MAX_BATCH_RECORDS} records;
   *    FORBIDDEN unless the caller is SALES of a BROKER or BANK_CHANNEL;
   *    NOT_FOUND for an unknown insurer code (codes are public).
   * 2. The same key from the same organization seen before: the stored payload
   *    with `replayed: true` (nothing changes, nothing is logged), or
   *    BAD_USER_INPUT when the records differ (SHA-256 of their canonical JSON).
   * 3. AGREEMENT_INACTIVE without an ACTIVE agreement granting SUBMIT_SALES
   *    on the insurer, ATTESTATION_REQUIRED without the staff attestation:
   *    both recorded as REFUSED entries on the insurer's chain.
   * 4. Records with field errors are rejected; the others are written with
   *    their completeness in one transaction that first takes the insurer's
   *    chain lock (so concurrent batches with one key serialise: the later
   *    ones find the stored batch and replay it) and re-checks SUBMIT_SALES
   *    under it: an agreement terminated or expired since step 3 refuses the
   *    batch as step 3 would (`writeOnChain`).
   */
  async submit(ctx: RequestContext, insurerCode: string, idempotencyKey: string, records: readonly SalesRecordData[]): Promise<SubmitSalesResult> {
    const actor = requireActor(ctx);
    const key = typeof idempotencyKey === 'string' ? idempotencyKey.trim() : '';
    if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY) {
      throw new BadInputError(`idempotencyKey must be 1 to ${MAX_IDEMPOTENCY_KEY} characters`, { field: 'idempotencyKey', limit: MAX_IDEMPOTENCY_KEY });
    }
    if (!Array.isArray(records) || records.length === 0 || records.length > MAX_BATCH_RECORDS) {
      throw new BadInputError(`records must hold 1 to ${MAX_BATCH_RECORDS} records per call`, { field: 'records', limit: MAX_BATCH_RECORDS });
    }
    if (!maySubmitSales(actor)) {
      throw new ForbiddenError('Only SALES principals of a broker or bank channel may push sales');
    }
    const insurer = await ctx.loaders.organizationByCode.load(normalizeCode(insurerCode));
    if (!insurer || insurer.kind !== 'INSURER') throw new NotFoundError('Insurer');
    const hasher = new PayloadHasher(insurer.code);
    await forEachSliced(records, (record) => hasher.add(record));
    const hash = hasher.digest();

    const stored = await this.findBatch(this.db.manager, actor.organizationId, key);
    if (stored) return this.replay(stored, hash);

    const grant = await this.grants.of(ctx, actor.organizationId, insurer.id);
    const refusal = (errorCode: string): RefusalInput => ({
      insurerId: insurer.id,
      operation: 'submitSales',
      errorCode,
      ...logActor(actor),
      counterpartyId: insurer.id,
      agreementId: grant.agreementIds[0] ?? null,
      change: { idempotencyKey: key, payloadHash: hash, records: records.length },
    });
    if (!grant.scopes.has('SUBMIT_SALES')) {
      await this.log.recordRefusal(refusal('AGREEMENT_INACTIVE'));
      throw new AgreementInactiveError(`No active data-sharing agreement grants SUBMIT_SALES on ${insurer.code}`);
    }
    await requireAttestation(actor, (code) => this.log.recordRefusal(refusal(code)));
    return this.apply(actor, insurer, key, hash, records, { refusal, now: ctx.now });
  }

  /**
   * The write of {@link submit} once the caller is allowed: validation, then
   * the transaction, which re-checks the agreement under the chain lock and
   * records a refusal with `options.refusal`. Exposed for the demo seed and
   * imports, which run the same path; callers must have checked the
   * attestation.
   */
  async apply(
    actor: Actor,
    insurer: Pick<OrganizationEntity, 'id' | 'code'>,
    idempotencyKey: string,
    hash: string,
    records: readonly SalesRecordData[],
    options: { refusal: (errorCode: string) => RefusalInput; now: Date },
  ): Promise<SubmitSalesResult> {
    const today = todayInChina(options.now);
    const outcomes: Array<SalesRecordOutcome | null> = records.map(() => null);
    const prepared: PreparedRecord[] = [];
    const checker = new BatchChecker(today);
    await forEachSliced(records, (input, index) => {
      const check = checker.check(input);
      if (check.ok) prepared.push(prepareRecord(this.pii, index, check.record, today));
      else outcomes[index] = rejected(check.policyNo, check.errors);
    });

    try {
      const result = await this.applyIn(actor, insurer, idempotencyKey, hash, prepared, outcomes, { ...options, today });
      if (!result.replayed) this.metrics?.salesJudged(verdictCounts(result.results));
      return result;
    } catch (error) {
      // The same key sent at once for two insurers: UNIQUE (organization_id, idempotency_key) let only one commit.
      if (!isDuplicateKeyError(error)) throw error;
      const winner = await this.findBatch(this.db.manager, actor.organizationId, idempotencyKey);
      if (!winner) throw error;
      return this.replay(winner, hash);
    }
  }

  private applyIn(
    actor: Actor,
    insurer: Pick<OrganizationEntity, 'id' | 'code'>,
    idempotencyKey: string,
    hash: string,
    prepared: PreparedRecord[],
    outcomes: Array<SalesRecordOutcome | null>,
    options: { refusal: (errorCode: string) => RefusalInput; now: Date; today: string },
  ): Promise<SubmitSalesResult> {
    const { today } = options;
    const refuseOn = this.grants.requiring(actor.organizationId, insurer, 'SUBMIT_SALES');
    // The chain lock first: concurrent batches for this insurer (and every other writer of its rows) queue there.
    return this.log.writeOnChain(insurer.id, async (em, grant) => {
      const agreementId = grant.agreementIds[0] ?? null;
      const existingBatch = await this.findBatch(em, actor.organizationId, idempotencyKey);
      if (existingBatch) return this.replay(existingBatch, hash);
      const batchId = newId();
      const results = [...outcomes];
      const written = await writeBatch(em, this.pii, { insurerId: insurer.id, channelId: actor.organizationId, batchId }, prepared, results, { today, now: options.now });
      const final = results.map((r) => r!);
      const payload: SubmitSalesResult = {
        batchId,
        replayed: false,
        accepted: final.filter((r) => r.accepted).length,
        rejected: final.filter((r) => !r.accepted).length,
        results: final,
      };
      await insertRows(em, SalesBatchEntity, [
        { id: batchId, insurerId: insurer.id, organizationId: actor.organizationId, idempotencyKey, payloadHash: hash, response: payload, createdAt: options.now },
      ]);
      await this.log.append(em, {
        insurerId: insurer.id,
        operation: 'submitSales',
        ...logActor(actor),
        counterpartyId: insurer.id,
        agreementId,
        policyNos: written.accepted.map((a) => a.policyNo),
        fields: written.fields,
        change: {
          batchId,
          idempotencyKey,
          payloadHash: hash,
          rejected: payload.rejected,
          policies: written.accepted,
          reflagged: written.reflagged.length,
        },
      });
      await logReflagged(this.log, em, { actor, insurerId: insurer.id, counterpartyId: insurer.id, agreementId, cause: 'submitSales', ref: { batchId } }, written.reflagged);
      return payload;
    }, { refuseOn, refusal: options.refusal });
  }

  private async findBatch(em: EntityManager, organizationId: string, idempotencyKey: string): Promise<SalesBatchEntity | null> {
    return em.getRepository(SalesBatchEntity).findOneBy({ organizationId, idempotencyKey });
  }

  private replay(batch: SalesBatchEntity, hash: string): SubmitSalesResult {
    if (batch.payloadHash !== hash) {
      throw new BadInputError('This idempotencyKey was used for a different batch: use a new key for new records', { field: 'idempotencyKey' });
    }
    const stored = storedResponse<SubmitSalesResult>(batch);
    return { ...stored, replayed: true };
  }
}

/** How many records of a committed batch got each verdict (REJECTED, or the stored completeness status). */
function verdictCounts(results: readonly SalesRecordOutcome[]): Map<SalesVerdict, number> {
  const counts = new Map<SalesVerdict, number>();
  for (const r of results) {
    const verdict: SalesVerdict = r.accepted && r.completeness ? r.completeness.status : 'REJECTED';
    counts.set(verdict, (counts.get(verdict) ?? 0) + 1);
  }
  return counts;
}
