import { produceReport } from '../../src/cli/report';
import { todayInChina } from '../../src/domain/dates';
import { PolicyEntity } from '../../src/modules/policy/policy.entity';
import { RemediationItemEntity } from '../../src/modules/remediation/remediation.entity';
import { parseCsv } from '../../src/modules/summary/summary.csv';
import { startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty, createPrincipal } from '../support/factories';
import { adult, type PersonSeed } from '../support/seed';

const SUBMIT = `mutation($insurerCode: String!, $key: String!, $records: [SalesRecordInput!]!) {
  submitSales(insurerCode: $insurerCode, idempotencyKey: $key, records: $records) {
    accepted rejected results { policyNo accepted errors { field code } completeness { status issues { field code } } }
  }
}`;
const START = `mutation($insurerCode: String!, $issuedBefore: Date!, $deadline: Date!) {
  startRemediation(insurerCode: $insurerCode, issuedBefore: $issuedBefore, deadline: $deadline) { id }
}`;
const ONE = `query($id: ID!) { remediationCampaign(id: $id) {
  id checked pastDeadline progress { channel { code } checked flagged corrected remaining remainingPolicyNos }
} }`;

interface Progress {
  channel: { code: string } | null;
  checked: number;
  flagged: number;
  corrected: number;
  remaining: number;
  remainingPolicyNos: string[];
}

/**
 * The clean-up over policies written by the real sales path (submitSales):
 * the cross-record signals (shared phone, the seller's own phone) are the
 * write service's, and a correction is a re-submission of the PENDING
 * record from the same channel (a new version), as the correction service
 * will do it.
 */
describe(`historical clean-up over records pushed with submitSales (${TEST_DB})`, () => {
  let app: TestApp;
  let insurer: Awaited<ReturnType<typeof createParty>>;
  let bank: Awaited<ReturnType<typeof createParty>>;
  let salesKey: string;
  let campaignId: string;
  let batch = 0;
  const sharedPhone = '13911112222';
  const sellerPhone = '13700001111';
  const holders = new Map<string, PersonSeed>();

  const record = (policyNo: string, holder: PersonSeed, overrides: Record<string, unknown> = {}) => {
    holders.set(policyNo, holder);
    return { policyNo, productCode: 'LIFE-20Y', termMonths: 240, applicationDate: '2025-05-20', policyholder: holder, insured: holder, insuredRelationship: 'SELF', ...overrides };
  };
  const submit = async (records: unknown[]) => {
    batch += 1;
    const data = await app.ok<{ submitSales: { accepted: number; rejected: number; results: Array<{ policyNo: string; completeness: { status: string; issues: Array<{ field: string; code: string }> } }> } }>(
      salesKey,
      SUBMIT,
      { insurerCode: insurer.code, key: `remediation-${batch}`, records },
    );
    expect(data.submitSales.rejected).toBe(0);
    return data.submitSales.results;
  };
  const progress = async (): Promise<Progress[]> => (await app.ok<{ remediationCampaign: { progress: Progress[] } }>(insurer.keys.COMPLIANCE, ONE, { id: campaignId })).remediationCampaign.progress;

  beforeAll(async () => {
    app = await startTestApp();
    insurer = await createParty(app, 'INSURER', ['ADMIN', 'COMPLIANCE']);
    bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SERVICE']);
    salesKey = (await createPrincipal(app, bank.code, ['SALES'], { attested: true })).key;
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['SUBMIT_SALES', 'CORRECT_RECORDS'], proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN });
    await app.ok(bank.keys.ADMIN, 'mutation($input: RegisterSalesPersonInput!) { registerSalesPerson(input: $input) { id } }', {
      input: { code: 'S-1', name: '测试销售', phone: sellerPhone },
    });

    const results = [
      ...(await submit([
        record('WS-OK', adult()),
        record('WS-NOPHONE', adult({ phone: null })),
        record('WS-SELLER', adult({ phone: sellerPhone }), { salesPersonCode: 'S-1' }),
        record('WS-PLACEHOLDER', adult({ address: '不详' })),
        record('WS-NEW-NOPHONE', adult({ phone: null }), { applicationDate: todayInChina() }),
        record('WS-SH-1', adult({ phone: sharedPhone })),
      ])),
      ...(await submit([record('WS-SH-2', adult({ phone: sharedPhone }))])),
      ...(await submit([record('WS-SH-3', adult({ phone: sharedPhone }))])),
    ];
    const codes = Object.fromEntries(results.map((r) => [r.policyNo, r.completeness.issues.filter((i) => i.field.startsWith('policyholder.')).map((i) => i.code)]));
    expect(codes).toMatchObject({ 'WS-OK': [], 'WS-NOPHONE': ['MISSING'], 'WS-SELLER': ['PHONE_IS_SALES_PERSON'], 'WS-PLACEHOLDER': ['ADDRESS_PLACEHOLDER'], 'WS-SH-3': ['PHONE_SHARED'] });
  });
  afterAll(() => app.close());

  it('the snapshot flags the unsound ones among the old long-term policies, with the write path\'s cross-record signals', async () => {
    const deadline = new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10);
    campaignId = (await app.ok<{ startRemediation: { id: string } }>(insurer.keys.COMPLIANCE, START, { insurerCode: insurer.code, issuedBefore: '2026-01-01', deadline })).startRemediation.id;
    const items = await app.db.getRepository(RemediationItemEntity).findBy({ campaignId });
    const noOf = new Map((await app.db.getRepository(PolicyEntity).findBy({ insurerId: insurer.id })).map((p) => [p.id, p.policyNo]));
    expect(Object.fromEntries(items.map((i) => [noOf.get(i.policyId), JSON.parse(i.reasons)]))).toEqual({
      'WS-NOPHONE': ['policyholder.phone:MISSING'],
      'WS-SELLER': ['policyholder.phone:PHONE_IS_SALES_PERSON'],
      'WS-PLACEHOLDER': ['policyholder.address:ADDRESS_PLACEHOLDER'],
      'WS-SH-1': ['policyholder.phone:PHONE_SHARED'],
      'WS-SH-2': ['policyholder.phone:PHONE_SHARED'],
      'WS-SH-3': ['policyholder.phone:PHONE_SHARED'],
    });
    expect(await progress()).toEqual([{ channel: { code: bank.code }, checked: 7, flagged: 6, corrected: 0, remaining: 6, remainingPolicyNos: [] }]);
  });

  it('re-submitting a PENDING record with a sound phone (a new version) moves it from remaining to corrected', async () => {
    const [result] = await submit([record('WS-NOPHONE', { ...holders.get('WS-NOPHONE')!, phone: '13600003333' })]);
    expect(result!.completeness.status).toBe('COMPLETE');
    expect((await app.db.getRepository(PolicyEntity).findOneByOrFail({ insurerId: insurer.id, policyNo: 'WS-NOPHONE' })).version).toBe(2);
    expect(await progress()).toEqual([{ channel: { code: bank.code }, checked: 7, flagged: 6, corrected: 1, remaining: 5, remainingPolicyNos: [] }]);
    expect((await app.ok<{ remediationCampaign: { progress: Progress[] } }>(bank.keys.SERVICE, ONE, { id: campaignId })).remediationCampaign.progress).toEqual(await progress());
  });

  it('when one of three policyholders gets a phone of their own, the sharing ends for all three: three more corrected', async () => {
    await submit([record('WS-SH-3', { ...holders.get('WS-SH-3')!, phone: '13655556666' })]);
    const now = await progress();
    expect(now).toEqual([{ channel: { code: bank.code }, checked: 7, flagged: 6, corrected: 4, remaining: 2, remainingPolicyNos: [] }]);

    const [header, ...lines] = parseCsv((await produceReport(app.services, campaignId, 'csv'))!);
    const at = (name: string) => header!.indexOf(name);
    expect(lines.map((l) => [l[at('channel')], ...['checked', 'flagged', 'corrected', 'remaining'].map((k) => Number(l[at(k)]))])).toEqual([
      [bank.code, 7, 6, 4, 2],
      ['TOTAL', 7, 6, 4, 2],
    ]);
  });
});
