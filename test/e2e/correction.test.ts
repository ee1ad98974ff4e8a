/**
 * submitCorrection and corrections through the real Apollo pipeline (shield,
 * formatError, the READ_PII plugin), over policies written by the real sales
 * path. Made-up people only (test/support/sales.ts).
 */
import { CorrectionChangeEntity, CorrectionEntity } from '../../src/modules/correction/correction.entity';
import { PersonEntity } from '../../src/modules/policy/person.entity';
import { PolicyEntity, PolicyMissingFieldEntity } from '../../src/modules/policy/policy.entity';
import { ADMIN_TOKEN, errorCode, startTestApp, type GqlResult, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty, createPrincipal } from '../support/factories';
import { person, submit, type PersonIn } from '../support/sales';
import { loggedEntries } from '../support/log';

const SUBMIT_CORRECTION = `mutation($input: CorrectionInput!) {
  submitCorrection(input: $input) {
    id changedFields submittedAt evidenceMethod evidenceReference evidenceConfirmedAt submittedByPrincipalId version target beneficiaryOrder
    submittedBy { code }
    changes { field before after }
    policy { policyNo version completeness { status missing issues { field code } } policyholder { idNumber phone address } }
  }
}`;

const CORRECTIONS = `query($insurerCode: String!, $policyNo: String!) {
  corrections(insurerCode: $insurerCode, policyNo: $policyNo) {
    id changedFields evidenceMethod evidenceReference version target submittedByPrincipalId
    submittedBy { code }
    changes { field before after }
    policy { policyNo version }
  }
}`;

interface CorrectionOut {
  id: string;
  changedFields: string[];
  evidenceMethod: string;
  evidenceReference: string;
  version: number;
  target: string;
  beneficiaryOrder?: number | null;
  submittedByPrincipalId: string;
  submittedBy: { code: string };
  changes: Array<{ field: string; before: string | null; after: string | null }>;
  policy: {
    policyNo: string;
    version: number;
    completeness?: { status: string; missing: string[]; issues: Array<{ field: string; code: string }> };
    policyholder?: { idNumber: string | null; phone: string | null; address: string | null };
  };
}

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

function evidence(overrides: Record<string, unknown> = {}) {
  return { method: 'CALLBACK_RECORDING', reference: 'REC-2026-0001', confirmedAt: new Date(Date.now() - HOUR_MS).toISOString(), ...overrides };
}

describe(`corrections with the customer's evidence (${TEST_DB})`, () => {
  let app: TestApp;
  let insurer: Awaited<ReturnType<typeof createParty>>;
  let otherInsurer: Awaited<ReturnType<typeof createParty>>;
  let broker: Awaited<ReturnType<typeof createParty>>;
  let fullBroker: Awaited<ReturnType<typeof createParty>>;
  let bank: Awaited<ReturnType<typeof createParty>>;
  let regulator: Awaited<ReturnType<typeof createParty>>;
  let brokerAgreementId: string;
  let bankAgreementId: string;
  let unattestedInsurerService: string;
  let unattestedBrokerService: string;
  let batch = 0;
  /** Every ID number and phone given in this file: none may appear in clear in the correction tables. */
  const secrets = new Set<string>();

  const remember = (p: PersonIn) => {
    if (p.idNumber) secrets.add(p.idNumber);
    if (p.phone) secrets.add(p.phone);
    return p;
  };
  const policyRow = (policyNo: string) => app.db.getRepository(PolicyEntity).findOneByOrFail({ insurerId: insurer.id, policyNo });
  const personRow = (id: string) => app.db.getRepository(PersonEntity).findOneByOrFail({ id });
  const missingRows = (policyId: string) => app.db.getRepository(PolicyMissingFieldEntity).findBy({ policyId });
  const corrections = () => app.db.getRepository(CorrectionEntity).find({ where: { insurerId: insurer.id } });
  const entries = (operation?: string) =>
    loggedEntries(app.db, { where: { insurerId: insurer.id, ...(operation ? { operation } : {}) } });
  const lastEntry = async (operation: string) => (await entries(operation)).pop()!;

  /** Pushes records through submitSales with a channel's SALES key; all must be accepted. */
  async function sell(salesKey: string, records: Array<Record<string, unknown>>) {
    batch += 1;
    const result = await submit(app, salesKey, insurer.code, `corr-${batch}`, records);
    expect(result.errors).toBeUndefined();
    expect(result.data!.submitSales.rejected).toBe(0);
    return new Map(result.data!.submitSales.results.map((r) => [r.policyNo, r]));
  }

  function record(policyNo: string, holder: PersonIn, overrides: Record<string, unknown> = {}) {
    remember(holder);
    return { policyNo, productCode: 'LIFE-20Y', termMonths: 240, applicationDate: '2026-01-15', policyholder: holder, insured: holder, insuredRelationship: 'SELF', ...overrides };
  }

  function correct(key: string | null, input: Record<string, unknown>): Promise<GqlResult<{ submitCorrection: CorrectionOut }>> {
    const changes = input.changes as PersonIn | undefined;
    if (changes) remember(changes);
    return app.gql<{ submitCorrection: CorrectionOut }>(key, SUBMIT_CORRECTION, {
      input: { insurerCode: insurer.code, target: 'POLICYHOLDER', evidence: evidence(), ...input },
    });
  }

  async function history(key: string, policyNo: string, insurerCode = insurer.code): Promise<CorrectionOut[]> {
    return (await app.ok<{ corrections: CorrectionOut[] }>(key, CORRECTIONS, { insurerCode, policyNo })).corrections;
  }

  /** A refusal leaves the policy, its people, the history and the missing-field rows exactly as they were. */
  async function snapshot(policyNo: string) {
    const policy = await policyRow(policyNo);
    return {
      policy,
      holder: await personRow(policy.policyholderId),
      insured: await personRow(policy.insuredId),
      missing: (await missingRows(policy.id)).map((m) => m.field).sort(),
      corrections: (await corrections()).length,
    };
  }

  beforeAll(async () => {
    app = await startTestApp();
    insurer = await createParty(app, 'INSURER', ['ADMIN', 'SERVICE', 'COMPLIANCE', 'UNDERWRITER'], { attested: true });
    otherInsurer = await createParty(app, 'INSURER', ['SERVICE'], { attested: true });
    broker = await createParty(app, 'BROKER', ['ADMIN', 'SALES', 'SERVICE'], { attested: true });
    fullBroker = await createParty(app, 'BROKER', ['ADMIN', 'SALES', 'SERVICE'], { attested: true });
    bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES', 'SERVICE'], { attested: true });
    regulator = await createParty(app, 'REGULATOR', ['COMPLIANCE', 'SERVICE']);
    unattestedInsurerService = (await createPrincipal(app, insurer.code, ['SERVICE'])).key;
    unattestedBrokerService = (await createPrincipal(app, broker.code, ['SERVICE'])).key;
    const sign = { proposerKey: insurer.keys.ADMIN };
    brokerAgreementId = (
      await createAgreement(app, { ...sign, insurerCode: insurer.code, partnerCode: broker.code, scopes: ['SUBMIT_SALES', 'READ_POLICIES', 'CORRECT_RECORDS'], signerKey: broker.keys.ADMIN })
    ).id;
    await createAgreement(app, {
      ...sign,
      insurerCode: insurer.code,
      partnerCode: fullBroker.code,
      scopes: ['SUBMIT_SALES', 'READ_POLICIES', 'CORRECT_RECORDS', 'VIEW_FULL_PII'],
      signerKey: fullBroker.keys.ADMIN,
    });
    // The bank may sell and read, but not correct.
    bankAgreementId = (await createAgreement(app, { ...sign, insurerCode: insurer.code, partnerCode: bank.code, scopes: ['SUBMIT_SALES', 'READ_POLICIES'], signerKey: bank.keys.ADMIN })).id;

    const sold = await sell(broker.keys.SALES, [
      record('C-GAP', person({ phone: null, address: null })),
      record('C-RACE', person({ address: '不详' })),
      record('C-HIST', person()),
      record('C-NOOP', person()),
    ]);
    expect(sold.get('C-GAP')!.completeness!.status).toBe('INCOMPLETE');
    expect(sold.get('C-RACE')!.completeness!.status).toBe('SUSPECT');
    await sell(bank.keys.SALES, [record('C-BANK', person({ address: '无' }))]);
    await sell(fullBroker.keys.SALES, [record('C-FULL', person())]);
  });
  afterAll(() => app.close());

  it('a broker\'s SERVICE corrects an incomplete record with evidence: it turns COMPLETE, version + 1, one history row, one log entry', async () => {
    const before = await policyRow('C-GAP');
    expect(before.completeness).toBe('INCOMPLETE');
    expect((await missingRows(before.id)).map((m) => m.field).sort()).toEqual(['policyholder.address', 'policyholder.phone']);
    const phone = '13912345670';
    const result = await correct(broker.keys.SERVICE, {
      policyNo: 'c-gap',
      changes: { phone: ` +86 ${phone} `, address: '上海市浦东新区世纪大道100号' },
      evidence: evidence({ method: 'SIGNED_FORM', reference: '  FORM-77  ' }),
      expectedVersion: before.version,
    });
    expect(result.errors).toBeUndefined();
    const c = result.data!.submitCorrection;
    expect(c).toMatchObject({
      changedFields: ['policyholder.phone', 'policyholder.address'],
      evidenceMethod: 'SIGNED_FORM',
      evidenceReference: 'FORM-77',
      submittedByPrincipalId: broker.principalIds.SERVICE,
      submittedBy: { code: broker.code },
      version: before.version + 1,
      target: 'POLICYHOLDER',
      beneficiaryOrder: null,
      policy: { policyNo: 'C-GAP', version: before.version + 1, completeness: { status: 'COMPLETE', missing: [], issues: [] } },
    });
    // The broker holds no VIEW_FULL_PII: masked in the policy and in the history alike.
    expect(c.policy.policyholder!.phone).toBe('139****5670');
    expect(c.changes).toEqual([
      { field: 'policyholder.phone', before: null, after: '139****5670' },
      { field: 'policyholder.address', before: null, after: '上海市浦东新区世纪大道100号' },
    ]);

    const after = await policyRow('C-GAP');
    expect(after).toMatchObject({ completeness: 'COMPLETE', version: before.version + 1, status: 'PENDING' });
    expect(JSON.parse(after.issues)).toEqual([]);
    expect(await missingRows(after.id)).toEqual([]);
    const holder = await personRow(after.policyholderId);
    expect(holder.phoneBidx).toBe(app.services.pii.phoneIndex(phone));
    expect(app.services.pii.decrypt(holder.phoneEnc!, holder.keyId!)).toBe(`+86 ${phone}`);

    const entry = await lastEntry('submitCorrection');
    expect(entry).toMatchObject({
      outcome: 'OK',
      errorCode: null,
      actorPrincipalId: broker.principalIds.SERVICE,
      actorOrganizationId: broker.id,
      counterpartyId: insurer.id,
      agreementId: brokerAgreementId,
      policyNos: ['C-GAP'],
    });
    expect(JSON.parse(entry.fields)).toEqual(['policyholder.phone', 'policyholder.address']);
    expect(JSON.stringify(entry)).not.toContain(phone);
    const stored = await app.db.getRepository(CorrectionEntity).findOneByOrFail({ id: c.id });
    expect(stored).toMatchObject({ policyNo: 'C-GAP', target: 'POLICYHOLDER', evidenceMethod: 'SIGNED_FORM', agreementId: brokerAgreementId, version: before.version + 1 });
    const changes = await app.db.getRepository(CorrectionChangeEntity).find({ where: { correctionId: c.id }, order: { ord: 'ASC' } });
    expect(changes.map((r) => [r.field, r.beforeKeyId, r.afterKeyId])).toEqual([
      ['policyholder.phone', null, app.services.pii.keyId],
      ['policyholder.address', null, null],
    ]);
  });

  it('a stale expectedVersion is refused with VERSION_CONFLICT; nothing changes; the attempt is logged', async () => {
    const before = await snapshot('C-GAP');
    const logged = (await entries()).length;
    const result = await correct(broker.keys.SERVICE, { policyNo: 'C-GAP', changes: { address: '上海市浦东新区世纪大道200号' }, expectedVersion: before.policy.version - 1 });
    expect(errorCode(result)).toBe('VERSION_CONFLICT');
    expect(result.errors![0]!.extensions!.currentVersion).toBe(before.policy.version);
    expect(result.data).toBeNull();
    expect(await snapshot('C-GAP')).toEqual(before);
    const log = await entries();
    expect(log).toHaveLength(logged + 1);
    expect(log[log.length - 1]).toMatchObject({ operation: 'submitCorrection', outcome: 'REFUSED', errorCode: 'VERSION_CONFLICT', policyNos: ['C-GAP'] });
  });

  it('two racing corrections with the same expectedVersion: exactly one wins, the other is VERSION_CONFLICT', async () => {
    const before = await snapshot('C-RACE');
    const addresses = ['北京市朝阳区建国路1号', '北京市海淀区中关村大街2号'];
    const results = await Promise.all(addresses.map((address) => correct(broker.keys.SERVICE, { policyNo: 'C-RACE', changes: { address }, expectedVersion: before.policy.version })));
    const won = results.filter((r) => !r.errors);
    const lost = results.filter((r) => r.errors);
    expect(won).toHaveLength(1);
    expect(lost.map(errorCode)).toEqual(['VERSION_CONFLICT']);
    const after = await policyRow('C-RACE');
    expect(after.version).toBe(before.policy.version + 1);
    expect(after.completeness).toBe('COMPLETE');
    const winner = addresses[results.indexOf(won[0]!)]!;
    expect((await personRow(after.policyholderId)).address).toBe(winner);
    expect((await corrections()).length).toBe(before.corrections + 1);
    expect(await history(insurer.keys.SERVICE, 'C-RACE')).toHaveLength(1);
  });

  it('a partner without CORRECT_RECORDS is refused with AGREEMENT_INACTIVE and the attempt is logged; nothing changes', async () => {
    const before = await snapshot('C-BANK');
    const logged = (await entries()).length;
    const result = await correct(bank.keys.SERVICE, { policyNo: 'C-BANK', changes: { address: '广州市天河区体育西路3号' }, expectedVersion: before.policy.version });
    expect(errorCode(result)).toBe('AGREEMENT_INACTIVE');
    expect(result.data).toBeNull();
    expect(await snapshot('C-BANK')).toEqual(before);
    const log = await entries();
    expect(log).toHaveLength(logged + 1);
    expect(log[log.length - 1]).toMatchObject({
      operation: 'submitCorrection',
      outcome: 'REFUSED',
      errorCode: 'AGREEMENT_INACTIVE',
      actorPrincipalId: bank.principalIds.SERVICE,
      actorOrganizationId: bank.id,
      counterpartyId: insurer.id,
      agreementId: bankAgreementId,
      policyNos: ['C-BANK'],
      fields: JSON.stringify(['policyholder.address']),
    });
    // The insurer's own SERVICE may correct it.
    const ok = await correct(insurer.keys.SERVICE, { policyNo: 'C-BANK', changes: { address: '广州市天河区体育西路3号' }, expectedVersion: before.policy.version });
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.submitCorrection.policy.completeness!.status).toBe('COMPLETE');
    expect(await lastEntry('submitCorrection')).toMatchObject({ outcome: 'OK', actorOrganizationId: insurer.id, counterpartyId: bank.id, agreementId: null });
  });

  it('an unattested SERVICE principal is refused with ATTESTATION_REQUIRED (logged); nothing changes', async () => {
    const before = await snapshot('C-HIST');
    const logged = (await entries()).length;
    for (const key of [unattestedBrokerService, unattestedInsurerService]) {
      const result = await correct(key, { policyNo: 'C-HIST', changes: { name: '测试更正' }, expectedVersion: before.policy.version });
      expect(errorCode(result)).toBe('ATTESTATION_REQUIRED');
    }
    expect(await snapshot('C-HIST')).toEqual(before);
    const log = await entries();
    expect(log).toHaveLength(logged + 2);
    expect(log.slice(-2).map((e) => [e.outcome, e.errorCode])).toEqual([
      ['REFUSED', 'ATTESTATION_REQUIRED'],
      ['REFUSED', 'ATTESTATION_REQUIRED'],
    ]);
  });

  it('a request without complete evidence, or of the wrong shape, is BAD_USER_INPUT with the field; nothing changes or is logged', async () => {
    const before = await snapshot('C-HIST');
    const logged = (await entries()).length;
    const version = before.policy.version;
    const base = { policyNo: 'C-HIST', changes: { name: '测试更正' }, expectedVersion: version };
    // Missing evidence fields never reach the service (the input type requires them).
    for (const partial of [{ method: 'SIGNED_FORM', confirmedAt: new Date().toISOString() }, { reference: 'R-1', confirmedAt: new Date().toISOString() }, { method: 'SIGNED_FORM', reference: 'R-1' }]) {
      const result = await app.gql(broker.keys.SERVICE, SUBMIT_CORRECTION, { input: { insurerCode: insurer.code, target: 'POLICYHOLDER', ...base, evidence: partial } });
      expect(errorCode(result)).toBe('BAD_USER_INPUT');
    }
    const noEvidence = await app.gql(broker.keys.SERVICE, SUBMIT_CORRECTION, { input: { insurerCode: insurer.code, target: 'POLICYHOLDER', ...base } });
    expect(errorCode(noEvidence)).toBe('BAD_USER_INPUT');

    const cases: Array<[Record<string, unknown>, string]> = [
      [{ evidence: evidence({ reference: '   ' }) }, 'evidence.reference'],
      [{ evidence: evidence({ reference: 'R'.repeat(201) }) }, 'evidence.reference'],
      [{ evidence: evidence({ confirmedAt: new Date(Date.now() + DAY_MS).toISOString() }) }, 'evidence.confirmedAt'],
      [{ evidence: evidence({ confirmedAt: new Date(Date.now() - 400 * DAY_MS).toISOString() }) }, 'evidence.confirmedAt'],
      [{ changes: {} }, 'changes'],
      [{ changes: { address: '   ' } }, 'changes.address'],
      [{ changes: { name: '名'.repeat(101) } }, 'changes.name'],
      [{ changes: { birthDate: '0999-01-01' } }, 'changes.birthDate'],
      [{ target: 'BENEFICIARY' }, 'beneficiaryOrder'],
      [{ beneficiaryOrder: 1 }, 'beneficiaryOrder'],
      [{ expectedVersion: 0 }, 'expectedVersion'],
      [{ policyNo: '' }, 'policyNo'],
    ];
    for (const [overrides, field] of cases) {
      const result = await correct(broker.keys.SERVICE, { ...base, ...overrides });
      expect([field, errorCode(result)]).toEqual([field, 'BAD_USER_INPUT']);
      expect(result.errors![0]!.extensions!.field).toBe(field);
    }
    expect(await snapshot('C-HIST')).toEqual(before);
    expect(await entries()).toHaveLength(logged);
  });

  it('refuses what the caller may not see as NOT_FOUND (no existence leak), and callers outside the rule as FORBIDDEN', async () => {
    const before = await snapshot('C-BANK');
    const logged = (await entries()).length;
    const input = { policyNo: 'C-BANK', changes: { name: '测试更正' }, expectedVersion: before.policy.version };
    // A broker with CORRECT_RECORDS, on the bank's policy; another insurer's SERVICE; unknown policies and insurers.
    expect(errorCode(await correct(broker.keys.SERVICE, input))).toBe('NOT_FOUND');
    expect(errorCode(await correct(broker.keys.SERVICE, { ...input, policyNo: 'NO-SUCH-POLICY' }))).toBe('NOT_FOUND');
    expect(errorCode(await correct(otherInsurer.keys.SERVICE, input))).toBe('NOT_FOUND');
    expect(errorCode(await correct(insurer.keys.SERVICE, { ...input, insurerCode: 'NO_SUCH_INSURER' }))).toBe('NOT_FOUND');
    for (const key of [bank.keys.SALES, broker.keys.ADMIN, insurer.keys.ADMIN, insurer.keys.UNDERWRITER, regulator.keys.SERVICE, ADMIN_TOKEN]) {
      expect(errorCode(await correct(key, input))).toBe('FORBIDDEN');
    }
    expect(errorCode(await correct(null, input))).toBe('UNAUTHENTICATED');
    expect(await snapshot('C-BANK')).toEqual(before);
    expect(await entries()).toHaveLength(logged);
  });

  it('the insurer reads the history with before and after whole; the selling partner masked; everyone else an empty list', async () => {
    const policy = await policyRow('C-HIST');
    const holder = await personRow(policy.policyholderId);
    const oldPhone = app.services.pii.decrypt(holder.phoneEnc!, holder.keyId!);
    const oldId = app.services.pii.decrypt(holder.idNumberEnc!, holder.keyId!);
    const fresh = remember(person());
    const first = await correct(broker.keys.SERVICE, {
      policyNo: 'C-HIST',
      changes: { phone: fresh.phone, idNumber: fresh.idNumber, idType: 'RESIDENT_ID', gender: fresh.gender, birthDate: fresh.birthDate },
      evidence: evidence({ method: 'IN_PERSON_VERIFIED', reference: 'BRANCH-9' }),
      expectedVersion: policy.version,
    });
    expect(first.errors).toBeUndefined();
    const second = await correct(insurer.keys.SERVICE, { policyNo: 'C-HIST', changes: { name: '测试改名' }, expectedVersion: policy.version + 1 });
    expect(second.errors).toBeUndefined();

    const whole = await history(insurer.keys.COMPLIANCE, 'C-HIST');
    expect(whole.map((c) => [c.version, c.submittedBy.code])).toEqual([
      [policy.version + 2, insurer.code],
      [policy.version + 1, broker.code],
    ]);
    const byField = (list: CorrectionOut[]) => new Map(list.flatMap((c) => c.changes.map((ch) => [ch.field, ch])));
    const insurerView = byField(whole);
    expect(whole[1]!.changedFields).toEqual(whole[1]!.changes.map((ch) => ch.field));
    expect(whole[1]!.changedFields).toEqual(expect.arrayContaining(['policyholder.idNumber', 'policyholder.phone']));
    expect(insurerView.get('policyholder.phone')).toEqual({ field: 'policyholder.phone', before: oldPhone, after: fresh.phone });
    expect(insurerView.get('policyholder.idNumber')).toEqual({ field: 'policyholder.idNumber', before: oldId, after: fresh.idNumber });
    expect(insurerView.get('policyholder.name')).toEqual({ field: 'policyholder.name', before: holder.name, after: '测试改名' });

    const masked = byField(await history(broker.keys.SERVICE, 'C-HIST'));
    expect(masked.get('policyholder.phone')).toEqual({ field: 'policyholder.phone', before: `${oldPhone.slice(0, 3)}****${oldPhone.slice(-4)}`, after: `${fresh.phone!.slice(0, 3)}****${fresh.phone!.slice(-4)}` });
    expect(masked.get('policyholder.idNumber')).toEqual({ field: 'policyholder.idNumber', before: `${oldId.slice(0, 6)}********${oldId.slice(-4)}`, after: `${fresh.idNumber!.slice(0, 6)}********${fresh.idNumber!.slice(-4)}` });
    expect(masked.get('policyholder.name')!.after).toBe('测试改名');

    // Not the seller, another insurer, the regulator, the exchange: nothing (whether or not the policy exists).
    for (const key of [bank.keys.SERVICE, fullBroker.keys.SERVICE, otherInsurer.keys.SERVICE, regulator.keys.COMPLIANCE, ADMIN_TOKEN]) {
      expect(await history(key, 'C-HIST')).toEqual([]);
    }
    expect(await history(otherInsurer.keys.SERVICE, 'C-HIST', otherInsurer.code)).toEqual([]);
    expect(await history(insurer.keys.SERVICE, 'NO-SUCH-POLICY')).toEqual([]);
    expect(errorCode(await app.gql(null, CORRECTIONS, { insurerCode: insurer.code, policyNo: 'C-HIST' }))).toBe('UNAUTHENTICATED');
  });

  it('a partner holding VIEW_FULL_PII sees its own history whole, and the response appends one READ_PII entry', async () => {
    const policy = await policyRow('C-FULL');
    const phone = '13822223333';
    const done = await correct(fullBroker.keys.SERVICE, { policyNo: 'C-FULL', changes: { phone }, expectedVersion: policy.version });
    expect(done.errors).toBeUndefined();
    expect(done.data!.submitCorrection.changes[0]!.after).toBe(phone);
    const reads = (await entries('READ_PII')).length;
    const list = await history(fullBroker.keys.SERVICE, 'C-FULL');
    expect(list[0]!.changes[0]).toMatchObject({ field: 'policyholder.phone', after: phone });
    const log = await entries('READ_PII');
    expect(log).toHaveLength(reads + 1);
    expect(log[log.length - 1]).toMatchObject({ actorOrganizationId: fullBroker.id, policyNos: ['C-FULL'], fields: JSON.stringify(['policyholder.phone']) });
  });

  it('a person on two policies is corrected once, and both policies are re-checked (and logged)', async () => {
    const shared = person({ address: '不详' });
    await sell(broker.keys.SALES, [record('TWO-A', shared), record('TWO-B', { ...shared })]);
    const a = await policyRow('TWO-A');
    const b = await policyRow('TWO-B');
    expect(a.policyholderId).toBe(b.policyholderId);
    expect([a.completeness, b.completeness]).toEqual(['SUSPECT', 'SUSPECT']);
    const result = await correct(insurer.keys.SERVICE, { policyNo: 'TWO-A', changes: { address: '杭州市西湖区文三路4号' }, expectedVersion: a.version });
    expect(result.errors).toBeUndefined();
    const a2 = await policyRow('TWO-A');
    const b2 = await policyRow('TWO-B');
    expect([a2.completeness, b2.completeness]).toEqual(['COMPLETE', 'COMPLETE']);
    expect(a2.version).toBe(a.version + 1);
    expect(b2.version).toBe(b.version); // the edit version counts edits of the policy itself
    expect(b2.updatedAt.getTime()).toBeGreaterThanOrEqual(b.updatedAt.getTime());
    expect(JSON.parse(b2.issues)).toEqual([]);
    const entry = await lastEntry('submitCorrection');
    expect(entry.policyNos).toEqual(['TWO-A', 'TWO-B']);
    expect(entry.counterpartyId).toBe(broker.id);
    // The history belongs to the policy it was submitted on; the log names both.
    expect(await history(insurer.keys.SERVICE, 'TWO-B')).toEqual([]);
  });

  it('correcting a shared phone away un-flags the other policies; correcting it back re-flags them', async () => {
    const sharedPhone = '13955556666';
    secrets.add(sharedPhone);
    const sold = await sell(broker.keys.SALES, [1, 2, 3].map((n) => record(`SHARE-${n}`, person({ phone: sharedPhone }))));
    for (const n of [1, 2, 3]) expect(sold.get(`SHARE-${n}`)!.completeness!.issues.map((i) => i.code)).toEqual(['PHONE_SHARED']);
    const one = await policyRow('SHARE-1');
    const result = await correct(broker.keys.SERVICE, { policyNo: 'SHARE-1', changes: { phone: '13977778888' }, expectedVersion: one.version });
    expect(result.errors).toBeUndefined();
    expect(result.data!.submitCorrection.policy.completeness!.status).toBe('COMPLETE');
    for (const n of [1, 2, 3]) {
      const row = await policyRow(`SHARE-${n}`);
      expect([row.policyNo, row.completeness, row.issues]).toEqual([`SHARE-${n}`, 'COMPLETE', '[]']);
    }
    const entry = await lastEntry('submitCorrection');
    expect(entry.policyNos).toEqual(['SHARE-1', 'SHARE-2', 'SHARE-3']);
    expect(JSON.parse(entry.fields)).toEqual(['policyholder.phone']);

    const back = await correct(broker.keys.SERVICE, { policyNo: 'SHARE-1', changes: { phone: sharedPhone }, expectedVersion: one.version + 1 });
    expect(back.errors).toBeUndefined();
    for (const n of [1, 2, 3]) {
      const row = await policyRow(`SHARE-${n}`);
      expect(row.completeness).toBe('SUSPECT');
      expect(JSON.parse(row.issues).map((i: { code: string }) => i.code)).toEqual(['PHONE_SHARED']);
    }
  });

  it('corrects a beneficiary by its order and the insured relationship; an unknown order is BAD_USER_INPUT', async () => {
    const holder = person();
    const insured = remember(person());
    const beneficiary = remember(person({ name: null }));
    await sell(broker.keys.SALES, [
      record('BEN-1', holder, { insured, insuredRelationship: null, beneficiaries: [{ person: beneficiary, relationshipToInsured: 'OTHER', sharePercent: 100, order: 1 }] }),
    ]);
    const policy = await policyRow('BEN-1');
    expect(policy.completeness).toBe('INCOMPLETE');
    expect(JSON.parse(policy.issues).map((i: { field: string }) => i.field)).toEqual(['insuredRelationship', 'beneficiaries[0].name']);

    const unknown = await correct(broker.keys.SERVICE, { policyNo: 'BEN-1', target: 'BENEFICIARY', beneficiaryOrder: 7, changes: { name: '受益人' }, expectedVersion: policy.version });
    expect(errorCode(unknown)).toBe('BAD_USER_INPUT');
    expect(unknown.errors![0]!.extensions!.field).toBe('beneficiaryOrder');

    const ben = await correct(broker.keys.SERVICE, { policyNo: 'BEN-1', target: 'BENEFICIARY', beneficiaryOrder: 1, changes: { name: '受益人' }, expectedVersion: policy.version });
    expect(ben.errors).toBeUndefined();
    expect(ben.data!.submitCorrection).toMatchObject({ target: 'BENEFICIARY', beneficiaryOrder: 1, changedFields: ['beneficiaries[0].name'], changes: [{ field: 'beneficiaries[0].name', before: null, after: '受益人' }] });
    expect(ben.data!.submitCorrection.policy.completeness!.issues.map((i) => i.field)).toEqual(['insuredRelationship']);

    const rel = await correct(broker.keys.SERVICE, { policyNo: 'BEN-1', target: 'INSURED', changes: {}, insuredRelationship: 'OTHER', expectedVersion: policy.version + 1 });
    expect(rel.errors).toBeUndefined();
    expect(rel.data!.submitCorrection).toMatchObject({
      changedFields: ['insuredRelationship'],
      changes: [{ field: 'insuredRelationship', before: null, after: 'OTHER' }],
      policy: { version: policy.version + 2, completeness: { status: 'COMPLETE' } },
    });
    expect((await policyRow('BEN-1')).insuredRelationship).toBe('OTHER');
  });

  it('an ID number that another record already has is BAD_USER_INPUT (records are not merged); logged; nothing changes', async () => {
    const taken = await personRow((await policyRow('C-RACE')).policyholderId);
    const takenId = app.services.pii.decrypt(taken.idNumberEnc!, taken.keyId!);
    const before = await snapshot('C-NOOP');
    const logged = (await entries()).length;
    const result = await correct(broker.keys.SERVICE, { policyNo: 'C-NOOP', changes: { idNumber: takenId.toLowerCase() }, expectedVersion: before.policy.version });
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.extensions).toMatchObject({ field: 'changes.idNumber', reason: 'DUPLICATE_IDENTITY' });
    expect(JSON.stringify(result.errors)).not.toContain(takenId);
    expect(await snapshot('C-NOOP')).toEqual(before);
    const log = await entries();
    expect(log).toHaveLength(logged + 1);
    expect(log[log.length - 1]).toMatchObject({ outcome: 'REFUSED', errorCode: 'BAD_USER_INPUT', actorOrganizationId: broker.id });
  });

  it('values equal to the stored ones (a phone written another way) change nothing: BAD_USER_INPUT, version unchanged', async () => {
    const policy = await policyRow('C-NOOP');
    const holder = await personRow(policy.policyholderId);
    const phone = app.services.pii.decrypt(holder.phoneEnc!, holder.keyId!);
    const before = await snapshot('C-NOOP');
    const result = await correct(broker.keys.SERVICE, { policyNo: 'C-NOOP', changes: { phone: `+86-${phone}`, name: holder.name }, expectedVersion: policy.version });
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.extensions).toMatchObject({ field: 'changes', reason: 'NO_CHANGE' });
    expect(await snapshot('C-NOOP')).toEqual(before);
  });

  it('a correction of an unsound phone or address moves the policy from remaining to corrected in a clean-up campaign', async () => {
    await sell(broker.keys.SALES, [record('CAMP-1', person({ address: 'n/a' }))]);
    const started = await app.ok<{ startRemediation: { id: string } }>(
      insurer.keys.COMPLIANCE,
      'mutation($c: String!, $b: Date!, $d: Date!) { startRemediation(insurerCode: $c, issuedBefore: $b, deadline: $d) { id } }',
      { c: insurer.code, b: '2026-06-01', d: '2099-12-31' },
    );
    const progress = async () =>
      (
        await app.ok<{ remediationCampaign: { progress: Array<{ channel: { code: string } | null; flagged: number; corrected: number; remaining: number }> } }>(
          insurer.keys.COMPLIANCE,
          'query($id: ID!) { remediationCampaign(id: $id) { progress { channel { code } flagged corrected remaining } } }',
          { id: started.startRemediation.id },
        )
      ).remediationCampaign.progress.find((p) => p.channel?.code === broker.code)!;
    const before = await progress();
    expect(before.remaining).toBeGreaterThan(0);
    const policy = await policyRow('CAMP-1');
    expect((await correct(broker.keys.SERVICE, { policyNo: 'CAMP-1', changes: { address: '深圳市南山区科技园5号' }, expectedVersion: policy.version })).errors).toBeUndefined();
    const after = await progress();
    expect(after).toMatchObject({ flagged: before.flagged, corrected: before.corrected + 1, remaining: before.remaining - 1 });
  });

  it('after all of it: the transfer log chain verifies, and no ID number or phone is in clear in the correction tables', async () => {
    const verification = await app.ok<{ verifyTransferLog: { valid: boolean; checked: number } }>(insurer.keys.ADMIN, 'query($c: String!) { verifyTransferLog(insurerCode: $c) { valid checked } }', {
      c: insurer.code,
    });
    expect(verification.verifyTransferLog.valid).toBe(true);
    expect((await entries('submitCorrection')).length).toBeGreaterThan(10);

    const dump = JSON.stringify([await app.db.getRepository(CorrectionEntity).find(), await app.db.getRepository(CorrectionChangeEntity).find()]);
    expect(secrets.size).toBeGreaterThan(20);
    const digitsOnly = dump.replace(/[^0-9Xx]/g, '');
    for (const secret of secrets) {
      const canonical = secret.trim().replace(/^(\+86|0086)/, '').replace(/[^0-9Xx]/g, '');
      expect([secret, dump.includes(secret) || digitsOnly.includes(canonical)]).toEqual([secret, false]);
    }
    // Sealed sides carry a key id; the others none.
    for (const row of await app.db.getRepository(CorrectionChangeEntity).find()) {
      const sealed = /\.(idNumber|phone)$/.test(row.field);
      if (row.afterValue !== null) expect([row.field, row.afterKeyId !== null]).toEqual([row.field, sealed]);
      if (row.beforeValue !== null) expect([row.field, row.beforeKeyId !== null]).toEqual([row.field, sealed]);
      if (sealed && row.afterValue !== null) expect(row.afterValue.startsWith('v1:')).toBe(true);
    }
  });
});
