import { isExchangeAdmin } from '../../auth/actor';
import { actorRule } from '../../auth/rules';

/** Coarse gate of createOrganization: only the exchange ADMIN registers parties. */
export const mayCreateOrganizationRule = actorRule('mayCreateOrganization', isExchangeAdmin, 'Only the exchange administrator may do this');
