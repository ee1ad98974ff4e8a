/**
 * Who may manage principals (contract "Who may do what": createPrincipal,
 * revokePrincipal: the EXCHANGE ADMIN for any organization, an
 * organization's ADMIN for its own; which organization is checked by
 * PrincipalService). Pure.
 */
import { hasRole, type Actor } from '../../auth/actor';

/** Coarse gate of createPrincipal and revokePrincipal: an ADMIN of any organization. */
export function mayManagePrincipals(actor: Actor): boolean {
  return hasRole(actor, 'ADMIN');
}
