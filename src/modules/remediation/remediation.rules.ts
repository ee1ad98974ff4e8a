import { actorRule } from '../../auth/rules';
import { mayReadRemediation, mayStartCampaigns } from './remediation.access';

/** Coarse gate of startRemediation ({@link mayStartCampaigns}). */
export const mayStartRemediationRule = actorRule(
  'mayStartRemediation',
  mayStartCampaigns,
  'Only an insurer\'s ADMIN or COMPLIANCE principals start a clean-up campaign',
);

/** Coarse gate of remediationCampaign(s) ({@link mayReadRemediation}); which campaign and which of its rows: remediation.access.ts. */
export const mayReadRemediationRule = actorRule(
  'mayReadRemediation',
  mayReadRemediation,
  'Only the insurer\'s ADMIN or COMPLIANCE, its partners and the regulator see clean-up campaigns',
);
