import { actorRule } from '../../auth/rules';
import { mayManagePrincipals } from './principal.access';

/** Coarse gate of createPrincipal and revokePrincipal ({@link mayManagePrincipals}). */
export const mayManagePrincipalsRule = actorRule('mayManagePrincipals', mayManagePrincipals, 'Only an administrator may do this');
