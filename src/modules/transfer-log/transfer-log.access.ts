import { hasRole, isKind, type Actor } from '../../auth/actor';
import type { OrganizationEntity } from '../organization/organization.entity';

/**
 * Who may read, verify and checkpoint a chain (contract "Who may do what":
 * transferLog, verifyTransferLog: the insurer's ADMIN or COMPLIANCE; REGULATOR).
 * The EXCHANGE ADMIN reads the exchange's own chain. Pure: the service calls it
 * on the loaded organization, the shield rule calls {@link mayUseTransferLog}.
 */
export function mayReadChain(actor: Actor, chainOrg: Pick<OrganizationEntity, 'id' | 'kind'>): boolean {
  if (chainOrg.kind !== 'INSURER' && chainOrg.kind !== 'EXCHANGE') return false;
  if (isKind(actor, 'REGULATOR')) return true;
  if (chainOrg.kind === 'INSURER') return isKind(actor, 'INSURER') && hasRole(actor, 'ADMIN', 'COMPLIANCE') && actor.organizationId === chainOrg.id;
  return isKind(actor, 'EXCHANGE') && hasRole(actor, 'ADMIN');
}

/** Coarse gate: could this caller read any chain at all? (Which one is checked by {@link mayReadChain}.) */
export function mayUseTransferLog(actor: Actor): boolean {
  if (isKind(actor, 'REGULATOR')) return true;
  if (isKind(actor, 'INSURER')) return hasRole(actor, 'ADMIN', 'COMPLIANCE');
  return isKind(actor, 'EXCHANGE') && hasRole(actor, 'ADMIN');
}
