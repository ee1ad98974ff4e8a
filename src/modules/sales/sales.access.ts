/**
 * Who may push sales and register sales people (contract "Who may do what":
 * submitSales; registerSalesPerson, 销售实名制). Pure: the shield rules and
 * SalesService call the same predicates.
 */
import { hasRole, isExchangeAdmin, type Actor } from '../../auth/actor';
import { isPartner } from '../agreement/agreement.access';

/**
 * Coarse gate of submitSales: SALES of a BROKER or BANK_CHANNEL. The
 * agreement (SUBMIT_SALES on that insurer) and the attestation are checked
 * by SalesService, which records a refusal in the insurer's transfer log: a
 * shield denial could not be logged.
 */
export function maySubmitSales(actor: Actor): boolean {
  return isPartner(actor) && hasRole(actor, 'SALES');
}

/** Coarse gate of registerSalesPerson: a channel's ADMIN (its own organization, checked by the service) or the exchange ADMIN. */
export function mayRegisterSalesPeople(actor: Actor): boolean {
  return isExchangeAdmin(actor) || (isPartner(actor) && hasRole(actor, 'ADMIN'));
}
