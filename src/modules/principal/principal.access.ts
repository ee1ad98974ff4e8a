/**
 * Who may manage principals (contract "Who may do what": createPrincipal,
 * revokePrincipal: the EXCHANGE ADMIN for any organization, an
 * organization's ADMIN for its own; which organization is checked by
 * PrincipalService). Pure.
 */
import { hasRole, type Actor } from '../../auth/actor';

/**
 * Coarse gate of `principals` (issue 12): an ADMIN of any organization, who
 * lists its own organization's principals only (PrincipalService.page scopes
 * the SQL to the caller's organization), so a leaked key's principal can be
 * found and revoked.
 */
export function mayListPrincipals(actor: Actor): boolean {
  return hasRole(actor, 'ADMIN');
}

/** Coarse gate of createPrincipal and revokePrincipal: an ADMIN of any organization. */
export function mayManagePrincipals(actor: Actor): boolean {
  return hasRole(actor, 'ADMIN');
}
