import { actorRule } from '../../auth/rules';
import { mayExportPolicies, mayReadCompleteness } from './summary.access';

/**
 * Coarse gate of completenessSummary, commissionHolds and
 * exportCompletenessCsv ({@link mayReadCompleteness}). Which insurer and
 * which part of its book is decided by the service (summary.access.ts).
 */
export const mayReadCompletenessRule = actorRule(
  'mayReadCompleteness',
  mayReadCompleteness,
  'Only insurers, their partners and the regulator see completeness',
);

/** Coarse gate of exportPoliciesCsv ({@link mayExportPolicies}). */
export const mayExportPoliciesRule = actorRule('mayExportPolicies', mayExportPolicies, 'Only insurers and their partners export policy lists');
