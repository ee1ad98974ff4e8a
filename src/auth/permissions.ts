import { allow, deny, shield } from 'graphql-shield';
import type { IRules } from 'graphql-shield';
import { ForbiddenError } from '../graphql/errors';
import { mayChangeAgreementsRule } from '../modules/agreement/agreement.rules';
import { mayCorrectRecordsRule } from '../modules/correction/correction.rules';
import { mayCreateOrganizationRule } from '../modules/organization/organization.rules';
import { mayUnderwriteRule } from '../modules/policy/policy.rules';
import { mayListPrincipalsRule, mayManagePrincipalsRule } from '../modules/principal/principal.rules';
import { mayReadRemediationRule, mayStartRemediationRule } from '../modules/remediation/remediation.rules';
import { mayRegisterSalesPeopleRule, maySubmitSalesRule } from '../modules/sales/sales.rules';
import { mayExportPoliciesRule, mayReadCompletenessRule } from '../modules/summary/summary.rules';
import { mayUseTransferLogRule } from '../modules/transfer-log/transfer-log.rules';
import { isAuthenticated } from './rules';

/**
 * THE rule map: the coarse gate of every root field (the contract README's
 * "Who may do what"). Which rows an allowed caller may touch is decided by
 * the services and by the SQL of every list. Every gate is a context-only
 * rule built by `actorRule` (./rules.ts) from a pure predicate of its
 * module's `*.access.ts`, beside the module in `*.rules.ts`; the matrix of
 * who passes which gate is printed and checked against the contract by
 * test/unit/permission-matrix.test.ts. Deny is the fallback: a root
 * field missing here answers FORBIDDEN, and an object type missing here has
 * all its fields denied (the coverage test names both).
 */
export const ruleMap = {
  Query: {
    // Which policies (the insurer's own; a partner's own sales under READ_POLICIES; none for EXCHANGE/REGULATOR) is decided by policy.access.ts, in SQL.
    policy: isAuthenticated,
    policies: isAuthenticated,
    // The same rows as `policy` (CorrectionService.list asks PolicyService); others get an empty list.
    corrections: isAuthenticated,
    correctionsConnection: isAuthenticated,
    // The caller's own principal.
    me: isAuthenticated,
    // A directory of every organization (code, name, kind; no personal data).
    organizations: isAuthenticated,
    organizationsConnection: isAuthenticated,
    // Any ADMIN; PrincipalService.page lists only its own organization's principals (in SQL), never a key or hash.
    principals: mayListPrincipalsRule,
    // Which agreements a caller sees (every principal its own organization's, the EXCHANGE ADMIN all) is decided in SQL by the service.
    agreements: isAuthenticated,
    agreementsConnection: isAuthenticated,
    // Insurer ADMIN/COMPLIANCE, REGULATOR, EXCHANGE ADMIN; the service checks which chain (another insurer's: FORBIDDEN).
    transferLog: mayUseTransferLogRule,
    verifyTransferLog: mayUseTransferLogRule,
    transferLogCheckpoint: mayUseTransferLogRule,
    // Insurers, partners, the REGULATOR; the service decides which insurer and which part of its book (summary.access.ts).
    completenessSummary: mayReadCompletenessRule,
    commissionHolds: mayReadCompletenessRule,
    exportCompletenessCsv: mayReadCompletenessRule,
    // The policies audience (insurers, partners); rows are exactly those PolicyService.list gives the caller.
    exportPoliciesCsv: mayExportPoliciesRule,
    // Insurer ADMIN/COMPLIANCE, REGULATOR, partner ADMIN/COMPLIANCE/SERVICE; rows decided by remediation.access.ts.
    remediationCampaign: mayReadRemediationRule,
    remediationCampaigns: mayReadRemediationRule,
    remediationCampaignsConnection: mayReadRemediationRule,
  },
  Mutation: {
    // SALES of a broker or bank channel; the service checks the SUBMIT_SALES agreement and the attestation (and logs refusals).
    submitSales: maySubmitSalesRule,
    // SERVICE of an insurer, broker or bank channel; the service checks the insurer, the policy, CORRECT_RECORDS and the attestation (and logs refusals).
    submitCorrection: mayCorrectRecordsRule,
    // A channel's ADMIN for its own organization (checked by the service), or the exchange ADMIN.
    registerSalesPerson: mayRegisterSalesPeopleRule,
    // Insurer ADMIN/COMPLIANCE; the service allows only its own insurer.
    startRemediation: mayStartRemediationRule,
    // UNDERWRITER of an insurer; the service allows only its own insurer's policies (others: NOT_FOUND).
    underwritePolicy: mayUnderwriteRule,
    // The EXCHANGE ADMIN only.
    createOrganization: mayCreateOrganizationRule,
    // Any ADMIN reaches the service, which allows the EXCHANGE ADMIN any organization and others only their own.
    createPrincipal: mayManagePrincipalsRule,
    revokePrincipal: mayManagePrincipalsRule,
    // Any principal, for itself (it records the time of the staff attestation).
    signAttestation: isAuthenticated,
    // An ADMIN of an insurer, broker or bank channel; the service checks it is a party (and the side).
    proposeAgreement: mayChangeAgreementsRule,
    signAgreement: mayChangeAgreementsRule,
    terminateAgreement: mayChangeAgreementsRule,
    // As transferLog: the service checks which chain.
    createTransferLogCheckpoint: mayUseTransferLogRule,
  },
  // Object types: their fields are reachable only through the gated root fields
  // above; what a caller may see of a row is decided by the mappers (masking).
  Organization: { '*': allow },
  OrganizationEdge: { '*': allow },
  OrganizationConnection: { '*': allow },
  // Principal carries no key nor hash (only PrincipalWithKey.apiKey, once, to its creator).
  Principal: { '*': allow },
  PrincipalEdge: { '*': allow },
  PrincipalConnection: { '*': allow },
  PrincipalWithKey: { '*': allow },
  // Person.idNumber / Person.phone are masked or disclosed by person.mapper; rows are scoped by PolicyService.
  Policy: { '*': allow },
  PolicyEdge: { '*': allow },
  PolicyConnection: { '*': allow },
  Person: { '*': allow },
  Beneficiary: { '*': allow },
  // Shared by Policy and the sales payload (SalesRecordResult.completeness).
  Completeness: { '*': allow },
  CompletenessIssue: { '*': allow },
  // The submitSales payload holds policy numbers, codes and field paths; SalesPerson.phone is masked by its mapper.
  SubmitSalesPayload: { '*': allow },
  SalesRecordResult: { '*': allow },
  FieldError: { '*': allow },
  SalesPerson: { '*': allow },
  Agreement: { '*': allow },
  AgreementEdge: { '*': allow },
  AgreementConnection: { '*': allow },
  PageInfo: { '*': allow },
  TransferLogEntry: { '*': allow },
  TransferLogEdge: { '*': allow },
  TransferLogConnection: { '*': allow },
  LogVerification: { '*': allow },
  TransferLogCheckpoint: { '*': allow },
  // Counts, codes and policy numbers only: no person's field (issue 5).
  CompletenessBucket: { '*': allow },
  FieldCount: { '*': allow },
  CommissionHold: { '*': allow },
  RemediationCampaign: { '*': allow },
  RemediationCampaignEdge: { '*': allow },
  RemediationCampaignConnection: { '*': allow },
  RemediationProgress: { '*': allow },
  // FieldChange values of ID numbers and phones are masked or disclosed by correction.mapper.
  Correction: { '*': allow },
  CorrectionEdge: { '*': allow },
  CorrectionConnection: { '*': allow },
  FieldChange: { '*': allow },
} satisfies IRules;

export const permissions = shield(ruleMap, {
  fallbackRule: deny,
  // Without this, shield replaces every resolver error (and its code) with "Not Authorised!".
  allowExternalErrors: true,
  fallbackError: () => new ForbiddenError(),
  debug: false,
});
