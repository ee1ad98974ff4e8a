/**
 * The write path for an insurer's own book: policies it sold directly (no
 * channel; DIRECT in filters, summaries and reports). submitSales takes
 * only partners' sales, so this is the one way such policies are written,
 * and what a bulk import of an insurer's historical book will use. It is
 * the sales write itself (`policy-batch.ts`: people matched and merged,
 * completeness assessed with the phone-sharing and seller facts, other
 * policies re-flagged) with channel null, in one `writeOnChain` with its
 * log entry. No agreement gates an insurer's own book, so nothing is
 * re-checked under the chain lock (as for underwritePolicy).
 */
import type { EntityManager } from 'typeorm';
import { logActor, requireActor, requireAttestation } from '../../auth/actor';
import { newId } from '../../db/ids';
import { todayInChina } from '../../domain/dates';
import type { RequestContext } from '../../graphql/context';
import { BadInputError, ForbiddenError } from '../../graphql/errors';
import type { PiiCipher } from '../person/pii';
import type { RefusalInput, TransferLogWriter } from '../transfer-log/transfer-log.writer';
import { prepareRecord, writeBatch, type SalesRecordOutcome } from './policy-batch';
import { logReflagged } from './policy-reflag';
import { mayWriteOwnBook } from './policy.access';
import type { CleanRecord } from './policy.validation';

/** The log entry's operation. */
export const WRITE_OWN_BOOK = 'writeOwnBook';

/** What the own-book write needs: the cipher that seals people, the log it writes on. */
export interface OwnBookDeps {
  pii: PiiCipher;
  log: Pick<TransferLogWriter, 'append' | 'recordRefusal' | 'writeOnChain'>;
}

/**
 * Makes an own-book write happen at most once (the bulk import's chunks):
 * both run inside the write's transaction, under the insurer's chain lock.
 * `find` answers the outcomes stored by an earlier write of the same key
 * (then nothing is written, nothing logged), `store` keeps this write's.
 */
export interface OwnBookOnce {
  find: (em: EntityManager) => Promise<SalesRecordOutcome[] | null>;
  store: (em: EntityManager, batchId: string, outcomes: SalesRecordOutcome[]) => Promise<void>;
}

/**
 * Writes `records` (distinct policy numbers, already through the sales
 * record checks, `checkRecord`) as policies the actor's insurer sold
 * directly, today being `ctx.now`'s date in China. FORBIDDEN unless the
 * actor is an ADMIN of an insurer; ATTESTATION_REQUIRED (recorded as
 * REFUSED) without the staff attestation, as every write of customer data.
 * One `writeOwnBook` entry on the insurer's chain, then its re-flag entries.
 * Per-record outcomes as submitSales gives them (a number held by a
 * channel's policy, or already underwritten, is rejected).
 */
export async function writeOwnBook(
  deps: OwnBookDeps,
  ctx: Pick<RequestContext, 'actor' | 'now'>,
  records: readonly CleanRecord[],
  once: OwnBookOnce | null = null,
): Promise<SalesRecordOutcome[]> {
  const actor = requireActor(ctx);
  if (!mayWriteOwnBook(actor)) throw new ForbiddenError('Only an ADMIN of an insurer may write its own book');
  const policyNos = records.map((r) => r.policyNo);
  if (new Set(policyNos).size !== policyNos.length) throw new BadInputError('The same policyNo appears twice in the records', { field: 'records' });
  const insurerId = actor.organizationId;
  const refusal = (errorCode: string): RefusalInput => ({ insurerId, operation: WRITE_OWN_BOOK, errorCode, ...logActor(actor), change: { records: records.length } });
  await requireAttestation(actor, (code) => deps.log.recordRefusal(refusal(code)));
  const today = todayInChina(ctx.now);
  const prepared = records.map((record, index) => prepareRecord(deps.pii, index, record, today));
  return deps.log.writeOnChain(insurerId, async (em) => {
    const done = once ? await once.find(em) : null;
    if (done) return done;
    const batchId = newId();
    const results: Array<SalesRecordOutcome | null> = records.map(() => null);
    const written = await writeBatch(em, deps.pii, { insurerId, channelId: null, batchId }, prepared, results, { today, now: ctx.now });
    const rejected = results.filter((r) => !r!.accepted).length;
    await deps.log.append(em, {
      insurerId,
      operation: WRITE_OWN_BOOK,
      ...logActor(actor),
      policyNos: written.accepted.map((a) => a.policyNo),
      fields: written.fields,
      change: { batchId, rejected, policies: written.accepted, reflagged: written.reflagged.length },
    });
    await logReflagged(deps.log, em, { actor, insurerId, counterpartyId: null, agreementId: null, cause: WRITE_OWN_BOOK, ref: { batchId } }, written.reflagged);
    const outcomes = results.map((r) => r!);
    if (once) await once.store(em, batchId, outcomes);
    return outcomes;
  }, { refuseOn: async () => undefined, refusal });
}
