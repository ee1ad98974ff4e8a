/**
 * Issue 8, defect 5: no mutation tells a record the caller may not see from
 * one that does not exist. For every mutation of the served schema that names
 * a record, the answer for another tenant's record must be byte-identical
 * (JSON of `errors` and `data`) to the answer for a missing record of the
 * same shape (a fresh time-ordered id, an unused policy number, an unused
 * code); neither may change anything, and whatever the refusal logs must look
 * the same in both cases but for the ids and numbers the caller gave.
 * Issue 11, suite 1 (c): the same for every query field that returns or
 * names a record (policy, corrections, campaigns, chains, books, lists
 * filtered by insurer or channel); a served root field neither checked nor
 * listed as naming no record fails the test.
 */
import type { EntityManager } from 'typeorm';
import { newId } from '../../src/db/ids';
import { TransferLogEntryEntity } from '../../src/modules/transfer-log/transfer-log.entity';
import { ADMIN_TOKEN, startTestApp, type GqlResult, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty } from '../support/factories';
import { rootFields } from '../support/operations';
import { salesRecord, submit } from '../support/sales';
import { loggedEntries } from '../support/log';

type Party = Awaited<ReturnType<typeof createParty>>;
type Vars = Record<string, unknown>;

interface OracleCase {
  /** The mutation and what is named. */
  name: string;
  mutation: string;
  caller: () => string;
  query: string;
  /** Arguments naming a record of another tenant. */
  foreign: () => Vars;
  /** The same arguments naming a record that does not exist. */
  missing: () => Vars;
  /** The one answer both get. */
  code: string;
}

/** Mutations that name no record another caller could hide, and why. */
const NAMES_NO_HIDDEN_RECORD: Record<string, string> = {
  createOrganization: 'only the EXCHANGE ADMIN, who sees every organization; the code names a new one',
  signAttestation: 'names nothing: the caller signs for itself',
  submitSales:
    'names an insurer (organizations are a public directory: an unknown code is NOT_FOUND by contract) and new policy numbers (a duplicate from another channel is a per-record rejection the contract requires)',
};

/** Query fields that name no record of anyone's, and why. */
const QUERY_NAMES_NO_RECORD: Record<string, string> = {
  me: 'names nothing: the caller\'s own principal',
  organizations: 'the public directory, the same for every caller',
  agreements: 'takes no argument: the caller\'s own agreements',
  organizationsConnection: 'the public directory as pages, the same for every caller',
  agreementsConnection: 'names no record (a cursor only): the caller\'s own agreements',
  principals: 'names no organization (a cursor only): the caller\'s own organization\'s principals',
};

const REVOKE = 'mutation($id: ID!) { revokePrincipal(id: $id) { id revokedAt } }';
const SIGN = 'mutation($id: ID!) { signAgreement(id: $id) { id status } }';
const TERMINATE = 'mutation($id: ID!, $reason: String!) { terminateAgreement(id: $id, reason: $reason) { id status } }';
const PROPOSE = 'mutation($input: ProposeAgreementInput!) { proposeAgreement(input: $input) { id status } }';
const CREATE_PRINCIPAL = 'mutation($input: CreatePrincipalInput!) { createPrincipal(input: $input) { apiKey principal { id } } }';
const REGISTER = 'mutation($input: RegisterSalesPersonInput!) { registerSalesPerson(input: $input) { id code } }';
const REMEDIATE = 'mutation($insurerCode: String!, $issuedBefore: Date!, $deadline: Date!) { startRemediation(insurerCode: $insurerCode, issuedBefore: $issuedBefore, deadline: $deadline) { id } }';
const CHECKPOINT = 'mutation($insurerCode: String!) { createTransferLogCheckpoint(insurerCode: $insurerCode) { seq headHash } }';
const UNDERWRITE = 'mutation($insurerCode: String!, $policyNo: String!) { underwritePolicy(insurerCode: $insurerCode, policyNo: $policyNo) { policyNo status } }';
const CORRECT = 'mutation($input: CorrectionInput!) { submitCorrection(input: $input) { id version } }';

/** Every table a refused mutation must leave as it was (the log is compared on its own). */
const TABLES = [
  'organization',
  'principal',
  'agreement',
  'policy',
  'policy_beneficiary',
  'policy_missing_field',
  'person',
  'sales_person',
  'sales_batch',
  'remediation_campaign',
  'remediation_item',
  'transfer_log_checkpoint',
  'correction',
  'correction_change',
];

const DAY = 24 * 60 * 60 * 1000;
const NO_SUCH_ORG = 'NO_SUCH_ORG_42';

describe(`no existence oracle on mutations (${TEST_DB})`, () => {
  let app: TestApp;
  let insurerA: Party;
  let insurerB: Party;
  let bank: Party;
  let broker: Party;
  let bootstrapId: string;
  let activeAgreementId: string;
  let proposedAgreementId: string;
  let insurerC: Party;
  let regulator: Party;
  let campaignB: string;

  beforeAll(async () => {
    app = await startTestApp();
    const staff = ['ADMIN', 'SERVICE', 'UNDERWRITER', 'COMPLIANCE'] as const;
    insurerA = await createParty(app, 'INSURER', [...staff], { attested: true });
    insurerB = await createParty(app, 'INSURER', [...staff], { attested: true });
    bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES', 'SERVICE'], { attested: true });
    broker = await createParty(app, 'BROKER', ['ADMIN', 'SALES', 'SERVICE'], { attested: true });
    const scopes = ['SUBMIT_SALES', 'READ_POLICIES', 'CORRECT_RECORDS'];
    activeAgreementId = (await createAgreement(app, { insurerCode: insurerA.code, partnerCode: bank.code, scopes, proposerKey: insurerA.keys.ADMIN, signerKey: bank.keys.ADMIN })).id;
    await createAgreement(app, { insurerCode: insurerA.code, partnerCode: broker.code, scopes, proposerKey: insurerA.keys.ADMIN, signerKey: broker.keys.ADMIN });
    await createAgreement(app, { insurerCode: insurerB.code, partnerCode: broker.code, scopes: ['SUBMIT_SALES'], proposerKey: insurerB.keys.ADMIN, signerKey: broker.keys.ADMIN });
    proposedAgreementId = (await createAgreement(app, { insurerCode: insurerB.code, partnerCode: bank.code, scopes: ['READ_POLICIES'], proposerKey: insurerB.keys.ADMIN })).id;
    await sell(bank.keys.SALES, insurerA.code, 'OR-BANK-A');
    await sell(broker.keys.SALES, insurerB.code, 'OR-BROKER-B');
    bootstrapId = (await app.ok<{ me: { id: string } }>(ADMIN_TOKEN, '{ me { id } }')).me.id;
    // An insurer with no campaign and no policy: what a missing book looks like.
    insurerC = await createParty(app, 'INSURER', ['ADMIN'], { attested: true });
    regulator = await createParty(app, 'REGULATOR', ['ADMIN'], { attested: true });
    campaignB = (await app.ok<{ startRemediation: { id: string } }>(insurerB.keys.ADMIN, REMEDIATE, { insurerCode: insurerB.code, issuedBefore: new Date().toISOString().slice(0, 10), deadline: '2099-01-01' })).startRemediation.id;
  });
  afterAll(() => app.close());

  async function sell(salesKey: string, insurerCode: string, policyNo: string): Promise<void> {
    const result = await submit(app, salesKey, insurerCode, `oracle-${policyNo}`, [salesRecord(policyNo)]);
    expect(result.data?.submitSales.accepted).toBe(1);
  }

  const correction = (insurerCode: string, policyNo: string) => ({
    input: {
      insurerCode,
      policyNo,
      target: 'POLICYHOLDER',
      changes: { address: '北京市朝阳区测试路88号' },
      evidence: { method: 'CALLBACK_RECORDING', reference: 'REC-ORACLE-1', confirmedAt: new Date(Date.now() - DAY).toISOString() },
      expectedVersion: 1,
    },
  });
  const proposal = (insurerCode: string, partnerCode: string) => ({
    input: { insurerCode, partnerCode, scopes: ['READ_POLICIES'], validFrom: new Date(Date.now() - DAY).toISOString(), validTo: new Date(Date.now() + 30 * DAY).toISOString() },
  });
  const salesPerson = (organizationCode: string) => ({ input: { organizationCode, code: 'S-ORACLE', name: '测试销售', phone: '13900001111' } });
  const remediation = (insurerCode: string) => ({ insurerCode, issuedBefore: '2026-01-01', deadline: '2099-01-01' });

  const CASES: OracleCase[] = [
    { name: 'another organization\'s principal', mutation: 'revokePrincipal', caller: () => broker.keys.ADMIN, query: REVOKE, foreign: () => ({ id: bank.principalIds.SALES }), missing: () => ({ id: newId() }), code: 'NOT_FOUND' },
    { name: 'the exchange\'s bootstrap administrator', mutation: 'revokePrincipal', caller: () => insurerA.keys.ADMIN, query: REVOKE, foreign: () => ({ id: bootstrapId }), missing: () => ({ id: newId() }), code: 'NOT_FOUND' },
    { name: 'another pair\'s proposed agreement', mutation: 'signAgreement', caller: () => broker.keys.ADMIN, query: SIGN, foreign: () => ({ id: proposedAgreementId }), missing: () => ({ id: newId() }), code: 'NOT_FOUND' },
    { name: 'another pair\'s active agreement', mutation: 'terminateAgreement', caller: () => broker.keys.ADMIN, query: TERMINATE, foreign: () => ({ id: activeAgreementId, reason: 'probe' }), missing: () => ({ id: newId(), reason: 'probe' }), code: 'NOT_FOUND' },
    { name: 'another partner (vs an unknown partner code)', mutation: 'proposeAgreement', caller: () => broker.keys.ADMIN, query: PROPOSE, foreign: () => proposal(insurerA.code, bank.code), missing: () => proposal(insurerA.code, NO_SUCH_ORG), code: 'FORBIDDEN' },
    { name: 'another pair (vs an unknown insurer code)', mutation: 'proposeAgreement', caller: () => broker.keys.ADMIN, query: PROPOSE, foreign: () => proposal(insurerA.code, bank.code), missing: () => proposal(NO_SUCH_ORG, bank.code), code: 'FORBIDDEN' },
    { name: 'another organization', mutation: 'createPrincipal', caller: () => bank.keys.ADMIN, query: CREATE_PRINCIPAL, foreign: () => ({ input: { organizationCode: broker.code, name: 'probe', roles: ['ADMIN'] } }), missing: () => ({ input: { organizationCode: NO_SUCH_ORG, name: 'probe', roles: ['ADMIN'] } }), code: 'FORBIDDEN' },
    { name: 'another channel', mutation: 'registerSalesPerson', caller: () => bank.keys.ADMIN, query: REGISTER, foreign: () => salesPerson(broker.code), missing: () => salesPerson(NO_SUCH_ORG), code: 'FORBIDDEN' },
    { name: 'another insurer', mutation: 'startRemediation', caller: () => insurerA.keys.ADMIN, query: REMEDIATE, foreign: () => remediation(insurerB.code), missing: () => remediation(NO_SUCH_ORG), code: 'FORBIDDEN' },
    { name: 'another insurer\'s chain', mutation: 'createTransferLogCheckpoint', caller: () => insurerA.keys.COMPLIANCE, query: CHECKPOINT, foreign: () => ({ insurerCode: insurerB.code }), missing: () => ({ insurerCode: NO_SUCH_ORG }), code: 'FORBIDDEN' },
    { name: 'another insurer\'s policy', mutation: 'underwritePolicy', caller: () => insurerA.keys.UNDERWRITER, query: UNDERWRITE, foreign: () => ({ insurerCode: insurerB.code, policyNo: 'OR-BROKER-B' }), missing: () => ({ insurerCode: insurerB.code, policyNo: 'OR-NONE' }), code: 'NOT_FOUND' },
    { name: 'another insurer\'s policy (vs an unknown insurer)', mutation: 'underwritePolicy', caller: () => insurerA.keys.UNDERWRITER, query: UNDERWRITE, foreign: () => ({ insurerCode: insurerB.code, policyNo: 'OR-BROKER-B' }), missing: () => ({ insurerCode: NO_SUCH_ORG, policyNo: 'OR-BROKER-B' }), code: 'NOT_FOUND' },
    { name: 'another insurer\'s policy, by the insurer\'s SERVICE', mutation: 'submitCorrection', caller: () => insurerA.keys.SERVICE, query: CORRECT, foreign: () => correction(insurerB.code, 'OR-BROKER-B'), missing: () => correction(insurerB.code, 'OR-NONE'), code: 'NOT_FOUND' },
    { name: 'another channel\'s policy, by a partner holding CORRECT_RECORDS', mutation: 'submitCorrection', caller: () => broker.keys.SERVICE, query: CORRECT, foreign: () => correction(insurerA.code, 'OR-BANK-A'), missing: () => correction(insurerA.code, 'OR-NONE'), code: 'NOT_FOUND' },
    { name: 'another channel\'s policy, by a partner without CORRECT_RECORDS (refusal logged)', mutation: 'submitCorrection', caller: () => bank.keys.SERVICE, query: CORRECT, foreign: () => correction(insurerB.code, 'OR-BROKER-B'), missing: () => correction(insurerB.code, 'OR-NONE'), code: 'AGREEMENT_INACTIVE' },
  ];

  const POLICY = 'query($i: String!, $p: String!) { policy(insurerCode: $i, policyNo: $p) { policyNo } }';
  const CORRECTIONS = 'query($i: String!, $p: String!) { corrections(insurerCode: $i, policyNo: $p) { id } }';
  const POLICIES = 'query($f: PolicyFilter) { policies(filter: $f) { edges { node { policyNo } } pageInfo { hasNextPage endCursor } totalCount } }';
  const EXPORT_POLICIES = 'query($f: PolicyFilter) { exportPoliciesCsv(filter: $f) }';
  const CAMPAIGN = 'query($id: ID!) { remediationCampaign(id: $id) { id } }';
  const CAMPAIGNS = 'query($i: String!) { remediationCampaigns(insurerCode: $i) { id } }';
  const CORRECTIONS_PAGE = 'query($i: String!, $p: String!) { correctionsConnection(insurerCode: $i, policyNo: $p) { edges { node { id } } pageInfo { hasNextPage endCursor } } }';
  const CAMPAIGNS_PAGE = 'query($i: String!) { remediationCampaignsConnection(insurerCode: $i) { edges { node { id } } pageInfo { hasNextPage endCursor } } }';
  const LOG_COUNT = 'query($i: String!, $p: String) { transferLog(insurerCode: $i, policyNo: $p) { totalCount edges { node { seq } } } }';
  const LOG = 'query($i: String!, $p: String) { transferLog(insurerCode: $i, policyNo: $p) { edges { node { seq } } pageInfo { hasNextPage endCursor } } }';
  const VERIFY = 'query($i: String!) { verifyTransferLog(insurerCode: $i) { valid checked } }';
  const LATEST_CHECKPOINT = 'query($i: String!) { transferLogCheckpoint(insurerCode: $i) { seq } }';
  const SUMMARY = 'query($i: String!) { completenessSummary(insurerCode: $i, groupBy: CHANNEL) { key total } }';
  const EXPORT_SUMMARY = 'query($i: String!) { exportCompletenessCsv(insurerCode: $i, groupBy: CHANNEL) }';
  const HOLDS = 'query($i: String!, $c: String) { commissionHolds(insurerCode: $i, channelCode: $c) { __typename } }';

  /** The same for reads: `mutation` names the query field; `code` is NONE where both answer data (null or empty). */
  const QUERY_CASES: OracleCase[] = [
    { name: 'another insurer\'s policy', mutation: 'policy', caller: () => insurerA.keys.ADMIN, query: POLICY, foreign: () => ({ i: insurerB.code, p: 'OR-BROKER-B' }), missing: () => ({ i: insurerB.code, p: 'OR-NONE' }), code: 'NONE' },
    { name: 'another insurer\'s policy (vs an unknown insurer)', mutation: 'policy', caller: () => insurerA.keys.ADMIN, query: POLICY, foreign: () => ({ i: insurerB.code, p: 'OR-BROKER-B' }), missing: () => ({ i: NO_SUCH_ORG, p: 'OR-BROKER-B' }), code: 'NONE' },
    { name: 'another channel\'s policy, by a partner holding READ_POLICIES', mutation: 'policy', caller: () => broker.keys.ADMIN, query: POLICY, foreign: () => ({ i: insurerA.code, p: 'OR-BANK-A' }), missing: () => ({ i: insurerA.code, p: 'OR-NONE' }), code: 'NONE' },
    { name: 'a policy of an insurer the partner has no agreement with', mutation: 'policy', caller: () => bank.keys.ADMIN, query: POLICY, foreign: () => ({ i: insurerB.code, p: 'OR-BROKER-B' }), missing: () => ({ i: insurerB.code, p: 'OR-NONE' }), code: 'NONE' },
    { name: 'the regulator asking for a policy', mutation: 'policy', caller: () => regulator.keys.ADMIN, query: POLICY, foreign: () => ({ i: insurerA.code, p: 'OR-BANK-A' }), missing: () => ({ i: insurerA.code, p: 'OR-NONE' }), code: 'NONE' },
    { name: 'another insurer\'s policy\'s corrections', mutation: 'corrections', caller: () => insurerA.keys.SERVICE, query: CORRECTIONS, foreign: () => ({ i: insurerB.code, p: 'OR-BROKER-B' }), missing: () => ({ i: insurerB.code, p: 'OR-NONE' }), code: 'NONE' },
    { name: 'another channel\'s policy\'s corrections', mutation: 'corrections', caller: () => broker.keys.SERVICE, query: CORRECTIONS, foreign: () => ({ i: insurerA.code, p: 'OR-BANK-A' }), missing: () => ({ i: insurerA.code, p: 'OR-NONE' }), code: 'NONE' },
    { name: 'another insurer\'s policy\'s corrections, paged', mutation: 'correctionsConnection', caller: () => insurerA.keys.SERVICE, query: CORRECTIONS_PAGE, foreign: () => ({ i: insurerB.code, p: 'OR-BROKER-B' }), missing: () => ({ i: insurerB.code, p: 'OR-NONE' }), code: 'NONE' },
    { name: 'another channel\'s policy\'s corrections, paged', mutation: 'correctionsConnection', caller: () => broker.keys.SERVICE, query: CORRECTIONS_PAGE, foreign: () => ({ i: insurerA.code, p: 'OR-BANK-A' }), missing: () => ({ i: insurerA.code, p: 'OR-NONE' }), code: 'NONE' },
    { name: 'another insurer\'s book', mutation: 'policies', caller: () => insurerA.keys.ADMIN, query: POLICIES, foreign: () => ({ f: { insurerCode: insurerB.code } }), missing: () => ({ f: { insurerCode: NO_SUCH_ORG } }), code: 'NONE' },
    { name: 'another channel\'s sales', mutation: 'policies', caller: () => broker.keys.ADMIN, query: POLICIES, foreign: () => ({ f: { insurerCode: insurerA.code, channelCode: bank.code } }), missing: () => ({ f: { insurerCode: insurerA.code, channelCode: NO_SUCH_ORG } }), code: 'NONE' },
    { name: 'another insurer\'s book as CSV', mutation: 'exportPoliciesCsv', caller: () => insurerA.keys.ADMIN, query: EXPORT_POLICIES, foreign: () => ({ f: { insurerCode: insurerB.code } }), missing: () => ({ f: { insurerCode: NO_SUCH_ORG } }), code: 'NONE' },
    { name: 'another channel\'s sales as CSV', mutation: 'exportPoliciesCsv', caller: () => broker.keys.ADMIN, query: EXPORT_POLICIES, foreign: () => ({ f: { channelCode: bank.code } }), missing: () => ({ f: { channelCode: NO_SUCH_ORG } }), code: 'NONE' },
    { name: 'another insurer\'s campaign', mutation: 'remediationCampaign', caller: () => insurerA.keys.ADMIN, query: CAMPAIGN, foreign: () => ({ id: campaignB }), missing: () => ({ id: newId() }), code: 'NONE' },
    { name: 'a campaign of an insurer the partner has no agreement with', mutation: 'remediationCampaign', caller: () => bank.keys.SERVICE, query: CAMPAIGN, foreign: () => ({ id: campaignB }), missing: () => ({ id: newId() }), code: 'NONE' },
    { name: 'another insurer\'s campaigns (vs an unknown insurer)', mutation: 'remediationCampaigns', caller: () => insurerA.keys.ADMIN, query: CAMPAIGNS, foreign: () => ({ i: insurerB.code }), missing: () => ({ i: NO_SUCH_ORG }), code: 'FORBIDDEN' },
    { name: 'campaigns of an insurer the partner has no agreement with (vs one without campaigns)', mutation: 'remediationCampaigns', caller: () => bank.keys.SERVICE, query: CAMPAIGNS, foreign: () => ({ i: insurerB.code }), missing: () => ({ i: insurerC.code }), code: 'NONE' },
    { name: 'another insurer\'s campaigns, paged (vs an unknown insurer)', mutation: 'remediationCampaignsConnection', caller: () => insurerA.keys.ADMIN, query: CAMPAIGNS_PAGE, foreign: () => ({ i: insurerB.code }), missing: () => ({ i: NO_SUCH_ORG }), code: 'FORBIDDEN' },
    { name: 'campaigns, paged, of an insurer the partner has no agreement with (vs one without campaigns)', mutation: 'remediationCampaignsConnection', caller: () => bank.keys.SERVICE, query: CAMPAIGNS_PAGE, foreign: () => ({ i: insurerB.code }), missing: () => ({ i: insurerC.code }), code: 'NONE' },
    { name: 'another insurer\'s policy number in the own chain, counted', mutation: 'transferLog', caller: () => insurerA.keys.COMPLIANCE, query: LOG_COUNT, foreign: () => ({ i: insurerA.code, p: 'OR-BROKER-B' }), missing: () => ({ i: insurerA.code, p: 'OR-NONE' }), code: 'NONE' },
    { name: 'another insurer\'s chain', mutation: 'transferLog', caller: () => insurerA.keys.COMPLIANCE, query: LOG, foreign: () => ({ i: insurerB.code }), missing: () => ({ i: NO_SUCH_ORG }), code: 'FORBIDDEN' },
    { name: 'another insurer\'s policy number in the own chain', mutation: 'transferLog', caller: () => insurerA.keys.COMPLIANCE, query: LOG, foreign: () => ({ i: insurerA.code, p: 'OR-BROKER-B' }), missing: () => ({ i: insurerA.code, p: 'OR-NONE' }), code: 'NONE' },
    { name: 'another insurer\'s chain', mutation: 'verifyTransferLog', caller: () => insurerA.keys.COMPLIANCE, query: VERIFY, foreign: () => ({ i: insurerB.code }), missing: () => ({ i: NO_SUCH_ORG }), code: 'FORBIDDEN' },
    { name: 'another insurer\'s chain', mutation: 'transferLogCheckpoint', caller: () => insurerA.keys.COMPLIANCE, query: LATEST_CHECKPOINT, foreign: () => ({ i: insurerB.code }), missing: () => ({ i: NO_SUCH_ORG }), code: 'FORBIDDEN' },
    { name: 'another insurer\'s book', mutation: 'completenessSummary', caller: () => insurerA.keys.ADMIN, query: SUMMARY, foreign: () => ({ i: insurerB.code }), missing: () => ({ i: NO_SUCH_ORG }), code: 'FORBIDDEN' },
    { name: 'another insurer\'s book', mutation: 'exportCompletenessCsv', caller: () => insurerA.keys.ADMIN, query: EXPORT_SUMMARY, foreign: () => ({ i: insurerB.code }), missing: () => ({ i: NO_SUCH_ORG }), code: 'FORBIDDEN' },
    { name: 'another insurer\'s book', mutation: 'commissionHolds', caller: () => insurerA.keys.ADMIN, query: HOLDS, foreign: () => ({ i: insurerB.code }), missing: () => ({ i: NO_SUCH_ORG }), code: 'FORBIDDEN' },
  ];

  /** Every row of every table but the log, in a stable order. */
  async function dump(): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const table of TABLES) out[table] = ((await app.db.query(`SELECT * FROM ${table}`)) as unknown[]).map((r) => JSON.stringify(r)).sort();
    return out;
  }

  /** Log entries appended since `seen`, without what is unique to each entry or names the caller's own input. */
  async function newEntries(seen: Set<string>): Promise<Array<Record<string, unknown>>> {
    const manager: EntityManager = app.db.manager;
    const rows = await loggedEntries(manager.connection);
    return rows
      .filter((r) => !seen.has(r.id))
      .map(({ insurerId, operation, outcome, errorCode, actorPrincipalId, actorOrganizationId, counterpartyId, agreementId, fields, policyNos }) => ({
        insurerId,
        operation,
        outcome,
        errorCode,
        actorPrincipalId,
        actorOrganizationId,
        counterpartyId,
        agreementId,
        fields,
        policyNoCount: policyNos.length,
      }));
  }

  async function attempt(c: OracleCase, vars: Vars): Promise<{ result: GqlResult; logged: Array<Record<string, unknown>> }> {
    const seen = new Set((await app.db.getRepository(TransferLogEntryEntity).find({ select: { id: true } })).map((r) => r.id));
    const before = await dump();
    const result = await app.gql(c.caller(), c.query, vars);
    expect(await dump()).toEqual(before);
    return { result, logged: await newEntries(seen) };
  }

  it('every mutation of the served schema is either checked below or names no record a caller could be refused', () => {
    const mutations = rootFields(app.server.schema).filter((f) => f.type === 'Mutation').map((f) => f.field.name).sort();
    const covered = new Set([...CASES.map((c) => c.mutation), ...Object.keys(NAMES_NO_HIDDEN_RECORD)]);
    expect(mutations.filter((m) => !covered.has(m))).toEqual([]);
  });

  it('every query field of the served schema is either checked below or names no record', () => {
    const queries = rootFields(app.server.schema).filter((f) => f.type === 'Query').map((f) => f.field.name).sort();
    const covered = new Set([...QUERY_CASES.map((c) => c.mutation), ...Object.keys(QUERY_NAMES_NO_RECORD)]);
    expect(queries.filter((q) => !covered.has(q))).toEqual([]);
    console.log(`existence oracle: ${queries.length - Object.keys(QUERY_NAMES_NO_RECORD).length} record-naming query fields (${QUERY_CASES.length} cases), ${new Set(CASES.map((c) => c.mutation)).size} record-naming mutations (${CASES.length} cases)`);
  });

  it.each(QUERY_CASES.map((c) => [`${c.mutation}: ${c.name}`, c] as const))('query %s answers exactly as a missing one', async (_name, c) => {
    const foreign = await attempt(c, c.foreign());
    const missing = await attempt(c, c.missing());
    expect(foreign.result.errors?.[0]?.extensions?.code ?? 'NONE').toBe(c.code);
    if (c.code === 'NONE') expect(foreign.result.data?.[c.mutation]).toBeDefined();
    expect(JSON.stringify(foreign.result)).toBe(JSON.stringify(missing.result));
    expect(foreign.logged).toEqual(missing.logged);
    expect(foreign.logged).toEqual([]);
  });

  it.each(CASES.map((c) => [`${c.mutation}: ${c.name}`, c] as const))('%s answers exactly as a missing one', async (_name, c) => {
    const foreign = await attempt(c, c.foreign());
    const missing = await attempt(c, c.missing());
    expect(foreign.result.errors?.[0]?.extensions?.code).toBe(c.code);
    expect(JSON.stringify(foreign.result.errors)).toBe(JSON.stringify(missing.result.errors));
    expect(JSON.stringify(foreign.result.data ?? null)).toBe(JSON.stringify(missing.result.data ?? null));
    expect(foreign.logged).toEqual(missing.logged);
    // Only the contract's logged refusals write to the log, and then as REFUSED.
    expect(foreign.logged.every((e) => e.outcome === 'REFUSED')).toBe(true);
    expect(foreign.logged.length).toBe(c.code === 'AGREEMENT_INACTIVE' ? 1 : 0);
  });
});
