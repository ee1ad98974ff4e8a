/**
 * Who may correct records (contract "Who may do what": submitCorrection,
 * SERVICE of the insurer, or of the partner that distributed the policy).
 * Pure: the shield rule and CorrectionService call the same predicate.
 */
import { hasRole, isKind, type Actor } from '../../auth/actor';

/**
 * Coarse gate of submitCorrection: a SERVICE principal of an insurer, a
 * broker or a bank channel. Which insurer, which policy, the CORRECT_RECORDS
 * agreement and the attestation are checked by the service.
 */
export function mayCorrectRecords(actor: Actor): boolean {
  return isKind(actor, 'INSURER', 'BROKER', 'BANK_CHANNEL') && hasRole(actor, 'SERVICE');
}
