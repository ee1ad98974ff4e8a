import { maskIdNumber, maskPhone } from '../../src/domain/masking';
import { ADMIN_TOKEN, errorCode, startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty } from '../support/factories';
import { adult, completeSeed, seedPolicies, type PersonSeed, type PolicySeed } from '../support/seed';
import { loggedEntries } from '../support/log';

const POLICY_FIELDS = `
  id policyNo status version productCode termMonths applicationDate insuredRelationship
  insurer { code } channel { code }
  policyholder { id name gender birthDate idType idNumber phone address }
  insured { id name idNumber phone }
  beneficiaries { order sharePercent relationshipToInsured person { name idNumber phone } }
  completeness { status missing issues { field code message } }`;

const LIST = `query($filter: PolicyFilter, $first: Int, $after: String) {
  policies(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { ${POLICY_FIELDS} } }
  }
}`;
const ONE = `query($insurerCode: String!, $policyNo: String!) { policy(insurerCode: $insurerCode, policyNo: $policyNo) { ${POLICY_FIELDS} } }`;

interface PolicyNode {
  policyNo: string;
  status: string;
  channel: { code: string } | null;
  policyholder: { idNumber: string | null; phone: string | null; name: string | null; gender?: string; birthDate?: string; address?: string };
  insured: { idNumber: string | null; phone: string | null };
  beneficiaries: Array<{ order: number | null; sharePercent: number | null; person: { idNumber: string | null; phone: string | null } }>;
  completeness: { status: string; missing: string[]; issues: Array<{ field: string; code: string }> };
}
interface ListData {
  policies: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Array<{ cursor: string; node: PolicyNode }> };
}

describe(`policy and policies: visibility, masking, READ_PII, filters, pagination (${TEST_DB})`, () => {
  let app: TestApp;
  let insurer: Awaited<ReturnType<typeof createParty>>;
  let otherInsurer: Awaited<ReturnType<typeof createParty>>;
  let bank: Awaited<ReturnType<typeof createParty>>;
  let broker: Awaited<ReturnType<typeof createParty>>;
  let noReadBank: Awaited<ReturnType<typeof createParty>>;
  let regulator: Awaited<ReturnType<typeof createParty>>;
  const clear = new Map<string, { holder: PersonSeed; beneficiary?: PersonSeed }>();
  const bankNos = ['BK-1', 'BK-2-NOPHONE', 'BK-3-BADID'];
  const brokerNos = ['BR-1', 'BR-2'];
  const directNos = ['DI-1-DONE'];
  const allNos = [...bankNos, ...brokerNos, ...directNos, 'NR-1'];

  const readPiiEntries = async (insurerId: string) =>
    loggedEntries(app.db, { where: { insurerId, operation: 'READ_PII' } });

  beforeAll(async () => {
    app = await startTestApp();
    insurer = await createParty(app, 'INSURER', ['ADMIN', 'SERVICE', 'UNDERWRITER']);
    otherInsurer = await createParty(app, 'INSURER', ['ADMIN']);
    bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES']);
    broker = await createParty(app, 'BROKER', ['ADMIN', 'SERVICE']);
    noReadBank = await createParty(app, 'BANK_CHANNEL', ['ADMIN']);
    regulator = await createParty(app, 'REGULATOR', ['COMPLIANCE']);
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['SUBMIT_SALES', 'READ_POLICIES'], proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN });
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: broker.code, scopes: ['READ_POLICIES', 'VIEW_FULL_PII'], proposerKey: insurer.keys.ADMIN, signerKey: broker.keys.ADMIN });
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: noReadBank.code, scopes: ['SUBMIT_SALES', 'VIEW_FULL_PII'], proposerKey: insurer.keys.ADMIN, signerKey: noReadBank.keys.ADMIN });

    const seeds: PolicySeed[] = [];
    const add = (policyNo: string, channelId: string | null, overrides: Partial<PolicySeed> = {}) => {
      const seed = completeSeed(insurer.id, policyNo, { channelId, ...overrides });
      clear.set(policyNo, { holder: seed.policyholder, beneficiary: seed.beneficiaries?.[0]?.person });
      seeds.push(seed);
    };
    add('BK-1', bank.id, { beneficiaries: [{ person: adult({ phone: null, address: null }), relationshipToInsured: 'SPOUSE', sharePercent: 100, order: 1 }] });
    add('BK-2-NOPHONE', bank.id, { policyholder: adult({ phone: null }), insured: adult(), insuredRelationship: 'OTHER' });
    add('BK-3-BADID', bank.id, { policyholder: adult({ idNumber: '110105198001011235' }), insured: adult(), insuredRelationship: 'OTHER' });
    add('BR-1', broker.id, { beneficiaries: [{ person: adult({ phone: null, address: null }), relationshipToInsured: 'CHILD', sharePercent: 50.5, order: 1 }] });
    add('BR-2', broker.id);
    add('DI-1-DONE', null);
    add('NR-1', noReadBank.id);
    // Fix the seeds whose policyholder was replaced after completeSeed made its own.
    for (const seed of seeds) clear.set(seed.policyNo, { holder: seed.policyholder, beneficiary: seed.beneficiaries?.[0]?.person });
    await seedPolicies(app, seeds);
    await app.ok(insurer.keys.UNDERWRITER, 'mutation($insurerCode: String!, $policyNo: String!) { underwritePolicy(insurerCode: $insurerCode, policyNo: $policyNo) { id } }', {
      insurerCode: insurer.code,
      policyNo: 'DI-1-DONE',
    });
    await seedPolicies(app, [completeSeed(otherInsurer.id, 'OT-1', { channelId: bank.id })]);
  });
  afterAll(() => app.close());

  it('the insurer sees its whole book, whole values, newest first, and no READ_PII is logged', async () => {
    const data = await app.ok<ListData>(insurer.keys.SERVICE, LIST, {});
    expect(data.policies.totalCount).toBe(allNos.length);
    expect(data.policies.edges.map((e) => e.node.policyNo)).toEqual([...allNos].reverse());
    for (const { node } of data.policies.edges) {
      const { holder } = clear.get(node.policyNo)!;
      expect(node.policyholder.idNumber).toBe(holder.idNumber);
      expect(node.policyholder.phone).toBe(holder.phone ?? null);
      expect(node.policyholder).toMatchObject({ name: holder.name, gender: holder.gender, birthDate: holder.birthDate, idType: 'RESIDENT_ID', address: holder.address });
      expect(node).toMatchObject({ applicationDate: '2026-03-01', termMonths: 240, productCode: 'LIFE-20Y', insurer: { code: insurer.code } });
    }
    const br1 = data.policies.edges.find((e) => e.node.policyNo === 'BR-1')!.node;
    expect(br1.beneficiaries).toEqual([{ order: 1, sharePercent: 50.5, relationshipToInsured: 'CHILD', person: { name: expect.any(String), idNumber: clear.get('BR-1')!.beneficiary!.idNumber, phone: null } }]);
    expect(await readPiiEntries(insurer.id)).toHaveLength(0);
  });

  it('a bank sees only its own sales, with ID numbers and phones masked, and nothing is logged', async () => {
    const data = await app.ok<ListData>(bank.keys.SALES, LIST, {});
    expect(data.policies.totalCount).toBe(3);
    expect(data.policies.edges.map((e) => e.node.policyNo)).toEqual([...bankNos].reverse());
    for (const { node } of data.policies.edges) {
      expect(node.channel).toEqual({ code: bank.code });
      const { holder } = clear.get(node.policyNo)!;
      expect(node.policyholder.idNumber).toBe(maskIdNumber(holder.idNumber!));
      expect(node.policyholder.idNumber).toMatch(/^110105\*{8}[0-9X]{4}$/);
      if (holder.phone) {
        expect(node.policyholder.phone).toBe(maskPhone(holder.phone));
        expect(node.policyholder.phone).toMatch(/^138\*{4}\d{4}$/);
      } else expect(node.policyholder.phone).toBeNull();
      expect(node.policyholder.name).toBe(holder.name);
    }
    const bk1 = data.policies.edges.find((e) => e.node.policyNo === 'BK-1')!.node;
    expect(bk1.beneficiaries[0]!.person.idNumber).toBe(maskIdNumber(clear.get('BK-1')!.beneficiary!.idNumber!));
    expect(await readPiiEntries(insurer.id)).toHaveLength(0);

    const one = await app.ok<{ policy: PolicyNode }>(bank.keys.ADMIN, ONE, { insurerCode: insurer.code, policyNo: 'BK-1' });
    expect(one.policy.policyholder.idNumber).toBe(maskIdNumber(clear.get('BK-1')!.holder.idNumber!));
  });

  it('a partner never sees another channel\'s policy, nor an insurer without READ_POLICIES: null, no error', async () => {
    for (const [insurerCode, policyNo] of [
      [insurer.code, 'BR-1'],
      [insurer.code, 'DI-1-DONE'],
      [otherInsurer.code, 'OT-1'],
      [insurer.code, 'NO-SUCH'],
      ['NO_SUCH_INSURER', 'BK-1'],
    ] as const) {
      const result = await app.gql<{ policy: unknown }>(bank.keys.SALES, ONE, { insurerCode, policyNo });
      expect(result.errors).toBeUndefined();
      expect(result.data?.policy).toBeNull();
    }
    const filtered = await app.ok<ListData>(bank.keys.SALES, LIST, { filter: { insurerCode: otherInsurer.code } });
    expect(filtered.policies).toMatchObject({ totalCount: 0, edges: [] });
    const noRead = await app.ok<ListData>(noReadBank.keys.ADMIN, LIST, {});
    expect(noRead.policies).toMatchObject({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    const noReadOne = await app.gql<{ policy: unknown }>(noReadBank.keys.ADMIN, ONE, { insurerCode: insurer.code, policyNo: 'NR-1' });
    expect(noReadOne.errors).toBeUndefined();
    expect(noReadOne.data?.policy).toBeNull();
  });

  it('a broker with VIEW_FULL_PII sees whole values, and each such response appends exactly one READ_PII entry', async () => {
    const before = (await readPiiEntries(insurer.id)).length;
    const data = await app.ok<ListData>(broker.keys.SERVICE, LIST, {});
    expect(data.policies.edges.map((e) => e.node.policyNo)).toEqual([...brokerNos].reverse());
    for (const { node } of data.policies.edges) expect(node.policyholder.idNumber).toBe(clear.get(node.policyNo)!.holder.idNumber);
    const br1 = data.policies.edges.find((e) => e.node.policyNo === 'BR-1')!.node;
    expect(br1.beneficiaries[0]!.person.idNumber).toBe(clear.get('BR-1')!.beneficiary!.idNumber);

    const entries = await readPiiEntries(insurer.id);
    expect(entries).toHaveLength(before + 1);
    const entry = entries[entries.length - 1]!;
    expect(entry.actorOrganizationId).toBe(broker.id);
    expect(entry.actorPrincipalId).toBe(broker.principalIds.SERVICE);
    expect(entry.agreementId).toEqual(expect.any(String));
    expect(entry.policyNos).toEqual([...brokerNos].sort());
    expect(JSON.parse(entry.fields)).toEqual(['beneficiaries[0].idNumber', 'insured.idNumber', 'insured.phone', 'policyholder.idNumber', 'policyholder.phone']);
    // No value in clear anywhere in the entry.
    const text = JSON.stringify(entry);
    for (const no of brokerNos) expect(text).not.toContain(clear.get(no)!.holder.idNumber!);

    // One policy, one field: one more entry naming exactly that.
    await app.ok(broker.keys.SERVICE, 'query($c: String!) { policy(insurerCode: $c, policyNo: "BR-2") { policyholder { phone } } }', { c: insurer.code });
    const after = await readPiiEntries(insurer.id);
    expect(after).toHaveLength(before + 2);
    expect(after[after.length - 1]!.policyNos).toEqual(['BR-2']);
    expect(JSON.parse(after[after.length - 1]!.fields)).toEqual(['policyholder.phone']);

    // A response that shows no ID number or phone logs nothing.
    await app.ok(broker.keys.SERVICE, 'query { policies { edges { node { policyNo policyholder { name } } } } }');
    expect(await readPiiEntries(insurer.id)).toHaveLength(before + 2);

    // The chain still verifies with the READ_PII entries in it.
    const verified = await app.services.transferLogVerifier.verifyChain({ id: insurer.id, code: insurer.code });
    expect(verified.valid).toBe(true);
  });

  it('another insurer, the regulator and the exchange see nothing: empty lists and null, no error', async () => {
    const own = await app.ok<ListData>(otherInsurer.keys.ADMIN, LIST, {});
    expect(own.policies.edges.map((e) => e.node.policyNo)).toEqual(['OT-1']);
    for (const key of [otherInsurer.keys.ADMIN, regulator.keys.COMPLIANCE, ADMIN_TOKEN]) {
      const list = await app.gql<ListData>(key, LIST, { filter: { insurerCode: insurer.code } });
      expect(list.errors).toBeUndefined();
      expect(list.data?.policies).toEqual({ totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] });
      const one = await app.gql<{ policy: unknown }>(key, ONE, { insurerCode: insurer.code, policyNo: 'BK-1' });
      expect(one.errors).toBeUndefined();
      expect(one.data?.policy).toBeNull();
    }
    for (const key of [regulator.keys.COMPLIANCE, ADMIN_TOKEN]) {
      const list = await app.ok<ListData>(key, LIST, {});
      expect(list.policies.totalCount).toBe(0);
    }
  });

  it('a response whose READ_PII entry cannot be written is withheld: an error and no data', async () => {
    const before = (await readPiiEntries(insurer.id)).length;
    const spy = jest.spyOn(app.services.transferLog, 'append').mockRejectedValueOnce(new Error('log unavailable'));
    try {
      const result = await app.gql<ListData>(broker.keys.SERVICE, LIST, {});
      expect(result.data ?? null).toBeNull();
      expect(errorCode(result)).toBe('INTERNAL_SERVER_ERROR');
      expect(JSON.stringify(result)).not.toContain(clear.get('BR-1')!.holder.idNumber!);
    } finally {
      spy.mockRestore();
    }
    expect(await readPiiEntries(insurer.id)).toHaveLength(before);
  });

  it('a partner sees its sales only while the agreement is ACTIVE: after termination, nothing', async () => {
    const owner = await createParty(app, 'INSURER', ['ADMIN']);
    const partner = await createParty(app, 'BROKER', ['ADMIN']);
    const agreement = await createAgreement(app, { insurerCode: owner.code, partnerCode: partner.code, scopes: ['READ_POLICIES'], proposerKey: owner.keys.ADMIN, signerKey: partner.keys.ADMIN });
    await seedPolicies(app, [completeSeed(owner.id, 'TERM-1', { channelId: partner.id })]);
    const live = await app.ok<ListData>(partner.keys.ADMIN, LIST, {});
    expect(live.policies.edges.map((e) => e.node.policyNo)).toEqual(['TERM-1']);
    await app.ok(owner.keys.ADMIN, 'mutation($id: ID!) { terminateAgreement(id: $id, reason: "ended") { id } }', { id: agreement.id });
    const ended = await app.ok<ListData>(partner.keys.ADMIN, LIST, {});
    expect(ended.policies).toMatchObject({ totalCount: 0, edges: [] });
    const one = await app.gql<{ policy: unknown }>(partner.keys.ADMIN, ONE, { insurerCode: owner.code, policyNo: 'TERM-1' });
    expect(one.errors).toBeUndefined();
    expect(one.data?.policy).toBeNull();
  });

  it('an anonymous caller is UNAUTHENTICATED', async () => {
    expect(errorCode(await app.gql(null, LIST, {}))).toBe('UNAUTHENTICATED');
    expect(errorCode(await app.gql(null, ONE, { insurerCode: insurer.code, policyNo: 'BK-1' }))).toBe('UNAUTHENTICATED');
  });

  describe('filters (as the insurer) return exactly the matching policies', () => {
    const nos = async (filter: Record<string, unknown>, key = insurer.keys.ADMIN) => {
      const data = await app.ok<ListData>(key, LIST, { filter });
      expect(data.policies.totalCount).toBe(data.policies.edges.length);
      return data.policies.edges.map((e) => e.node.policyNo).sort();
    };

    it('completeness', async () => {
      expect(await nos({ completeness: 'INCOMPLETE' })).toEqual(['BK-2-NOPHONE']);
      expect(await nos({ completeness: 'SUSPECT' })).toEqual(['BK-3-BADID']);
      expect(await nos({ completeness: 'COMPLETE' })).toEqual(['BK-1', 'BR-1', 'BR-2', 'DI-1-DONE', 'NR-1']);
    });

    it('missingField', async () => {
      expect(await nos({ missingField: 'policyholder.phone' })).toEqual(['BK-2-NOPHONE']);
      expect(await nos({ missingField: 'policyholder.address' })).toEqual([]);
      // Beneficiary gaps are issues, not missing required fields: no path to filter on (issue 12: refused, not 0 rows).
      expect(errorCode(await app.gql(insurer.keys.ADMIN, LIST, { filter: { missingField: 'beneficiaries[0].phone' } }))).toBe('BAD_USER_INPUT');
    });

    it('channelCode, including DIRECT and an unknown code', async () => {
      expect(await nos({ channelCode: bank.code })).toEqual([...bankNos].sort());
      expect(await nos({ channelCode: broker.code.toLowerCase() })).toEqual([...brokerNos].sort());
      expect(await nos({ channelCode: 'DIRECT' })).toEqual(['DI-1-DONE']);
      expect(await nos({ channelCode: 'NO_SUCH_CHANNEL' })).toEqual([]);
      // A partner filtering on another channel or on DIRECT still sees only its own sales.
      expect(await nos({ channelCode: broker.code }, bank.keys.SALES)).toEqual([]);
      expect(await nos({ channelCode: 'DIRECT' }, bank.keys.SALES)).toEqual([]);
      expect(await nos({ channelCode: bank.code, completeness: 'INCOMPLETE' }, bank.keys.SALES)).toEqual(['BK-2-NOPHONE']);
    });

    it('status and insurerCode', async () => {
      expect(await nos({ status: 'UNDERWRITTEN' })).toEqual(['DI-1-DONE']);
      expect(await nos({ status: 'PENDING', channelCode: 'DIRECT' })).toEqual([]);
      expect(await nos({ insurerCode: insurer.code.toLowerCase() })).toHaveLength(allNos.length);
      expect(await nos({ insurerCode: otherInsurer.code })).toEqual([]);
    });

    it('the stored completeness is shown as the write side stored it', async () => {
      const data = await app.ok<{ policy: PolicyNode }>(insurer.keys.ADMIN, ONE, { insurerCode: insurer.code, policyNo: 'BK-2-NOPHONE' });
      expect(data.policy.completeness.status).toBe('INCOMPLETE');
      expect(data.policy.completeness.missing).toEqual(['policyholder.phone']);
      const suspect = await app.ok<{ policy: PolicyNode }>(insurer.keys.ADMIN, ONE, { insurerCode: insurer.code, policyNo: 'BK-3-BADID' });
      expect(suspect.policy.completeness).toMatchObject({ status: 'SUSPECT', missing: [] });
      expect(suspect.policy.completeness.issues.map((i) => i.code)).toContain('ID_CHECKSUM');
    });
  });

  describe('pagination', () => {
    it('walks every page without overlap, newest first, with a stable totalCount', async () => {
      const seen: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 10; page += 1) {
        const data: ListData = await app.ok<ListData>(insurer.keys.ADMIN, LIST, { first: 2, after });
        expect(data.policies.totalCount).toBe(allNos.length);
        expect(data.policies.edges.length).toBeLessThanOrEqual(2);
        seen.push(...data.policies.edges.map((e) => e.node.policyNo));
        if (data.policies.edges.length) expect(data.policies.pageInfo.endCursor).toBe(data.policies.edges[data.policies.edges.length - 1]!.cursor);
        if (!data.policies.pageInfo.hasNextPage) break;
        after = data.policies.pageInfo.endCursor;
      }
      expect(seen).toEqual([...allNos].reverse());
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('first defaults to 50 and may be 500, but not 501 or negative; a foreign cursor is BAD_USER_INPUT', async () => {
      const atMax = await app.ok<ListData>(insurer.keys.ADMIN, LIST, { first: 500 });
      expect(atMax.policies.edges).toHaveLength(allNos.length);
      const zero = await app.ok<ListData>(insurer.keys.ADMIN, LIST, { first: 0 });
      expect(zero.policies).toMatchObject({ edges: [], totalCount: allNos.length, pageInfo: { hasNextPage: true } });
      for (const vars of [{ first: 501 }, { first: -1 }, { after: 'not-a-cursor' }, { after: Buffer.from('tl:5').toString('base64url') }]) {
        const result = await app.gql(insurer.keys.ADMIN, LIST, vars);
        expect(errorCode(result)).toBe('BAD_USER_INPUT');
        expect(result.data?.policies ?? null).toBeNull();
      }
      // Even a caller who sees nothing is told about a bad page size.
      expect(errorCode(await app.gql(regulator.keys.COMPLIANCE, LIST, { first: 501 }))).toBe('BAD_USER_INPUT');
    });
  });
});
