import type { DataSource } from 'typeorm';
import { makeResidentId } from '../../src/domain/resident-id';
import { normalizePhone } from '../../src/domain/phone';
import { normalizeDocumentNumber } from '../../src/domain/resident-id';
import { PersonEntity } from '../../src/modules/policy/person.entity';
import { PolicyBeneficiaryEntity, PolicyEntity, PolicyMissingFieldEntity } from '../../src/modules/policy/policy.entity';
import { SalesPersonEntity } from '../../src/modules/policy/sales-person.entity';
import { SalesBatchEntity } from '../../src/modules/sales/sales.entity';
import { TransferLogEntryEntity } from '../../src/modules/transfer-log/transfer-log.entity';
import { ADMIN_TOKEN, errorCode, startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty, createPrincipal } from '../support/factories';
import { person, REGISTER_SALES_PERSON, salesRecord, salesSetup, submit, type SalesPayload } from '../support/sales';
import { loggedEntries } from '../support/log';
import { MAX_BATCH_RECORDS } from '../../src/modules/sales/sales.validation';

type Setup = Awaited<ReturnType<typeof salesSetup>>;

/** Row counts of every table the sales push writes, the versions of the policies and the log of the insurer. */
async function snapshot(db: DataSource, insurerId: string) {
  const policies = await db.getRepository(PolicyEntity).find({ where: { insurerId }, order: { policyNo: 'ASC' } });
  return {
    policies: policies.map((p) => `${p.policyNo}@${p.version}:${p.completeness}:${p.updatedAt.toISOString()}`),
    people: await db.getRepository(PersonEntity).countBy({ insurerId }),
    beneficiaries: await db.getRepository(PolicyBeneficiaryEntity).countBy({ insurerId }),
    missing: await db.getRepository(PolicyMissingFieldEntity).countBy({ insurerId }),
    batches: await db.getRepository(SalesBatchEntity).countBy({ insurerId }),
    log: await db.getRepository(TransferLogEntryEntity).countBy({ insurerId }),
  };
}

function logOf(db: DataSource, insurerId: string) {
  return loggedEntries(db, { where: { insurerId } });
}

const codes = (r: SalesPayload['results'][number]) => (r.completeness?.issues ?? []).map((i) => `${i.field} ${i.code}`);

describe(`submitSales (${TEST_DB})`, () => {
  let app: TestApp;
  let s: Setup;

  beforeAll(async () => {
    app = await startTestApp();
    s = await salesSetup(app);
  });
  afterAll(() => app.close());

  it('judges a mixed batch record by record, exactly as the contract says', async () => {
    const shared = '13712345678';
    const maleBirth = '1975-04-03';
    const wrongGender = person({ gender: 'FEMALE', birthDate: maleBirth, idNumber: makeResidentId({ region: '110105', birthDate: maleBirth, sequence: 517, gender: 'MALE' }) });
    const badCheck = person();
    const id = badCheck.idNumber!;
    badCheck.idNumber = id.slice(0, 17) + (id[17] === '1' ? '2' : '1');
    const records = [
      salesRecord('MIX-COMPLETE'),
      salesRecord('MIX-NO-PHONE', { policyholder: person({ phone: null }), insured: person(), insuredRelationship: 'SPOUSE' }),
      salesRecord('MIX-CHECKSUM', { policyholder: badCheck, insured: badCheck }),
      salesRecord('MIX-GENDER', { policyholder: wrongGender, insured: wrongGender }),
      salesRecord('MIX-TERM12', { termMonths: 12 }),
      salesRecord('MIX-PLACEHOLDER', (() => {
        const p = person({ address: '不详' });
        return { policyholder: p, insured: p };
      })()),
      ...[1, 2, 3].map((n) => {
        const p = person({ phone: n === 2 ? '+86 137-1234-5678' : shared });
        return salesRecord(`MIX-SHARED-${n}`, { policyholder: p, insured: p });
      }),
    ];
    const result = await submit(app, s.bank.keys.SALES, s.insurer.code, 'mixed-1', records);
    expect(result.errors).toBeUndefined();
    const payload = result.data!.submitSales;
    expect(payload).toMatchObject({ replayed: false, accepted: 8, rejected: 1 });
    const by = new Map(payload.results.map((r) => [r.policyNo, r]));
    expect(payload.results.map((r) => r.policyNo)).toEqual(records.map((r) => r.policyNo));

    expect(by.get('MIX-COMPLETE')).toEqual({ policyNo: 'MIX-COMPLETE', accepted: true, version: 1, errors: [], completeness: { status: 'COMPLETE', missing: [], issues: [] } });
    expect(by.get('MIX-NO-PHONE')!.completeness).toMatchObject({ status: 'INCOMPLETE', missing: ['policyholder.phone'] });
    expect(codes(by.get('MIX-NO-PHONE')!)).toEqual(['policyholder.phone MISSING']);
    expect(by.get('MIX-CHECKSUM')!.completeness!.status).toBe('SUSPECT');
    expect(codes(by.get('MIX-CHECKSUM')!)).toEqual(['policyholder.idNumber ID_CHECKSUM', 'insured.idNumber ID_CHECKSUM']);
    expect(codes(by.get('MIX-GENDER')!)).toEqual(['policyholder.gender ID_GENDER_MISMATCH', 'insured.gender ID_GENDER_MISMATCH']);
    expect(by.get('MIX-TERM12')).toEqual({
      policyNo: 'MIX-TERM12',
      accepted: false,
      version: null,
      completeness: null,
      errors: [{ field: 'termMonths', code: 'TERM_TOO_SHORT', message: expect.any(String) }],
    });
    // The policyholder insures itself: the one address is checked as both people's.
    expect(codes(by.get('MIX-PLACEHOLDER')!)).toEqual(['policyholder.address ADDRESS_PLACEHOLDER', 'insured.address ADDRESS_PLACEHOLDER']);
    for (const n of [1, 2, 3]) {
      expect(by.get(`MIX-SHARED-${n}`)!.completeness).toMatchObject({ status: 'SUSPECT', missing: [] });
      expect(codes(by.get(`MIX-SHARED-${n}`)!)).toEqual(['policyholder.phone PHONE_SHARED']);
    }

    // Stored as returned: status, issues and one missing-field row per missing path; the 12-month one not at all.
    const stored = await app.db.getRepository(PolicyEntity).findBy({ insurerId: s.insurer.id });
    expect(stored.map((p) => p.policyNo).sort()).toEqual([...by.keys()].filter((k) => k !== 'MIX-TERM12').sort());
    for (const p of stored) {
      expect(p.completeness).toBe(by.get(p.policyNo)!.completeness!.status);
      expect(JSON.parse(p.issues)).toEqual(by.get(p.policyNo)!.completeness!.issues);
      expect(p).toMatchObject({ status: 'PENDING', version: 1, channelId: s.bank.id });
    }
    const missing = await app.db.getRepository(PolicyMissingFieldEntity).findBy({ insurerId: s.insurer.id });
    expect(missing.map((m) => [stored.find((p) => p.id === m.policyId)!.policyNo, m.field])).toEqual([['MIX-NO-PHONE', 'policyholder.phone']]);

    // One log entry for the batch, naming the accepted policies and the agreement.
    const log = await logOf(app.db, s.insurer.id);
    const entry = log[log.length - 1]!;
    expect(entry).toMatchObject({ operation: 'submitSales', outcome: 'OK', actorOrganizationId: s.bank.id, counterpartyId: s.insurer.id, agreementId: s.agreement.id });
    expect([...entry.policyNos].sort()).toEqual([...by.keys()].filter((k) => k !== 'MIX-TERM12').sort());
    expect(JSON.parse(entry.fields)).toEqual(expect.arrayContaining(['policyholder.idNumber', 'policyholder.phone', 'insuredRelationship']));
  });

  it('a replay changes nothing and answers the stored payload; a different payload with the key is BAD_USER_INPUT', async () => {
    const records = [salesRecord('REPLAY-1'), salesRecord('REPLAY-2', { policyholder: person({ address: null }) })];
    const first = (await submit(app, s.bank.keys.SALES, s.insurer.code, 'replay-key', records)).data!.submitSales;
    expect(first.replayed).toBe(false);
    const before = await snapshot(app.db, s.insurer.id);
    const again = await submit(app, s.bank.keys.SALES, s.insurer.code, 'replay-key', records);
    expect(again.data!.submitSales).toEqual({ ...first, replayed: true });
    expect(await snapshot(app.db, s.insurer.id)).toEqual(before);

    const other = await submit(app, s.bank.keys.SALES, s.insurer.code, 'replay-key', [records[0]]);
    expect(errorCode(other)).toBe('BAD_USER_INPUT');
    expect(other.errors![0]!.extensions).toMatchObject({ field: 'idempotencyKey' });
    expect(await snapshot(app.db, s.insurer.id)).toEqual(before);
  });

  it('sixteen identical requests racing: exactly one applies, the others replay it', async () => {
    const records = Array.from({ length: 5 }, (_, i) => salesRecord(`RACE-${i}`));
    const before = await snapshot(app.db, s.insurer.id);
    const answers = await Promise.all(Array.from({ length: 16 }, () => submit(app, s.bank.keys.SALES, s.insurer.code, 'race-key', records)));
    for (const a of answers) expect(a.errors).toBeUndefined();
    const payloads = answers.map((a) => a.data!.submitSales);
    expect(payloads.filter((p) => !p.replayed)).toHaveLength(1);
    expect(new Set(payloads.map((p) => p.batchId)).size).toBe(1);
    const after = await snapshot(app.db, s.insurer.id);
    expect(after.log).toBe(before.log + 1);
    expect(after.batches).toBe(before.batches + 1);
    expect(after.policies.length).toBe(before.policies.length + 5);
    expect(after.policies.filter((p) => p.startsWith('RACE-')).every((p) => p.includes('@1:'))).toBe(true);
  });

  it('stores no ID number and no phone in clear anywhere', async () => {
    const people = [person({ phone: '+86 139 8888 7777' }), person({ phone: '0086-13988887776' }), person({ idNumber: undefined, phone: '010-8888 7775' })];
    people[2]!.idNumber = makeResidentId({ region: '310115', birthDate: '1971-07-07', sequence: 77, gender: 'MALE' }).toLowerCase();
    const ben = person({ phone: '13988887774' });
    const records = people.map((p, i) =>
      salesRecord(`CLEAR-${i}`, { policyholder: p, insured: p, beneficiaries: [{ person: ben, relationshipToInsured: 'CHILD', sharePercent: 100, order: 1 }] }),
    );
    await app.ok(s.bank.keys.ADMIN, REGISTER_SALES_PERSON, { input: { code: 'CLEAR-S1', name: '测试销售', phone: '139 8888 7773' } });
    const result = await submit(app, s.bank.keys.SALES, s.insurer.code, 'clear-key', records);
    expect(result.data!.submitSales.accepted).toBe(3);

    const secrets = new Set<string>();
    for (const p of [...people, ben]) {
      for (const v of [p.idNumber!, p.phone!]) {
        secrets.add(v);
        secrets.add(normalizeDocumentNumber(v));
        secrets.add(normalizePhone(v));
      }
    }
    for (const v of ['139 8888 7773', '13988887773']) secrets.add(v);
    for (const secret of [...secrets].filter((x) => x.length >= 8)) {
      for (const table of ['person', 'sales_person', 'policy', 'policy_beneficiary', 'policy_missing_field', 'sales_batch', 'transfer_log', 'transfer_log_policy']) {
        const columns = await textColumns(app.db, table);
        const where = columns.map((c) => `${c} LIKE ?`).join(' OR ');
        const rows = await app.db.query(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`, columns.map(() => `%${secret}%`));
        expect({ table, secret, n: Number(rows[0].n) }).toEqual({ table, secret, n: 0 });
      }
    }
    // …while the encrypted columns are filled and the insurer could still match by blind index.
    const stored = await app.db.getRepository(PersonEntity).findBy({ insurerId: s.insurer.id });
    expect(stored.filter((p) => p.idNumberEnc?.startsWith('v1:') && p.idNumberBidx && p.keyId).length).toBeGreaterThanOrEqual(4);
  });

  it('the same policy from the same channel while PENDING is a new version; from another channel it is rejected', async () => {
    const holder = person({ phone: null });
    const benA = person();
    const first = await submit(app, s.bank.keys.SALES, s.insurer.code, 'version-1', [
      salesRecord('VER-1', { policyholder: holder, insured: holder, beneficiaries: [{ person: benA, relationshipToInsured: 'CHILD' }] }),
    ]);
    expect(first.data!.submitSales.results[0]).toMatchObject({ accepted: true, version: 1, completeness: { status: 'INCOMPLETE', missing: ['policyholder.phone'] } });
    const v1 = await app.db.getRepository(PolicyEntity).findOneByOrFail({ insurerId: s.insurer.id, policyNo: 'VER-1' });

    // The channel sends it again, lower-case, with the phone now and another beneficiary and insured.
    const newInsured = person();
    const second = await submit(app, s.bank.keys.SALES, s.insurer.code, 'version-2', [
      salesRecord(' ver-1 ', {
        policyholder: { ...holder, phone: '13600001234' },
        insured: newInsured,
        insuredRelationship: 'SPOUSE',
        beneficiaries: [{ person: person(), relationshipToInsured: 'PARENT', sharePercent: 60, order: 1 }, { person: person(), relationshipToInsured: 'SIBLING', sharePercent: 40, order: 2 }],
      }),
    ]);
    expect(second.data!.submitSales.results[0]).toMatchObject({ policyNo: 'VER-1', accepted: true, version: 2, completeness: { missing: [] } });
    const v2 = await app.db.getRepository(PolicyEntity).findOneByOrFail({ insurerId: s.insurer.id, policyNo: 'VER-1' });
    expect(v2.id).toBe(v1.id);
    expect(v2.version).toBe(2);
    expect(v2.policyholderId).toBe(v1.policyholderId); // re-matched by ID number: the same person row
    expect(v2.insuredId).not.toBe(v1.insuredId);
    const bens = await app.db.getRepository(PolicyBeneficiaryEntity).findBy({ policyId: v2.id });
    expect(bens.map((b) => [b.ord, b.relationshipToInsured, b.sharePercent]).sort()).toEqual([
      [1, 'PARENT', '60'],
      [2, 'SIBLING', '40'],
    ]);
    expect(await app.db.getRepository(PolicyMissingFieldEntity).countBy({ policyId: v2.id })).toBe(0);

    // A broker with its own SUBMIT_SALES agreement cannot take the bank's policy number.
    const broker = await createParty(app, 'BROKER', ['ADMIN', 'SALES'], { attested: true });
    await createAgreement(app, { insurerCode: s.insurer.code, partnerCode: broker.code, scopes: ['SUBMIT_SALES'], proposerKey: s.insurer.keys.ADMIN, signerKey: broker.keys.ADMIN });
    const stolen = await submit(app, broker.keys.SALES, s.insurer.code, 'steal-1', [salesRecord('VER-1'), salesRecord('VER-1-BROKER')]);
    expect(stolen.data!.submitSales).toMatchObject({ accepted: 1, rejected: 1 });
    expect(stolen.data!.submitSales.results[0]).toMatchObject({ accepted: false, errors: [{ field: 'policyNo', code: 'DUPLICATE_POLICY' }], completeness: null });
    expect((await app.db.getRepository(PolicyEntity).findOneByOrFail({ id: v1.id })).version).toBe(2);

    // Once underwritten, the channel cannot replace it.
    await app.db.getRepository(PolicyEntity).update({ id: v1.id }, { status: 'UNDERWRITTEN' });
    const late = await submit(app, s.bank.keys.SALES, s.insurer.code, 'version-3', [salesRecord('VER-1')]);
    expect(late.data!.submitSales.results[0]).toMatchObject({ accepted: false, errors: [{ code: 'ALREADY_UNDERWRITTEN' }] });
  });

  it('re-flags earlier policies PHONE_SHARED when a new record makes their phone shared, in the same transaction', async () => {
    const phone = '13755550001';
    const a = person({ phone });
    const b = person({ phone: '137 5555 0001' });
    const first = await submit(app, s.bank.keys.SALES, s.insurer.code, 'share-1', [
      salesRecord('SHARE-A', { policyholder: a, insured: a }),
      salesRecord('SHARE-B', { policyholder: b, insured: b }),
      // The same policyholder again: still two ID numbers.
      salesRecord('SHARE-A2', { policyholder: a, insured: a }),
    ]);
    expect(first.data!.submitSales.results.map((r) => r.completeness!.status)).toEqual(['COMPLETE', 'COMPLETE', 'COMPLETE']);
    const c = person({ phone: '+8613755550001' });
    const second = await submit(app, s.bank.keys.SALES, s.insurer.code, 'share-2', [salesRecord('SHARE-C', { policyholder: c, insured: c })]);
    expect(codes(second.data!.submitSales.results[0]!)).toEqual(['policyholder.phone PHONE_SHARED']);
    const earlier = await app.db.getRepository(PolicyEntity).find({ where: [{ insurerId: s.insurer.id, policyNo: 'SHARE-A' }, { insurerId: s.insurer.id, policyNo: 'SHARE-B' }, { insurerId: s.insurer.id, policyNo: 'SHARE-A2' }] });
    for (const p of earlier) {
      expect(p.completeness).toBe('SUSPECT');
      expect(JSON.parse(p.issues).map((i: { code: string }) => i.code)).toEqual(['PHONE_SHARED']);
      expect(p.version).toBe(1); // the edit version stays: only the verdict changed
    }
    // The batch's entry names its own policy; the re-flagged ones follow in a reflagCompleteness entry of the same transaction.
    const log = await logOf(app.db, s.insurer.id);
    const [batchEntry, reflagEntry] = log.slice(-2);
    expect(batchEntry).toMatchObject({ operation: 'submitSales', policyNos: ['SHARE-C'] });
    expect(reflagEntry).toMatchObject({ operation: 'reflagCompleteness', actorOrganizationId: s.bank.id, agreementId: s.agreement.id });
    expect([...reflagEntry!.policyNos].sort()).toEqual(['SHARE-A', 'SHARE-A2', 'SHARE-B']);
  });

  it('one person row per ID number: a later record updates it (a blank keeps what is held), and the other policies naming the person are re-assessed', async () => {
    const holder = person();
    const child = person({ birthDate: '2012-06-01', gender: 'FEMALE', idNumber: makeResidentId({ region: '330106', birthDate: '2012-06-01', sequence: 44, gender: 'FEMALE' }), phone: null, address: null });
    const first = await submit(app, s.bank.keys.SALES, s.insurer.code, 'person-1', [salesRecord('PERSON-A', { policyholder: holder, insured: child, insuredRelationship: 'CHILD' })]);
    expect(first.data!.submitSales.results[0]!.completeness!.status).toBe('COMPLETE');

    // The same holder again without phone and address: the insurer already holds them, the record is complete.
    const second = await submit(app, s.bank.keys.SALES, s.insurer.code, 'person-2', [salesRecord('PERSON-B', { policyholder: { ...holder, phone: null, address: '  ' }, insured: { ...holder, phone: null, address: null } })]);
    expect(second.data!.submitSales.results[0]!.completeness).toEqual({ status: 'COMPLETE', missing: [], issues: [] });
    const a = await app.db.getRepository(PolicyEntity).findOneByOrFail({ insurerId: s.insurer.id, policyNo: 'PERSON-A' });
    const b = await app.db.getRepository(PolicyEntity).findOneByOrFail({ insurerId: s.insurer.id, policyNo: 'PERSON-B' });
    expect(b.policyholderId).toBe(a.policyholderId);
    expect(await app.db.getRepository(PersonEntity).countBy({ insurerId: s.insurer.id, id: a.policyholderId })).toBe(1);

    // The child is now sent with another gender than her ID number's: PERSON-A, naming her as insured, is re-flagged.
    const third = await submit(app, s.bank.keys.SALES, s.insurer.code, 'person-3', [
      salesRecord('PERSON-C', { policyholder: holder, insured: { ...child, gender: 'MALE' }, insuredRelationship: 'CHILD' }),
    ]);
    expect(codes(third.data!.submitSales.results[0]!)).toEqual(['insured.gender ID_GENDER_MISMATCH']);
    const reassessed = await app.db.getRepository(PolicyEntity).findOneByOrFail({ id: a.id });
    expect(reassessed.completeness).toBe('SUSPECT');
    expect(JSON.parse(reassessed.issues).map((i: { field: string; code: string }) => `${i.field} ${i.code}`)).toEqual(['insured.gender ID_GENDER_MISMATCH']);
    expect(reassessed.version).toBe(1);
  });

  it('PHONE_IS_SALES_PERSON fires for the registered phone of the selling sales person, also for policies sold before the registration', async () => {
    const sellerPhone = '13866660001';
    const early = person({ phone: '138-6666-0001' });
    const before = await submit(app, s.bank.keys.SALES, s.insurer.code, 'seller-0', [salesRecord('SELLER-EARLY', { policyholder: early, insured: early, salesPersonCode: 'S-100' })]);
    expect(before.data!.submitSales.results[0]!.completeness!.status).toBe('COMPLETE');

    const registered = await app.ok(s.bank.keys.ADMIN, REGISTER_SALES_PERSON, { input: { code: 's-100', name: '测试销售员', phone: sellerPhone } });
    expect(registered.registerSalesPerson).toMatchObject({ code: 'S-100', phone: '138****0001', organization: { code: s.bank.code } });
    const flagged = await app.db.getRepository(PolicyEntity).findOneByOrFail({ insurerId: s.insurer.id, policyNo: 'SELLER-EARLY' });
    expect(flagged.completeness).toBe('SUSPECT');
    expect(JSON.parse(flagged.issues).map((i: { code: string }) => i.code)).toEqual(['PHONE_IS_SALES_PERSON']);
    expect((await logOf(app.db, s.insurer.id)).pop()).toMatchObject({ operation: 'reflagCompleteness', actorOrganizationId: s.bank.id, policyNos: ['SELLER-EARLY'] });

    const holder = person({ phone: '+86 138 6666 0001' });
    const other = person();
    const result = await submit(app, s.bank.keys.SALES, s.insurer.code, 'seller-1', [
      salesRecord('SELLER-1', { policyholder: holder, insured: holder, salesPersonCode: 'S-100' }),
      salesRecord('SELLER-2', { policyholder: other, insured: other, salesPersonCode: 'S-100' }),
      salesRecord('SELLER-3', (() => {
        const p = person({ phone: sellerPhone });
        return { policyholder: p, insured: p, salesPersonCode: 'S-OTHER' };
      })()),
    ]);
    const [one, two, three] = result.data!.submitSales.results;
    // Three policyholders now share the seller's phone: PHONE_SHARED too, for all three (the early one re-flagged).
    expect(codes(one!)).toEqual(['policyholder.phone PHONE_SHARED', 'policyholder.phone PHONE_IS_SALES_PERSON']);
    expect(two!.completeness!.status).toBe('COMPLETE');
    expect(codes(three!)).toEqual(['policyholder.phone PHONE_SHARED']); // sold by someone else: not that seller's phone
    const reflagged = await app.db.getRepository(PolicyEntity).findOneByOrFail({ id: flagged.id });
    expect(JSON.parse(reflagged.issues).map((i: { code: string }) => i.code)).toEqual(['PHONE_SHARED', 'PHONE_IS_SALES_PERSON']);
    // The bank may register only its own people; the phone must be a phone.
    const broker = await createParty(app, 'BROKER', ['ADMIN']);
    expect(errorCode(await app.gql(broker.keys.ADMIN, REGISTER_SALES_PERSON, { input: { organizationCode: s.bank.code, code: 'X', name: 'x', phone: sellerPhone } }))).toBe('FORBIDDEN');
    expect(errorCode(await app.gql(s.bank.keys.SALES, REGISTER_SALES_PERSON, { input: { code: 'X', name: 'x', phone: sellerPhone } }))).toBe('FORBIDDEN');
    expect(errorCode(await app.gql(s.bank.keys.ADMIN, REGISTER_SALES_PERSON, { input: { code: 'X', name: 'x', phone: '12345' } }))).toBe('BAD_USER_INPUT');
    expect(await app.db.getRepository(SalesPersonEntity).countBy({ code: 'X' })).toBe(0);
    expect(errorCode(await app.gql(ADMIN_TOKEN, REGISTER_SALES_PERSON, { input: { organizationCode: s.bank.code, code: 'S-200', name: '测试', phone: '13866660002' } }))).toBeUndefined();
  });

  it('rejects records it cannot store with field errors, and keeps the others', async () => {
    const result = await submit(app, s.bank.keys.SALES, s.insurer.code, 'fields-1', [
      salesRecord('FIELD-OK'),
      salesRecord('FIELD-OK'),
      salesRecord('BAD NO!'),
      salesRecord('FIELD-LONG', { policyholder: person({ name: '测'.repeat(101), address: 'x'.repeat(501) }) }),
      salesRecord('FIELD-SHARE', { beneficiaries: [{ person: person(), sharePercent: 120 }] }),
      salesRecord('X'.repeat(65)),
      salesRecord('FIELD-EMPTY', { productCode: '  ' }),
    ]);
    const results = result.data!.submitSales.results;
    expect(results.map((r) => [r.accepted, r.errors.map((e) => `${e.field} ${e.code}`)])).toEqual([
      [true, []],
      [false, ['policyNo DUPLICATE_IN_BATCH']],
      [false, ['policyNo INVALID']],
      [false, ['policyholder.name TOO_LONG', 'policyholder.address TOO_LONG']],
      [false, ['beneficiaries[0].sharePercent INVALID']],
      [false, ['policyNo TOO_LONG']],
      [false, ['productCode REQUIRED']],
    ]);
    expect(JSON.stringify(result)).not.toContain('测'.repeat(101));
  });
});

describe(`submitSales refusals (${TEST_DB})`, () => {
  let app: TestApp;
  let s: Setup;

  beforeAll(async () => {
    app = await startTestApp();
    s = await salesSetup(app);
  });
  afterAll(() => app.close());

  async function refused(key: string, insurer: { id: string; code: string }, expected: string, records: unknown[] = [salesRecord(`REF-${Math.random().toString(36).slice(2, 8)}`)]) {
    const before = await snapshot(app.db, insurer.id);
    const result = await submit(app, key, insurer.code, `refused-${Math.random()}`, records);
    expect(errorCode(result)).toBe(expected);
    expect(result.data).toBeNull();
    const after = await snapshot(app.db, insurer.id);
    expect({ ...after, log: before.log }).toEqual(before);
    return { result, logGrew: after.log - before.log };
  }

  it('AGREEMENT_INACTIVE without an agreement, with a PROPOSED one and with a TERMINATED one: nothing written, a REFUSED entry logged', async () => {
    const other = await createParty(app, 'INSURER', ['ADMIN']);
    const none = await refused(s.bank.keys.SALES, other, 'AGREEMENT_INACTIVE');
    expect(none.logGrew).toBe(1);
    const last = (await logOf(app.db, other.id)).pop()!;
    expect(last).toMatchObject({ operation: 'submitSales', outcome: 'REFUSED', errorCode: 'AGREEMENT_INACTIVE', actorOrganizationId: s.bank.id });

    const proposed = await createParty(app, 'INSURER', ['ADMIN']);
    await createAgreement(app, { insurerCode: proposed.code, partnerCode: s.bank.code, scopes: ['SUBMIT_SALES'], proposerKey: proposed.keys.ADMIN });
    expect((await refused(s.bank.keys.SALES, proposed, 'AGREEMENT_INACTIVE')).logGrew).toBe(1);

    const ended = await createParty(app, 'INSURER', ['ADMIN']);
    const agreement = await createAgreement(app, { insurerCode: ended.code, partnerCode: s.bank.code, scopes: ['SUBMIT_SALES'], proposerKey: ended.keys.ADMIN, signerKey: s.bank.keys.ADMIN });
    await app.ok(ended.keys.ADMIN, 'mutation($id: ID!) { terminateAgreement(id: $id, reason: "test") { status } }', { id: agreement.id });
    const terminated = await refused(s.bank.keys.SALES, ended, 'AGREEMENT_INACTIVE');
    expect(terminated.logGrew).toBe(1);
    expect((await logOf(app.db, ended.id)).pop()).toMatchObject({ outcome: 'REFUSED', errorCode: 'AGREEMENT_INACTIVE', agreementId: null });

    // An agreement without SUBMIT_SALES grants nothing here either.
    const readOnly = await createParty(app, 'INSURER', ['ADMIN']);
    await createAgreement(app, { insurerCode: readOnly.code, partnerCode: s.bank.code, scopes: ['READ_POLICIES'], proposerKey: readOnly.keys.ADMIN, signerKey: s.bank.keys.ADMIN });
    expect((await refused(s.bank.keys.SALES, readOnly, 'AGREEMENT_INACTIVE')).logGrew).toBe(1);
  });

  it('ATTESTATION_REQUIRED for a SALES principal who has not signed the attestation (logged)', async () => {
    const unattested = await createPrincipal(app, s.bank.code, ['SALES']);
    const r = await refused(unattested.key, s.insurer, 'ATTESTATION_REQUIRED');
    expect(r.logGrew).toBe(1);
    expect((await logOf(app.db, s.insurer.id)).pop()).toMatchObject({ outcome: 'REFUSED', errorCode: 'ATTESTATION_REQUIRED', actorPrincipalId: unattested.id });
  });

  it('FORBIDDEN for the insurer\'s principals, a channel ADMIN and the exchange ADMIN (nothing logged: shield refuses first)', async () => {
    for (const key of [s.insurer.keys.ADMIN, s.insurer.keys.UNDERWRITER, s.bank.keys.ADMIN, ADMIN_TOKEN]) {
      expect((await refused(key, s.insurer, 'FORBIDDEN')).logGrew).toBe(0);
    }
  });

  it('BAD_USER_INPUT before anything is written: more than MAX_BATCH_RECORDS records, none, a bad key; NOT_FOUND for an unknown insurer', async () => {
    const many = Array.from({ length: MAX_BATCH_RECORDS + 1 }, (_, i) => ({ policyNo: `MANY-${i}`, productCode: 'P', termMonths: 24, applicationDate: '2026-01-01', policyholder: {}, insured: {} }));
    expect((await refused(s.bank.keys.SALES, s.insurer, 'BAD_USER_INPUT', many)).logGrew).toBe(0);
    expect((await refused(s.bank.keys.SALES, s.insurer, 'BAD_USER_INPUT', [])).logGrew).toBe(0);
    const badKey = await submit(app, s.bank.keys.SALES, s.insurer.code, 'k'.repeat(129), [salesRecord('BADKEY-1')]);
    expect(errorCode(badKey)).toBe('BAD_USER_INPUT');
    expect(errorCode(await submit(app, s.bank.keys.SALES, s.insurer.code, '   ', [salesRecord('BADKEY-2')]))).toBe('BAD_USER_INPUT');
    expect(errorCode(await submit(app, s.bank.keys.SALES, 'NO_SUCH_INSURER', 'k-404', [salesRecord('BADKEY-3')]))).toBe('NOT_FOUND');
    expect(errorCode(await submit(app, s.bank.keys.SALES, s.bank.code, 'k-bank', [salesRecord('BADKEY-4')]))).toBe('NOT_FOUND');
    expect(await app.db.getRepository(PolicyEntity).count()).toBe(0);
  });

  it('MAX_BATCH_RECORDS records of the longest policy numbers is the maximum and is accepted, with one log entry listing them all', async () => {
    const records = Array.from({ length: MAX_BATCH_RECORDS }, (_, i) => salesRecord(`MAX-${String(i).padStart(4, '0')}-`.padEnd(64, 'X')));
    const result = await submit(app, s.bank.keys.SALES, s.insurer.code, 'max-batch', records);
    expect(result.errors).toBeUndefined();
    expect(result.data!.submitSales).toMatchObject({ accepted: MAX_BATCH_RECORDS, rejected: 0 });
    expect(await app.db.getRepository(PolicyEntity).countBy({ insurerId: s.insurer.id })).toBe(MAX_BATCH_RECORDS);
    const entries = await loggedEntries(app.db, { where: { insurerId: s.insurer.id, operation: 'submitSales' }, order: { seq: 'DESC' }, take: 1 });
    expect(entries[0]!.policyNos).toEqual(records.map((r) => r.policyNo));
  });
});

/** The text-typed columns of a table (names quoted for raw SQL). */
async function textColumns(db: DataSource, table: string): Promise<string[]> {
  const meta = db.entityMetadatas.find((m) => m.tableName === table)!;
  return meta.columns
    .filter((c) => ['text', 'varchar', 'json'].includes(String(c.type)))
    .map((c) => (db.options.type === 'better-sqlite3' ? `"${c.databaseName}"` : `\`${c.databaseName}\``));
}
