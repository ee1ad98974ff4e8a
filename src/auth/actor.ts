import { AttestationRequiredError, UnauthenticatedError } from '../graphql/errors';
import type { OrganizationEntity, OrganizationKind } from '../modules/organization/organization.entity';
import { parseRoles, type PrincipalEntity, type Role } from '../modules/principal/principal.entity';

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

/** The caller of a request that needs one: UNAUTHENTICATED without (the shield's gate already refused most such calls). */
export function requireActor(ctx: { readonly actor: Actor | null }): Actor {
  if (!ctx.actor) throw new UnauthenticatedError();
  return ctx.actor;
}

/** Who acted, as every transfer-log entry names it (`actorPrincipalId`, `actorOrganizationId`). */
export function logActor(actor: Actor): { actorPrincipalId: string; actorOrganizationId: string } {
  return { actorPrincipalId: actor.principalId, actorOrganizationId: actor.organizationId };
}

/**
 * The staff attestation (DOMAIN.md, "What the templates add": staff never
 * submit a change for a customer without the customer's request): every
 * write of customer data (submitSales, submitCorrection) needs the caller to
 * have signed it. ATTESTATION_REQUIRED otherwise, after `recordRefusal` has
 * put the attempt on the record.
 */
export async function requireAttestation(actor: Actor, recordRefusal: (errorCode: 'ATTESTATION_REQUIRED') => Promise<void>): Promise<void> {
  if (actor.attestedAt) return;
  await recordRefusal('ATTESTATION_REQUIRED');
  throw new AttestationRequiredError();
}

/** The kinds that distribute policies for insurers: their principals act under data-sharing agreements. */
export const PARTNER_KINDS = ['BROKER', 'BANK_CHANNEL'] as const;

export function hasRole(actor: Actor | null, ...roles: Role[]): boolean {
  return !!actor && roles.some((role) => actor.roles.includes(role));
}

export function isExchangeAdmin(actor: Actor | null): boolean {
  return !!actor && actor.organizationKind === 'EXCHANGE' && actor.roles.includes('ADMIN');
}

export function isKind(actor: Actor | null, ...kinds: OrganizationKind[]): boolean {
  return !!actor && kinds.includes(actor.organizationKind);
}

/** The actor a principal row of an organization row acts as (for code that acts outside a request, like the demo seed). */
export function actorOf(org: OrganizationEntity, principal: PrincipalEntity): Actor {
  return {
    principalId: principal.id,
    name: principal.name,
    organizationId: org.id,
    organizationCode: org.code,
    organizationKind: org.kind,
    roles: parseRoles(principal.roles),
    attestedAt: principal.attestedAt,
    isBootstrap: principal.isBootstrap,
  };
}
