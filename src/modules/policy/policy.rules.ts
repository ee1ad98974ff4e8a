import { kindAndRole } from '../../auth/rules';

/**
 * Coarse gate of underwritePolicy (contract: UNDERWRITER of the insurer).
 * Which insurer's policy is checked by the service (another insurer's is NOT_FOUND).
 */
export const isInsurerUnderwriter = kindAndRole('isInsurerUnderwriter', ['INSURER'], ['UNDERWRITER'], 'Only an UNDERWRITER of the insurer may underwrite');
