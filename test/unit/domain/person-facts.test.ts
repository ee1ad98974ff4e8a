import { createHmac } from 'node:crypto';
import { assessCompleteness, assessFromFacts, type CompletenessContext, type PersonData, type RecordData } from '../../../src/domain/completeness';
import { GENDERS, ID_TYPES, RELATIONSHIPS, type Gender, type IdType, type Relationship } from '../../../src/domain/enums';
import { CLEAR_KEY, factPerson, personFacts, phoneKeyOf, type FactKey, type FactPerson, type PersonFacts } from '../../../src/domain/person-facts';
import { makeResidentId } from '../../../src/domain/resident-id';
import { insured, PH_ID, policyholder, record, TODAY } from './fixtures';
import { assessCompleteness as referenceAssess } from './reference-completeness';
import { seededRandom } from '../../support/random';

/** A keyed hash standing in for the blind index the storage layer uses. */
const HMAC_KEY: FactKey = (kind, value) => createHmac('sha256', 'test-index-key').update(`${kind}\u0000${value}`).digest('hex');

/** Deterministic PRNG (mulberry32), so a failing case can be replayed. */
function prng(seed: number) {
  const next = seededRandom(seed);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(values: readonly T[]): T => values[int(values.length)]!;
  const chance = (p: number) => next() < p;
  return { int, pick, chance };
}

type Rng = ReturnType<typeof prng>;

function isoDate(rng: Rng, fromYear: number, toYear: number): string {
  const y = fromYear + rng.int(toYear - fromYear + 1);
  const m = 1 + rng.int(12);
  const d = 1 + rng.int(28);
  return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** Made-up people with every kind of defect the checks know, and some that look alike on purpose. */
function person(rng: Rng, pool: PersonData[]): PersonData {
  if (pool.length > 0 && rng.chance(0.15)) {
    // The same person again, maybe written differently (SELF, NON_SELF_SAME_PERSON, identity by number).
    const same = { ...rng.pick(pool) };
    if (rng.chance(0.3) && same.idNumber) same.idNumber = ` ${same.idNumber.toLowerCase()} `;
    if (rng.chance(0.3)) same.idType = rng.pick(['RESIDENT_ID', 'HOUSEHOLD_REGISTER', null] as const);
    return same;
  }
  const birthDate = isoDate(rng, 1930, 2025);
  const gender: Gender = rng.pick(GENDERS);
  const sequence = 2 * rng.int(499) + (gender === 'MALE' ? 1 : 2);
  const valid = makeResidentId({ region: rng.pick(['110105', '310115', '440305', '810000', '830000', '910001']), birthDate, sequence });
  let idType: IdType | null = rng.pick([...ID_TYPES, 'RESIDENT_ID', 'RESIDENT_ID', 'RESIDENT_ID', null] as const);
  let idNumber: string | null = valid;
  switch (rng.int(12)) {
    case 0:
      idNumber = valid.slice(0, 17) + (valid[17] === '1' ? '2' : '1'); // bad check character
      break;
    case 1:
      idNumber = `${valid.slice(0, 6)}${valid.slice(8, 17)}`; // 15-digit legacy shape
      break;
    case 2:
      idNumber = rng.pick(['', '   ', null]);
      break;
    case 3:
      idNumber = rng.pick(['E12345678', 'H12345678', '12345678', 'ABC123456789012', '军字第123号']);
      break;
    case 4:
      idNumber = makeResidentId({ birthDate: '2030-01-01', sequence }); // birth date in the future
      break;
    default:
      break;
  }
  if (rng.chance(0.05)) idType = null;
  const phone = rng.pick([
    '13800001111',
    '+86 138 0000 1111',
    '0086-13800001111',
    '010-12345678',
    '12345',
    '',
    null,
    `139${String(rng.int(1e8)).padStart(8, '0')}`,
    '  ',
    '8613800001111',
  ]);
  const address = rng.pick(['北京市朝阳区测试路1号', '无', '不详', '上海市浦东新区', '123456', 'n/a', '', null, '广州市天河区测试大道100号2栋301室']);
  return {
    name: rng.pick(['测试甲', '测试乙', ' 测试丙 ', '', null, 'Test · Person', `测试${rng.int(50)}`]),
    gender: rng.chance(0.85) ? (rng.chance(0.8) ? gender : gender === 'MALE' ? 'FEMALE' : 'MALE') : null,
    birthDate: rng.pick([birthDate, birthDate, birthDate, isoDate(rng, 1890, 2030), null, '', '2026-02-30']),
    idType,
    idNumber,
    phone,
    address,
  };
}

function generateRecord(rng: Rng): { record: RecordData; context: CompletenessContext } {
  const pool: PersonData[] = [];
  const take = () => {
    const p = person(rng, pool);
    pool.push(p);
    return p;
  };
  const policyholderData = take();
  const insuredData = rng.chance(0.3) ? { ...policyholderData } : take();
  const beneficiaries = Array.from({ length: rng.int(4) }, () => ({
    person: take(),
    relationshipToInsured: rng.chance(0.9) ? rng.pick(RELATIONSHIPS) : null,
    sharePercent: 50,
    order: 1,
  }));
  const relationship: Relationship | null = rng.chance(0.9) ? rng.pick([...RELATIONSHIPS, 'SELF', 'SELF', 'CHILD', 'SPOUSE'] as const) : null;
  return {
    record: {
      policyholder: policyholderData,
      insured: insuredData,
      insuredRelationship: relationship,
      beneficiaries,
      applicationDate: rng.pick([isoDate(rng, 2000, 2026), '2026-03-01', null, 'not a date']),
    },
    context: {
      today: TODAY,
      phoneSharedCount: rng.pick([null, 0, 1, 2, 3, 7]),
      salesPersonPhone: rng.pick([null, '13800001111', '+86 13800001111', '010 1234 5678', '']),
    },
  };
}

/** What the storage layer does: facts with keyed hashes, through JSON, plus the clear columns of the row. */
function stored(person: PersonData | null | undefined): FactPerson {
  const facts = JSON.parse(JSON.stringify(personFacts(person, { today: TODAY, key: HMAC_KEY }))) as PersonFacts;
  return { ...facts, name: person?.name ?? null, gender: person?.gender ?? null, birthDate: person?.birthDate ?? null, idType: person?.idType ?? null };
}

describe('personFacts', () => {
  it('records presence, the ID check, the phone and address problems', () => {
    const facts = personFacts(policyholder({ phone: '12345', address: '无', name: '  ' }), { today: TODAY, key: CLEAR_KEY });
    expect(facts).toEqual({
      v: 1,
      blank: ['name'],
      idCheck: { ok: true, birthDate: '1980-05-20', gender: 'MALE' },
      idEmbedded: { birthDate: '1980-05-20', gender: 'MALE' },
      idKey: PH_ID,
      phoneInvalid: true,
      phoneKey: '12345',
      addressProblem: 'PLACEHOLDER',
    });
  });

  it('keeps the reason of a failed ID check and what a GB 11643 number embeds whatever its type', () => {
    const bad = PH_ID.slice(0, 17) + (PH_ID[17] === '1' ? '2' : '1');
    expect(personFacts({ idType: 'RESIDENT_ID', idNumber: bad }, { today: TODAY, key: CLEAR_KEY }).idCheck).toEqual({
      ok: false,
      code: 'ID_CHECKSUM',
      reason: 'CHECK_DIGIT',
    });
    const asPassport = personFacts({ idType: 'PASSPORT', idNumber: PH_ID }, { today: TODAY, key: CLEAR_KEY });
    expect(asPassport.idCheck).toEqual({ ok: true });
    expect(asPassport.idEmbedded).toEqual({ birthDate: '1980-05-20', gender: 'MALE' });
    // A future birth date fails the check today but still embeds its date for the relationship rules.
    const future = makeResidentId({ birthDate: '2030-01-01', sequence: 1 });
    const f = personFacts({ idType: 'RESIDENT_ID', idNumber: future }, { today: TODAY, key: CLEAR_KEY });
    expect(f.idCheck).toEqual({ ok: false, code: 'ID_CHECKSUM', reason: 'BIRTH_DATE_FUTURE' });
    expect(f.idEmbedded).toEqual({ birthDate: '2030-01-01', gender: 'MALE' });
  });

  it('holds no ID number or phone in clear when made with a keyed hash', () => {
    const p = policyholder({ phone: '+86 138-0000-1111' });
    const text = JSON.stringify(personFacts(p, { today: TODAY, key: HMAC_KEY }));
    for (const secret of [PH_ID, PH_ID.slice(6, 14), '13800001111', '+86 138-0000-1111', '0000']) expect(text).not.toContain(secret);
    expect(text).toMatch(/"idKey":"[0-9a-f]{64}"/);
    expect(text).toMatch(/"phoneKey":"[0-9a-f]{64}"/);
  });

  it('gives equal keys to one number however it is written (spaces, 15 or 18 digits, +86) and different ones otherwise', () => {
    const key = (idType: IdType | null, idNumber: string) => factPerson({ idType, idNumber }, { key: HMAC_KEY, today: TODAY }).idKey;
    expect(key('RESIDENT_ID', '110105800520131')).toBe(key('RESIDENT_ID', PH_ID));
    expect(key('HOUSEHOLD_REGISTER', ` ${PH_ID.slice(0, 9)} ${PH_ID.slice(9)} `)).toBe(key(null, PH_ID));
    expect(key('RESIDENT_ID', PH_ID)).not.toBe(key('RESIDENT_ID', makeResidentId({ birthDate: '1980-05-20', sequence: 133 })));
    expect(phoneKeyOf('138 0000 1111', HMAC_KEY)).toBe(phoneKeyOf('+8613800001111', HMAC_KEY));
    expect(phoneKeyOf('13800001111', HMAC_KEY)).not.toBe(phoneKeyOf('13800001112', HMAC_KEY));
    expect(phoneKeyOf(' - ', HMAC_KEY)).toBeNull();
  });
});

describe('assessFromFacts is assessCompleteness', () => {
  it('on the fixtures: a complete record, a shared phone, the seller\'s phone', () => {
    const r = record({ policyholder: policyholder({ phone: '+86 13800001111' }) });
    const ctx = { today: TODAY, phoneSharedCount: 3 };
    const fromFacts = assessFromFacts(
      { policyholder: stored(r.policyholder), insured: stored(r.insured), insuredRelationship: r.insuredRelationship, beneficiaries: [], applicationDate: r.applicationDate },
      { ...ctx, salesPersonPhoneKey: phoneKeyOf('138-0000-1111', HMAC_KEY) },
    );
    expect(fromFacts).toEqual(assessCompleteness(r, { ...ctx, salesPersonPhone: '138-0000-1111' }));
    expect(fromFacts.issues.map((i) => i.code)).toEqual(['PHONE_SHARED', 'PHONE_IS_SALES_PERSON']);
    expect(assessFromFacts({ policyholder: stored(policyholder()), insured: stored(insured()), insuredRelationship: 'CHILD', applicationDate: '2026-03-01' }, { today: TODAY }).status).toBe(
      'COMPLETE',
    );
  });

  it('gives the verdict of the pre-facts implementation, in memory and from stored facts, over 3000 generated records', () => {
    const rng = prng(20260315);
    const statuses = new Map<string, number>();
    const codes = new Set<string>();
    for (let i = 0; i < 3000; i += 1) {
      const { record: r, context } = generateRecord(rng);
      const expected = referenceAssess(r as never, context);
      expect(assessCompleteness(r, context)).toEqual(expected);
      const fromStored = assessFromFacts(
        {
          policyholder: stored(r.policyholder),
          insured: stored(r.insured),
          insuredRelationship: r.insuredRelationship,
          beneficiaries: (r.beneficiaries ?? []).map((b) => ({ person: stored(b.person), relationshipToInsured: b.relationshipToInsured })),
          applicationDate: r.applicationDate,
        },
        { today: context.today, phoneSharedCount: context.phoneSharedCount, salesPersonPhoneKey: phoneKeyOf(context.salesPersonPhone, HMAC_KEY) },
      );
      expect(fromStored).toEqual(expected);
      statuses.set(expected.status, (statuses.get(expected.status) ?? 0) + 1);
      for (const issue of expected.issues) codes.add(issue.code);
    }
    // The generator reaches every status and every issue code, so the comparison means something.
    expect([...statuses.keys()].sort()).toEqual(['COMPLETE', 'INCOMPLETE', 'SUSPECT']);
    expect([...codes].sort()).toEqual(
      [
        'ADDRESS_PLACEHOLDER',
        'BIRTHDATE_INVALID',
        'ID_BIRTHDATE_MISMATCH',
        'ID_CHECKSUM',
        'ID_FORMAT',
        'ID_GENDER_MISMATCH',
        'MISSING',
        'PHONE_FORMAT',
        'PHONE_IS_SALES_PERSON',
        'PHONE_SHARED',
        'RELATIONSHIP_INCONSISTENT',
      ].sort(),
    );
  });
});
