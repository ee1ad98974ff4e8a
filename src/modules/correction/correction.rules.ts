import { kindAndRole } from '../../auth/rules';

/**
 * Coarse gate of submitCorrection (contract: SERVICE of the insurer, or of
 * the partner that distributed the policy). The service checks which
 * insurer, which policy, the CORRECT_RECORDS agreement and the attestation.
 */
export const mayCorrectRecordsRule = kindAndRole(
  'mayCorrectRecords',
  ['INSURER', 'BROKER', 'BANK_CHANNEL'],
  ['SERVICE'],
  'Only SERVICE principals of an insurer, a broker or a bank channel may correct records',
);
