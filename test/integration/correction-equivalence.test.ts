/**
 * A correction recomputes stored completeness from stored person facts plus
 * the new values (nothing decrypted). This holds it to the pure verdict on
 * the clear records: after every one of a long series of random corrections
 * (seeded, so reproducible), every policy's stored verdict and missing-field
 * rows equal `assessCompleteness` of the clear records (with the phone
 * sharing counted over the clear records), and the corrected person's
 * stored facts equal the facts a fresh write of its clear values would store.
 * Made-up people only.
 */
import { assessCompleteness, type RecordData } from '../../src/domain/completeness';
import { todayInChina } from '../../src/domain/dates';
import type { Gender, IdType, Relationship } from '../../src/domain/enums';
import { personFacts } from '../../src/domain/person-facts';
import { normalizePhone } from '../../src/domain/phone';
import { canonicalIdNumber, idTypeFamily, makeResidentId } from '../../src/domain/resident-id';
import { AppError } from '../../src/graphql/errors';
import { CorrectionService } from '../../src/modules/correction/correction.service';
import { PiiCipher } from '../../src/modules/person/pii';
import { PersonEntity } from '../../src/modules/policy/person.entity';
import { PolicyEntity, PolicyMissingFieldEntity } from '../../src/modules/policy/policy.entity';
import { startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createParty } from '../support/factories';
import { adult, APPLICATION_DATE, seedPolicies, type PersonSeed, type PolicySeed } from '../support/seed';
import { seededRandom } from '../support/random';

interface Model {
  uid: string;
  person: PersonSeed;
}

interface PolicyModel {
  policyNo: string;
  holder: Model;
  insured: Model;
  relationship: Relationship | null;
}

describe(`corrections give the verdict of the clear records (${TEST_DB})`, () => {
  let app: TestApp;
  let insurer: Awaited<ReturnType<typeof createParty>>;
  const policies: PolicyModel[] = [];

  const row = (policyNo: string) => app.db.getRepository(PolicyEntity).findOneByOrFail({ insurerId: insurer.id, policyNo });

  beforeAll(async () => {
    app = await startTestApp();
    insurer = await createParty(app, 'INSURER', ['SERVICE'], { attested: true });
    const seeds: PolicySeed[] = [];
    for (let i = 1; i <= 6; i += 1) {
      // Some start with gaps, which corrections may fill (they never clear a value).
      const holder: Model = { uid: `H${i}`, person: adult(i === 2 ? { phone: null } : i === 3 ? { address: null, idNumber: null } : {}) };
      const self = i % 2 === 1;
      // The writer matches people by ID number: a policyholder without one who insures itself is stored as two people.
      const insured: Model = self && holder.person.idNumber ? holder : self ? { uid: `I${i}`, person: { ...holder.person } } : { uid: `I${i}`, person: adult(i === 4 ? { birthDate: null } : {}) };
      const relationship: Relationship | null = i === 6 ? null : self ? 'SELF' : 'OTHER';
      policies.push({ policyNo: `EQ-${i}`, holder, insured, relationship });
      seeds.push({ insurerId: insurer.id, policyNo: `EQ-${i}`, policyholder: holder.person, insured: insured.person, insuredRelationship: relationship });
    }
    await seedPolicies(app, seeds);
  });
  afterAll(() => app.close());

  /** Distinct policyholder identities per canonical phone, over the clear records (the rule of PHONE_SHARED). */
  function sharing(): Map<string, number> {
    const identities = new Map<string, Set<string>>();
    for (const p of policies) {
      const phone = normalizePhone(p.holder.person.phone);
      if (!phone) continue;
      const { idType, idNumber } = p.holder.person;
      const canonical = idType ? canonicalIdNumber(idType, idNumber) : null;
      const identity = idType && canonical ? `${idTypeFamily(idType)}:${canonical}` : p.holder.uid;
      identities.set(phone, (identities.get(phone) ?? new Set()).add(identity));
    }
    return new Map([...identities].map(([phone, set]) => [phone, set.size]));
  }

  const statuses = new Set<string>();
  const codes = new Set<string>();

  async function expectEveryVerdictMatches(today: string): Promise<void> {
    const shared = sharing();
    for (const p of policies) {
      const record: RecordData = { policyholder: p.holder.person, insured: p.insured.person, insuredRelationship: p.relationship, applicationDate: APPLICATION_DATE };
      const expected = assessCompleteness(record, { today, phoneSharedCount: shared.get(normalizePhone(p.holder.person.phone)) ?? 0 });
      const stored = await row(p.policyNo);
      statuses.add(stored.completeness);
      for (const issue of JSON.parse(stored.issues) as Array<{ code: string }>) codes.add(issue.code);
      expect({ policyNo: p.policyNo, status: stored.completeness, issues: JSON.parse(stored.issues) }).toEqual({ policyNo: p.policyNo, status: expected.status, issues: expected.issues });
      const missing = (await app.db.getRepository(PolicyMissingFieldEntity).findBy({ policyId: stored.id })).map((m) => m.field).sort();
      expect([p.policyNo, missing]).toEqual([p.policyNo, [...expected.missing].sort()]);
    }
  }

  it('over 80 random corrections of names, genders, birth dates, documents, phones, addresses and relationships', async () => {
    const random = seededRandom(20261124);
    const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
    let serial = 0;
    const freshId = (kind: 'valid' | 'checksum' | 'passport' | 'legacy' | 'format'): { idType: IdType; idNumber: string } => {
      serial += 1;
      const birthDate = `19${50 + (serial % 45)}-0${1 + (serial % 9)}-2${serial % 8}`;
      const gender: Gender = serial % 2 ? 'MALE' : 'FEMALE';
      const id = makeResidentId({ region: '310115', birthDate, sequence: (serial * 2 + (gender === 'MALE' ? 1 : 0)) % 1000, gender });
      if (kind === 'valid') return { idType: pick<IdType>(['RESIDENT_ID', 'HOUSEHOLD_REGISTER']), idNumber: id };
      if (kind === 'checksum') return { idType: 'RESIDENT_ID', idNumber: id.slice(0, 17) + (id.endsWith('1') ? '2' : '1') };
      if (kind === 'format') return { idType: 'HK_MACAO_PERMIT', idNumber: `Z${serial}` };
      if (kind === 'legacy') return { idType: 'RESIDENT_ID', idNumber: id.slice(0, 6) + id.slice(8, 17) };
      return { idType: 'PASSPORT', idNumber: `E${String(10_000_000 + serial)}` };
    };
    const phones = ['13811110001', '+86 138-1111-0001', '13811110002', '13811110003', '021-55556666', '12345'];
    const addresses = ['北京市朝阳区测试路1号', '不详', 'n/a', '上海市浦东新区世纪大道100号'];
    let accepted = 0;
    let unchanged = 0;

    for (let step = 0; step < 80; step += 1) {
      const policy = pick(policies);
      const target = pick(['POLICYHOLDER', 'INSURED'] as const);
      const model = target === 'POLICYHOLDER' ? policy.holder : policy.insured;
      const changes: PersonSeed = {};
      const wanted = new Set(Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(['name', 'gender', 'birthDate', 'id', 'phone', 'address', 'relationship'])));
      let relationship: Relationship | null = null;
      for (const w of wanted) {
        if (w === 'name') changes.name = pick(['测试甲', '测试乙', '测试丙']);
        if (w === 'gender') changes.gender = pick<Gender>(['MALE', 'FEMALE']);
        if (w === 'birthDate') changes.birthDate = pick(['1980-01-15', '1975-06-30', '2001-12-01', '1999-02-28']);
        if (w === 'id') Object.assign(changes, freshId(pick(['valid', 'valid', 'checksum', 'passport', 'legacy', 'format'] as const)));
        if (w === 'phone') changes.phone = pick(phones);
        if (w === 'address') changes.address = pick(addresses);
        if (w === 'relationship') relationship = pick<Relationship>(['SELF', 'OTHER', 'SPOUSE', 'CHILD', 'PARENT']);
      }
      const ctx = await app.server.contextFor(insurer.keys.SERVICE);
      const current = await row(policy.policyNo);
      try {
        await app.services.corrections.submit(ctx, {
          insurerCode: insurer.code,
          policyNo: policy.policyNo,
          target,
          changes,
          insuredRelationship: relationship,
          evidence: { method: 'SIGNED_FORM', reference: `EQ-${step}`, confirmedAt: new Date(ctx.now.getTime() - 60_000) },
          expectedVersion: current.version,
        });
        accepted += 1;
        expect((await row(policy.policyNo)).version).toBe(current.version + 1);
      } catch (error) {
        // Only "nothing changes" may be refused here.
        expect(error).toBeInstanceOf(AppError);
        expect([(error as AppError).code, (error as AppError).extensions.reason]).toEqual(['BAD_USER_INPUT', 'NO_CHANGE']);
        unchanged += 1;
        continue;
      }
      // The model: what changes really changed (a phone or number written another way keeps the stored text).
      const p = model.person;
      for (const f of ['name', 'gender', 'birthDate', 'address'] as const) if (changes[f] !== undefined) (p as Record<string, unknown>)[f] = changes[f];
      if (changes.phone !== undefined && normalizePhone(changes.phone) !== normalizePhone(p.phone)) p.phone = changes.phone;
      if (changes.idNumber !== undefined) {
        p.idType = changes.idType!;
        p.idNumber = changes.idNumber;
      }
      if (relationship !== null) policy.relationship = relationship;

      const today = todayInChina(ctx.now);
      const person = await app.db.getRepository(PersonEntity).findOneByOrFail({ id: target === 'POLICYHOLDER' ? current.policyholderId : current.insuredId });
      expect(JSON.parse(person.facts)).toEqual(personFacts(p, { today, key: app.services.pii.factKey }));
      expect(normalizePhone(app.services.pii.decryptNullable(person.phoneEnc, person.keyId))).toBe(normalizePhone(p.phone));
      expect(app.services.pii.decryptNullable(person.idNumberEnc, person.keyId)).toBe(p.idNumber);
      expect(person.idNumberBidx).toBe(app.services.pii.idIndex(p.idType, p.idNumber));
      await expectEveryVerdictMatches(today);
    }
    expect(accepted).toBeGreaterThan(60);
    expect(unchanged).toBeLessThan(20);
    // The series went through every status, so the comparison was not trivial.
    expect([...statuses].sort()).toEqual(['COMPLETE', 'INCOMPLETE', 'SUSPECT']);
    expect([...codes].sort()).toEqual(
      expect.arrayContaining(['ADDRESS_PLACEHOLDER', 'ID_BIRTHDATE_MISMATCH', 'ID_CHECKSUM', 'ID_FORMAT', 'ID_GENDER_MISMATCH', 'MISSING', 'PHONE_FORMAT', 'PHONE_SHARED', 'RELATIONSHIP_INCONSISTENT']),
    );
    expect((await app.services.transferLogVerifier.verifyChain({ id: insurer.id, code: insurer.code })).valid).toBe(true);
  });

  it('re-seals the other sealed column when the row was sealed under an older key (one key id per row)', async () => {
    const oldKey = Buffer.alloc(32, 7); // the test app's data key
    const rotated = new PiiCipher(Buffer.alloc(32, 9), [oldKey]);
    expect(rotated.keyId).not.toBe(app.services.pii.keyId);
    const service = new CorrectionService(app.db, app.services.grants, app.services.transferLog, rotated, app.services.policies);
    const policy = policies[0]!;
    const current = await row(policy.policyNo);
    const before = await app.db.getRepository(PersonEntity).findOneByOrFail({ id: current.policyholderId });
    expect(before.keyId).toBe(app.services.pii.keyId);
    const idBefore = app.services.pii.decryptNullable(before.idNumberEnc, before.keyId);

    const ctx = await app.server.contextFor(insurer.keys.SERVICE);
    await service.submit(ctx, {
      insurerCode: insurer.code,
      policyNo: policy.policyNo,
      target: 'POLICYHOLDER',
      changes: { phone: '13899990000' },
      evidence: { method: 'E_SIGNATURE', reference: 'ROT-1', confirmedAt: new Date(ctx.now.getTime() - 60_000) },
      expectedVersion: current.version,
    });
    const after = await app.db.getRepository(PersonEntity).findOneByOrFail({ id: current.policyholderId });
    expect(after.keyId).toBe(rotated.keyId);
    expect(rotated.decrypt(after.phoneEnc!, after.keyId!)).toBe('13899990000');
    expect(rotated.decryptNullable(after.idNumberEnc, after.keyId)).toBe(idBefore);
    expect(after.idNumberEnc).not.toBe(before.idNumberEnc);
  });
});
