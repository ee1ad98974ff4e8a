import { actorRule } from '../../auth/rules';
import { mayCorrectRecords } from './correction.access';

/** Coarse gate of submitCorrection ({@link mayCorrectRecords}). */
export const mayCorrectRecordsRule = actorRule(
  'mayCorrectRecords',
  mayCorrectRecords,
  'Only SERVICE principals of an insurer, a broker or a bank channel may correct records',
);
