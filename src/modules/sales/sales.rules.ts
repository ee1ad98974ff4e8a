import { kindAndRole } from '../../auth/rules';

/**
 * Coarse gate of submitSales (contract: SALES of a BROKER or BANK_CHANNEL).
 * The agreement (SUBMIT_SALES on that insurer) and the attestation are
 * checked by SalesService, which records a refusal in the insurer's transfer
 * log: a shield denial could not be logged.
 */
export const isChannelSales = kindAndRole('isChannelSales', ['BROKER', 'BANK_CHANNEL'], ['SALES'], 'Only SALES principals of a broker or bank channel may push sales');

/** Coarse gate of registerSalesPerson: a channel's ADMIN (its own organization, checked by the service) or the exchange ADMIN. */
export const isChannelOrExchangeAdmin = kindAndRole(
  'isChannelOrExchangeAdmin',
  ['BROKER', 'BANK_CHANNEL', 'EXCHANGE'],
  ['ADMIN'],
  'Only an ADMIN of a broker or bank channel, or the exchange ADMIN, may register sales people',
);
