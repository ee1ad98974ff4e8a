import { maskIdNumber, maskPhone } from '../../src/domain/masking';
import { makeResidentId } from '../../src/domain/resident-id';
import { TransferLogEntryEntity } from '../../src/modules/transfer-log/transfer-log.entity';
import { errorCode, startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty } from '../support/factories';

/**
 * The read side over records written by the real write path: a bank pushes
 * a batch with submitSales, then the insurer, the bank and a broker read it
 * back and the insurer's underwriter acts on the stored verdicts.
 */
const SUBMIT = `mutation($insurerCode: String!, $key: String!, $records: [SalesRecordInput!]!) {
  submitSales(insurerCode: $insurerCode, idempotencyKey: $key, records: $records) {
    accepted rejected results { policyNo accepted errors { field code } completeness { status missing issues { field code } } }
  }
}`;
const LIST = `query($filter: PolicyFilter) {
  policies(filter: $filter) {
    totalCount
    edges { node { policyNo status version channel { code } completeness { status missing issues { code } }
      policyholder { idNumber phone } insured { idNumber } beneficiaries { person { idNumber } } } }
  }
}`;
const UNDERWRITE = `mutation($insurerCode: String!, $policyNo: String!, $overrideReason: String) {
  underwritePolicy(insurerCode: $insurerCode, policyNo: $policyNo, overrideReason: $overrideReason) { policyNo status version }
}`;

interface Node {
  policyNo: string;
  status: string;
  version: number;
  channel: { code: string } | null;
  completeness: { status: string; missing: string[]; issues: Array<{ code: string }> };
  policyholder: { idNumber: string | null; phone: string | null };
  insured: { idNumber: string | null };
  beneficiaries: Array<{ person: { idNumber: string | null } }>;
}

let n = 0;
function person(overrides: Record<string, unknown> = {}) {
  n += 1;
  const birthDate = `1975-0${1 + (n % 9)}-2${n % 9}`;
  return {
    name: `销售测试${n}`,
    gender: 'MALE',
    birthDate,
    idType: 'RESIDENT_ID',
    idNumber: makeResidentId({ region: '310115', birthDate, sequence: (n * 2 + 1) % 1000, gender: 'MALE' }),
    phone: `139${String(20_000_000 + n * 104_729).slice(-8)}`,
    address: `上海市浦东新区测试大道${n}号`,
    ...overrides,
  };
}
function record(policyNo: string, overrides: Record<string, unknown> = {}) {
  const holder = person();
  return { policyNo, productCode: 'WL-01', termMonths: 120, applicationDate: '2026-02-01', policyholder: holder, insured: holder, insuredRelationship: 'SELF', ...overrides };
}

describe(`policies written by submitSales, read and underwritten (${TEST_DB})`, () => {
  let app: TestApp;
  let insurer: Awaited<ReturnType<typeof createParty>>;
  let bank: Awaited<ReturnType<typeof createParty>>;
  let broker: Awaited<ReturnType<typeof createParty>>;
  const sent = new Map<string, ReturnType<typeof record>>();

  beforeAll(async () => {
    app = await startTestApp();
    insurer = await createParty(app, 'INSURER', ['ADMIN', 'UNDERWRITER']);
    bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES'], { attested: true });
    broker = await createParty(app, 'BROKER', ['ADMIN', 'SALES'], { attested: true });
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['SUBMIT_SALES', 'READ_POLICIES'], proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN });
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: broker.code, scopes: ['SUBMIT_SALES', 'READ_POLICIES', 'VIEW_FULL_PII'], proposerKey: insurer.keys.ADMIN, signerKey: broker.keys.ADMIN });

    const shared = '13912345678';
    const bankRecords = [
      record('S-COMPLETE', { beneficiaries: [{ person: person({ phone: null, address: null }), relationshipToInsured: 'OTHER', sharePercent: 100, order: 1 }] }),
      record('S-NOPHONE', { policyholder: person({ phone: null }) }),
      record('S-SHARED-1', { policyholder: person({ phone: shared }) }),
      record('S-SHARED-2', { policyholder: person({ phone: `+86 ${shared}` }) }),
      record('S-SHARED-3', { policyholder: person({ phone: `139-1234-5678` }) }),
    ];
    for (const r of bankRecords) {
      if (r.insuredRelationship === 'SELF') r.insured = r.policyholder;
      sent.set(r.policyNo, r);
    }
    const pushed = await app.ok<{ submitSales: { accepted: number; rejected: number } }>(bank.keys.SALES, SUBMIT, { insurerCode: insurer.code, key: 'read-side-1', records: bankRecords });
    expect(pushed.submitSales).toMatchObject({ accepted: 5, rejected: 0 });
    const brokerRecord = record('B-1');
    sent.set('B-1', brokerRecord);
    await app.ok(broker.keys.SALES, SUBMIT, { insurerCode: insurer.code, key: 'read-side-2', records: [brokerRecord] });
  });
  afterAll(() => app.close());

  it('the insurer filters the stored verdicts: INCOMPLETE with its missing path, SUSPECT for the shared phone', async () => {
    const incomplete = await app.ok<{ policies: { totalCount: number; edges: Array<{ node: Node }> } }>(insurer.keys.ADMIN, LIST, { filter: { completeness: 'INCOMPLETE' } });
    expect(incomplete.policies.edges.map((e) => e.node.policyNo)).toEqual(['S-NOPHONE']);
    expect(incomplete.policies.edges[0]!.node.completeness.missing).toEqual(['policyholder.phone']);
    const byMissing = await app.ok<{ policies: { edges: Array<{ node: Node }> } }>(insurer.keys.ADMIN, LIST, { filter: { missingField: 'policyholder.phone' } });
    expect(byMissing.policies.edges.map((e) => e.node.policyNo)).toEqual(['S-NOPHONE']);
    const suspect = await app.ok<{ policies: { edges: Array<{ node: Node }> } }>(insurer.keys.ADMIN, LIST, { filter: { completeness: 'SUSPECT', channelCode: bank.code } });
    expect(suspect.policies.edges.map((e) => e.node.policyNo).sort()).toEqual(['S-SHARED-1', 'S-SHARED-2', 'S-SHARED-3']);
    for (const { node } of suspect.policies.edges) expect(node.completeness.issues.map((i) => i.code)).toContain('PHONE_SHARED');
    const all = await app.ok<{ policies: { totalCount: number; edges: Array<{ node: Node }> } }>(insurer.keys.ADMIN, LIST, {});
    expect(all.policies.totalCount).toBe(6);
    const complete = all.policies.edges.find((e) => e.node.policyNo === 'S-COMPLETE')!.node;
    expect(complete.policyholder.idNumber).toBe(sent.get('S-COMPLETE')!.policyholder.idNumber);
    const one = await app.ok<{ policy: { policyNo: string } | null }>(insurer.keys.ADMIN, 'query($c: String!) { policy(insurerCode: $c, policyNo: "s-nophone") { policyNo } }', { c: insurer.code });
    expect(one.policy).toEqual({ policyNo: 'S-NOPHONE' });
  });

  it('the bank reads its own sales masked; the broker with VIEW_FULL_PII reads its own whole, with one READ_PII entry', async () => {
    const bankView = await app.ok<{ policies: { totalCount: number; edges: Array<{ node: Node }> } }>(bank.keys.SALES, LIST, {});
    expect(bankView.policies.totalCount).toBe(5);
    for (const { node } of bankView.policies.edges) {
      const r = sent.get(node.policyNo)!;
      expect(node.channel).toEqual({ code: bank.code });
      expect(node.policyholder.idNumber).toBe(maskIdNumber(r.policyholder.idNumber as string));
      expect(node.policyholder.phone).toBe(r.policyholder.phone === null ? null : maskPhone(r.policyholder.phone as string));
    }
    const readPii = () => app.db.getRepository(TransferLogEntryEntity).countBy({ insurerId: insurer.id, operation: 'READ_PII' });
    expect(await readPii()).toBe(0);
    const brokerView = await app.ok<{ policies: { edges: Array<{ node: Node }> } }>(broker.keys.SALES, LIST, {});
    expect(brokerView.policies.edges.map((e) => e.node.policyNo)).toEqual(['B-1']);
    expect(brokerView.policies.edges[0]!.node.policyholder.idNumber).toBe(sent.get('B-1')!.policyholder.idNumber);
    expect(await readPii()).toBe(1);
  });

  it('the underwriter is refused on the incomplete and the suspect records, and underwrites the complete one and an overridden suspect one', async () => {
    const refused = await app.gql(insurer.keys.UNDERWRITER, UNDERWRITE, { insurerCode: insurer.code, policyNo: 'S-NOPHONE' });
    expect(errorCode(refused)).toBe('INCOMPLETE_CUSTOMER_INFO');
    expect(refused.errors![0]!.extensions!.missing).toEqual(['policyholder.phone']);
    const suspect = await app.gql(insurer.keys.UNDERWRITER, UNDERWRITE, { insurerCode: insurer.code, policyNo: 'S-SHARED-2' });
    expect(errorCode(suspect)).toBe('SUSPECT_CUSTOMER_INFO');
    expect(suspect.errors![0]!.extensions!.issues).toEqual(['PHONE_SHARED']);

    // Policy numbers are compared upper-case, as the write side stores them.
    const done = await app.ok<{ underwritePolicy: { status: string; version: number } }>(insurer.keys.UNDERWRITER, UNDERWRITE, { insurerCode: insurer.code.toLowerCase(), policyNo: ' s-complete ' });
    expect(done.underwritePolicy).toEqual({ policyNo: 'S-COMPLETE', status: 'UNDERWRITTEN', version: 2 });
    const overridden = await app.ok<{ underwritePolicy: { status: string } }>(insurer.keys.UNDERWRITER, UNDERWRITE, {
      insurerCode: insurer.code,
      policyNo: 'S-SHARED-2',
      overrideReason: 'Family members share the landline-forwarded mobile; verified at the counter',
    });
    expect(overridden.underwritePolicy.status).toBe('UNDERWRITTEN');
    const underwritten = await app.ok<{ policies: { edges: Array<{ node: Node }> } }>(insurer.keys.ADMIN, LIST, { filter: { status: 'UNDERWRITTEN' } });
    expect(underwritten.policies.edges.map((e) => e.node.policyNo).sort()).toEqual(['S-COMPLETE', 'S-SHARED-2']);
    expect((await app.services.transferLogVerifier.verifyChain({ id: insurer.id, code: insurer.code })).valid).toBe(true);
  });
});
