import type { OrganizationKind } from '../modules/organization/organization.entity';
import type { Role } from '../modules/principal/principal.entity';

/** Who is calling: the principal behind the API key, with its organization. */
export interface Actor {
  readonly principalId: string;
  readonly name: string;
  readonly organizationId: string;
  readonly organizationCode: string;
  readonly organizationKind: OrganizationKind;
  readonly roles: readonly Role[];
  readonly attestedAt: Date | null;
  readonly isBootstrap: boolean;
}

export function hasRole(actor: Actor | null, ...roles: Role[]): boolean {
  return !!actor && roles.some((role) => actor.roles.includes(role));
}

export function isExchangeAdmin(actor: Actor | null): boolean {
  return !!actor && actor.organizationKind === 'EXCHANGE' && actor.roles.includes('ADMIN');
}

export function isKind(actor: Actor | null, ...kinds: OrganizationKind[]): boolean {
  return !!actor && kinds.includes(actor.organizationKind);
}
