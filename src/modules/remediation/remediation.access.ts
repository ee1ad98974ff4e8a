/**
 * Who may start and read clean-up campaigns (contract "Who may do what":
 * startRemediation, remediationCampaign: the insurer's ADMIN or COMPLIANCE;
 * a partner sees the campaign's rows of its own book; the REGULATOR sees any
 * insurer's campaign reports). Pure functions over loaded rows.
 *
 * Decisions (issue 5):
 * - A partner (BROKER / BANK_CHANNEL) sees a campaign only while it holds an
 *   ACTIVE agreement with the insurer (any scope): the notice makes the
 *   selling channels cooperate in the clean-up, so a partner under contract
 *   sees the progress of its own book, and nothing once the agreement has
 *   ended. Its principals with ADMIN, COMPLIANCE or SERVICE (who do the
 *   corrections) see it; SALES does not.
 * - A campaign the caller may not see is answered like one that does not
 *   exist: `remediationCampaign` gives null, `remediationCampaigns` an empty
 *   list for a partner without an agreement.
 */
import { hasRole, isKind, type Actor } from '../../auth/actor';
import { isPartner } from '../agreement/agreement.access';
import type { Grant } from '../agreement/agreement.status';

/** What of a campaign a caller sees: every row, or only one channel's. */
export type CampaignScope = { all: true } | { all: false; channelId: string };

export const ALL_ROWS: CampaignScope = Object.freeze({ all: true });

const PARTNER_ROLES = ['ADMIN', 'COMPLIANCE', 'SERVICE'] as const;

/** Coarse gate of startRemediation: an insurer's ADMIN or COMPLIANCE (which insurer: {@link mayStartRemediation}). */
export function mayStartCampaigns(actor: Actor): boolean {
  return isKind(actor, 'INSURER') && hasRole(actor, 'ADMIN', 'COMPLIANCE');
}

/** startRemediation: the insurer's own ADMIN or COMPLIANCE. */
export function mayStartRemediation(actor: Actor, insurerId: string): boolean {
  return mayStartCampaigns(actor) && actor.organizationId === insurerId;
}

/**
 * The rows of insurer `insurerId`'s campaigns `actor` may see, or null.
 * `partnerGrant` is what the actor's organization holds on the insurer now
 * (consulted for partners only).
 */
export function campaignScope(actor: Actor, insurerId: string, partnerGrant: Grant | null): CampaignScope | null {
  if (isKind(actor, 'REGULATOR')) return ALL_ROWS;
  if (isKind(actor, 'INSURER')) return mayStartRemediation(actor, insurerId) ? ALL_ROWS : null;
  if (isPartner(actor) && hasRole(actor, ...PARTNER_ROLES)) {
    return partnerGrant && partnerGrant.agreementIds.length > 0 ? { all: false, channelId: actor.organizationId } : null;
  }
  return null;
}

/** Coarse gate of remediationCampaign(s): who could see some campaign at all. */
export function mayReadRemediation(actor: Actor): boolean {
  if (isKind(actor, 'REGULATOR')) return true;
  if (isKind(actor, 'INSURER')) return mayStartCampaigns(actor);
  return isPartner(actor) && hasRole(actor, ...PARTNER_ROLES);
}
