/**
 * Who may see and change an agreement: pure functions over an already
 * loaded row (no I/O), called at the top of the service methods.
 *
 * One rule for every refusal: a caller who may not see an agreement (a third
 * party) is answered NOT_FOUND, exactly as for an id that does not exist, so
 * an agreement's existence does not leak (contract README: "a record the
 * caller may not see is … absent"). A caller who may see it but not do this
 * (the EXCHANGE ADMIN, who only reads; a party's principal who is not an
 * ADMIN; the proposing side trying to sign for the other side) gets FORBIDDEN.
 */
import { hasRole, isExchangeAdmin, isKind, PARTNER_KINDS, type Actor } from '../../auth/actor';
import { BadInputError, ForbiddenError, NotFoundError } from '../../graphql/errors';
import type { AgreementEntity } from './agreement.entity';
import { agreementStatus, sideOf, type AgreementSide } from './agreement.status';

/** Whether a caller's organization is a distribution partner: what it may see of an insurer's book is what it sold, under an agreement. */
export function isPartner(actor: Actor): boolean {
  return isKind(actor, ...PARTNER_KINDS);
}

/**
 * Coarse gate of proposeAgreement, signAgreement and terminateAgreement: an
 * ADMIN of an organization that can be a party (INSURER, BROKER,
 * BANK_CHANNEL). Which agreement it may touch is decided by
 * {@link requireActingSide}. The EXCHANGE ADMIN only reads agreements.
 */
export function mayChangeAgreements(actor: Actor): boolean {
  return isKind(actor, 'INSURER', ...PARTNER_KINDS) && hasRole(actor, 'ADMIN');
}

/**
 * Every principal of the two parties, and the EXCHANGE ADMIN, see an
 * agreement (contract "Who may do what": `agreements` is the own
 * organization's agreements; only ADMINs act on them).
 */
export function mayViewAgreement(actor: Actor, agreement: Pick<AgreementEntity, 'insurerId' | 'partnerId'>): boolean {
  return isExchangeAdmin(actor) || sideOf(agreement, actor.organizationId) !== null;
}

/** The side a party ADMIN acts for; throws NOT_FOUND (may not see it) or FORBIDDEN (sees it, may not change it). */
export function requireActingSide(actor: Actor, agreement: AgreementEntity): AgreementSide {
  if (!mayViewAgreement(actor, agreement)) throw new NotFoundError('Agreement');
  const side = sideOf(agreement, actor.organizationId);
  if (!side) throw new ForbiddenError('Only the two parties of an agreement may change it; the exchange only reads agreements');
  if (!hasRole(actor, 'ADMIN')) throw new ForbiddenError('Only an ADMIN of a party may change an agreement');
  return side;
}

/**
 * signAgreement: only an ADMIN of the party that did not propose signs (the
 * proposer's side counted as signed when it proposed, and may not sign for
 * the other side). A terminated agreement, or one whose window has ended,
 * can no longer be signed. Returns the side that signs.
 */
export function checkSign(actor: Actor, agreement: AgreementEntity, now: Date): AgreementSide {
  const side = requireActingSide(actor, agreement);
  if (actor.organizationId === agreement.proposedByOrganizationId) {
    throw new ForbiddenError('The proposing party has signed already: the other party\'s ADMIN signs');
  }
  const status = agreementStatus(agreement, now);
  if (status === 'TERMINATED') throw new BadInputError('The agreement is terminated and can no longer be signed', { reason: 'TERMINATED' });
  if (status === 'EXPIRED' || now.getTime() >= agreement.validTo.getTime()) {
    throw new BadInputError('The agreement\'s validity window has ended: propose a new one', { reason: 'EXPIRED' });
  }
  return side;
}

/** terminateAgreement: an ADMIN of either party, once. Returns the side that terminates. */
export function checkTerminate(actor: Actor, agreement: AgreementEntity): AgreementSide {
  const side = requireActingSide(actor, agreement);
  if (agreement.terminatedAt) throw new BadInputError('The agreement is already terminated', { reason: 'TERMINATED' });
  return side;
}
