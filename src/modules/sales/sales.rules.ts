import { actorRule } from '../../auth/rules';
import { mayRegisterSalesPeople, maySubmitSales } from './sales.access';

/** Coarse gate of submitSales ({@link maySubmitSales}). */
export const maySubmitSalesRule = actorRule('maySubmitSales', maySubmitSales, 'Only SALES principals of a broker or bank channel may push sales');

/** Coarse gate of registerSalesPerson ({@link mayRegisterSalesPeople}). */
export const mayRegisterSalesPeopleRule = actorRule(
  'mayRegisterSalesPeople',
  mayRegisterSalesPeople,
  'Only an ADMIN of a broker or bank channel, or the exchange ADMIN, may register sales people',
);
