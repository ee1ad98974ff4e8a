/**
 * The log entries of re-flagged policies: policies whose stored
 * completeness moved because another record changed (a phone that became or
 * stopped being shared, a person corrected, a seller registered). Written by
 * every writer that re-flags (submitSales, registerSalesPerson,
 * submitCorrection), so `transferLog(policyNo:)` finds each such policy the
 * same way whoever moved it.
 */
import type { EntityManager } from 'typeorm';
import { logActor, type Actor } from '../../auth/actor';
import { chunk } from '../../db/bulk';
import type { TransferLogWriter } from '../transfer-log/transfer-log.writer';

/** Policy numbers per `reflagCompleteness` log entry (the entry's JSON list stays far below a 64 KiB TEXT). */
export const REFLAG_ENTRY_POLICIES = 500;

/** A re-flagged policy as its entry lists it. */
export interface Reflagged {
  policyNo: string;
  completeness: string;
}

/** Whose change re-flagged the policies, and why. */
export interface ReflagCause {
  actor: Actor;
  insurerId: string;
  counterpartyId: string | null;
  agreementId: string | null;
  /** The operation that caused it, e.g. 'submitSales'. */
  cause: string;
  /** Ids naming the change, e.g. `{ batchId }`. */
  ref: Record<string, string>;
}

/**
 * `reflagged` on the insurer's chain as `reflagCompleteness` entries of at
 * most {@link REFLAG_ENTRY_POLICIES} policy numbers each, in the caller's
 * transaction.
 */
export async function logReflagged(log: Pick<TransferLogWriter, 'append'>, em: EntityManager, by: ReflagCause, reflagged: readonly Reflagged[]): Promise<void> {
  for (const part of chunk(reflagged, REFLAG_ENTRY_POLICIES)) {
    await log.append(em, {
      insurerId: by.insurerId,
      operation: 'reflagCompleteness',
      ...logActor(by.actor),
      counterpartyId: by.counterpartyId,
      agreementId: by.agreementId,
      policyNos: part.map((r) => r.policyNo),
      fields: ['completeness.status', 'completeness.issues'],
      change: { cause: by.cause, ...by.ref, reflagged: part },
    });
  }
}
