import { allow, deny, shield } from 'graphql-shield';
import type { IRules } from 'graphql-shield';
import { ForbiddenError } from '../graphql/errors';
import { isAgreementPartyAdmin } from '../modules/agreement/agreement.rules';
import { mayUseTransferLogRule } from '../modules/transfer-log/transfer-log.rules';
import { isAnyAdmin, isAuthenticated, isExchangeAdminRule } from './rules';

/**
 * THE rule map: the coarse gate of every root field (the contract README's
 * "Who may do what"). Which rows an allowed caller may touch is decided by
 * the services and by the SQL of every list. Deny is the fallback: a root
 * field missing here answers FORBIDDEN, and an object type missing here has
 * all its fields denied (the coverage test names both).
 */
export const ruleMap = {
  Query: {
    me: isAuthenticated,
    organizations: isAuthenticated,
    // Which agreements a caller sees (the parties' ADMINs, the EXCHANGE ADMIN all, others none) is decided in SQL by the service.
    agreements: isAuthenticated,
    // Insurer ADMIN/COMPLIANCE, REGULATOR, EXCHANGE ADMIN; the service checks which chain (another insurer's: FORBIDDEN).
    transferLog: mayUseTransferLogRule,
    verifyTransferLog: mayUseTransferLogRule,
    transferLogCheckpoint: mayUseTransferLogRule,
  },
  Mutation: {
    createOrganization: isExchangeAdminRule,
    // Any ADMIN reaches the service, which allows the EXCHANGE ADMIN any organization and others only their own.
    createPrincipal: isAnyAdmin,
    revokePrincipal: isAnyAdmin,
    signAttestation: isAuthenticated,
    // An ADMIN of an insurer, broker or bank channel; the service checks it is a party (and the side).
    proposeAgreement: isAgreementPartyAdmin,
    signAgreement: isAgreementPartyAdmin,
    terminateAgreement: isAgreementPartyAdmin,
    createTransferLogCheckpoint: mayUseTransferLogRule,
  },
  // Object types: their fields are reachable only through the gated root fields
  // above; what a caller may see of a row is decided by the mappers (masking).
  Organization: { '*': allow },
  Principal: { '*': allow },
  PrincipalWithKey: { '*': allow },
  Agreement: { '*': allow },
  PageInfo: { '*': allow },
  TransferLogEntry: { '*': allow },
  TransferLogEdge: { '*': allow },
  TransferLogConnection: { '*': allow },
  LogVerification: { '*': allow },
  TransferLogCheckpoint: { '*': allow },
} satisfies IRules;

export const permissions = shield(ruleMap, {
  fallbackRule: deny,
  // Without this, shield replaces every resolver error (and its code) with "Not Authorised!".
  allowExternalErrors: true,
  fallbackError: () => new ForbiddenError(),
  debug: false,
});
