/**
 * Who may see which part of an insurer's book in the completeness views
 * (completenessSummary, commissionHolds, exportCompletenessCsv): pure
 * functions over already-loaded rows, called at the top of the service.
 *
 * Contract README "Who may do what": the insurer's principals see all of its
 * policies; a partner (BROKER / BANK_CHANNEL) holding READ_COMPLETENESS
 * through an ACTIVE agreement sees only its own book (policies it sold); the
 * REGULATOR sees any insurer's. Everyone else is FORBIDDEN.
 *
 * Decision (issue 5): a partner WITHOUT the grant is refused with
 * AGREEMENT_INACTIVE rather than answered with an empty list, so that a
 * terminated or expired agreement is visible as such to the partner and does
 * not look like a book without policies (the same answer GrantService's
 * `require` gives for every other scope).
 */
import { isKind, type Actor } from '../../auth/actor';
import { AgreementInactiveError, BadInputError, ForbiddenError, NotFoundError, type AppError } from '../../graphql/errors';
import { isPartner } from '../agreement/agreement.access';
import type { AgreementScope } from '../agreement/agreement.entity';
import type { Grant } from '../agreement/agreement.status';
import type { OrganizationEntity } from '../organization/organization.entity';

/** The part of one insurer's policies a caller may see: all of them, or one channel's book. */
export interface Book {
  insurerId: string;
  insurerCode: string;
  /** Set for a partner: only policies with channel_id = this organization. Null: the whole book. */
  onlyChannelId: string | null;
}

/**
 * The book `actor` may see of the organization `insurer` (null when the code
 * is unknown), or the error to answer. `partnerGrant` is what the actor's
 * organization holds on the insurer now (only consulted for partners).
 * Another insurer's principals get FORBIDDEN whether the code exists or not,
 * so codes do not leak through this operation.
 */
export function bookAccess(
  actor: Actor,
  insurer: Pick<OrganizationEntity, 'id' | 'code' | 'kind'> | null,
  partnerGrant: Grant | null,
  scope: AgreementScope,
): Book | AppError {
  if (isKind(actor, 'INSURER')) {
    if (!insurer || insurer.id !== actor.organizationId) return new ForbiddenError('An insurer\'s principals see only their own insurer');
    return { insurerId: insurer.id, insurerCode: insurer.code, onlyChannelId: null };
  }
  if (!isKind(actor, 'REGULATOR') && !isPartner(actor)) return new ForbiddenError('Only insurers, their partners and the regulator see completeness');
  if (!insurer) return new NotFoundError('Insurer');
  if (insurer.kind !== 'INSURER') return new BadInputError('insurerCode must name an INSURER', { field: 'insurerCode' });
  if (isKind(actor, 'REGULATOR')) return { insurerId: insurer.id, insurerCode: insurer.code, onlyChannelId: null };
  if (!partnerGrant?.scopes.has(scope)) return new AgreementInactiveError(`No active data-sharing agreement grants ${scope} on ${insurer.code}`);
  return { insurerId: insurer.id, insurerCode: insurer.code, onlyChannelId: actor.organizationId };
}

/** Coarse gate (shield): organizations that can see some completeness view at all. */
export function mayReadCompleteness(actor: Actor): boolean {
  return isKind(actor, 'INSURER', 'BROKER', 'BANK_CHANNEL', 'REGULATOR');
}

/** Coarse gate for the policy list export: the `policies` audience (insurers and partners; not the regulator or the exchange). */
export function mayExportPolicies(actor: Actor): boolean {
  return isKind(actor, 'INSURER', 'BROKER', 'BANK_CHANNEL');
}

