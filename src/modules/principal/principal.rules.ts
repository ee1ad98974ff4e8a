import { actorRule } from '../../auth/rules';
import { mayListPrincipals, mayManagePrincipals } from './principal.access';

/** Coarse gate of createPrincipal and revokePrincipal ({@link mayManagePrincipals}). */
export const mayManagePrincipalsRule = actorRule('mayManagePrincipals', mayManagePrincipals, 'Only an administrator may do this');

/** Coarse gate of `principals` ({@link mayListPrincipals}). */
export const mayListPrincipalsRule = actorRule('mayListPrincipals', mayListPrincipals, 'Only an administrator may list its organization\'s principals');
