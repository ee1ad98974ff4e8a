/**
 * Who may read, see in full and underwrite which policies (contract "Who may
 * do what": policy, policies, corrections; underwritePolicy; and the PII
 * paragraph under the table). Pure decisions over the actor and what the
 * service loaded (the named insurer, the grants): PolicyService fetches,
 * these decide, and the shield rule calls the same gate predicate.
 */
import { hasRole, isKind, type Actor } from '../../auth/actor';
import { isPartner } from '../agreement/agreement.access';
import type { AgreementScope } from '../agreement/agreement.entity';
import type { Grant } from '../agreement/agreement.status';
import type { PiiView } from './person.type';

/** The scope an agreement must grant for a partner to read the policies it sold. */
export const READ_POLICIES: AgreementScope = 'READ_POLICIES';
/** The scope an agreement must grant for a partner to see ID numbers and phones whole. */
export const VIEW_FULL_PII: AgreementScope = 'VIEW_FULL_PII';

/**
 * The rows a caller may read, as SQL scoping: the insurers whose policies,
 * and for a partner only what it distributed (`channel_id` = its organization).
 */
export interface PolicyReadScope {
  insurerIds: string[];
  /** A partner's own organization: only policies it sold. */
  channelId: string | null;
}

/**
 * Which policies `actor` may read: an insurer's principals their own
 * insurer's book; a partner only what it distributed of the insurers in
 * `partnerReadable` (those whose ACTIVE agreement grants it
 * {@link READ_POLICIES}: only consulted for partners); EXCHANGE and
 * REGULATOR principals nothing, so they never see a person's fields. When
 * the caller named an insurer (`named`), only that one. Null: nothing.
 */
export function policyReadScope(actor: Actor, named: { id: string } | null, partnerReadable: readonly string[]): PolicyReadScope | null {
  if (isKind(actor, 'INSURER')) {
    if (named && named.id !== actor.organizationId) return null;
    return { insurerIds: [actor.organizationId], channelId: null };
  }
  if (!isPartner(actor)) return null;
  const insurerIds = named ? partnerReadable.filter((id) => id === named.id) : [...partnerReadable];
  return insurerIds.length > 0 ? { insurerIds, channelId: actor.organizationId } : null;
}

export const FULL_VIEW: PiiView = Object.freeze({ mode: 'FULL', disclosure: null }) as PiiView;
export const MASKED_VIEW: PiiView = Object.freeze({ mode: 'MASKED', disclosure: null }) as PiiView;

/**
 * How people's ID numbers and phones on `insurerId`'s policies may be shown
 * to `actor`, who holds `grant` on that insurer: whole to the insurer
 * itself; to a partner whole only while an ACTIVE agreement grants
 * {@link VIEW_FULL_PII}, and then as a disclosure (of the policy, under the
 * agreement) that the response's READ_PII entry records; masked otherwise.
 */
export function piiViewOf(actor: Actor, insurerId: string, grant: Grant): (policyNo: string) => PiiView {
  if (actor.organizationId === insurerId) return () => FULL_VIEW;
  if (isPartner(actor) && grant.scopes.has(VIEW_FULL_PII)) {
    const agreementId = grant.agreementIds[0] ?? null;
    return (policyNo) => ({ mode: 'FULL', disclosure: { insurerId, policyNo, agreementId } });
  }
  return () => MASKED_VIEW;
}

/** Coarse gate of underwritePolicy: an UNDERWRITER of an insurer (which insurer's policy: the service; another's is NOT_FOUND). */
export function mayUnderwrite(actor: Actor): boolean {
  return isKind(actor, 'INSURER') && hasRole(actor, 'UNDERWRITER');
}

/** Who may write an insurer's own book (policies it sold directly, an import of its historical book): an ADMIN of that insurer. */
export function mayWriteOwnBook(actor: Actor): boolean {
  return isKind(actor, 'INSURER') && hasRole(actor, 'ADMIN');
}
