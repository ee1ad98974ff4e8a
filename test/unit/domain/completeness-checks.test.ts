import { assessCompleteness, CompletenessIssue, PHONE_SHARED_THRESHOLD, RecordData } from '../../../src/domain/completeness';
import { makeResidentId } from '../../../src/domain/resident-id';
import { ID_TYPES } from '../../../src/domain/enums';
import { APPLICATION_DATE, INS_ID, insured, PH_ID, policyholder, record, TODAY } from './fixtures';

const assess = (r: RecordData, extra = {}) => assessCompleteness(r, { today: TODAY, ...extra });
const codes = (issues: CompletenessIssue[]) => issues.map((i) => `${i.field} ${i.code}`);
const wrongCheck = (id: string) => id.slice(0, 17) + (id[17] === '1' ? '2' : '1');

describe('identity documents', () => {
  it.each(['RESIDENT_ID', 'HOUSEHOLD_REGISTER'] as const)('ID_CHECKSUM for a bad check character of %s', (idType) => {
    const result = assess(record({ policyholder: policyholder({ idType, idNumber: wrongCheck(PH_ID) }) }));
    expect(result.status).toBe('SUSPECT');
    expect(codes(result.issues)).toEqual(['policyholder.idNumber ID_CHECKSUM']);
  });

  it('ID_CHECKSUM for a bad shape, for the insured as well', () => {
    expect(codes(assess(record({ insured: insured({ idNumber: '12345' }) })).issues)).toEqual(['insured.idNumber ID_CHECKSUM']);
    expect(codes(assess(record({ insured: insured({ idNumber: `${INS_ID.slice(0, 17)}Y` }) })).issues)).toEqual([
      'insured.idNumber ID_CHECKSUM',
    ]);
  });

  it('accepts a lower-case x and a 15-digit legacy number', () => {
    const x = Array.from({ length: 500 }, (_, i) => makeResidentId({ birthDate: '1980-05-20', sequence: 2 * i + 1 }))
      .find((id) => id.endsWith('X'))!;
    expect(x).toMatch(/X$/);
    expect(assess(record({ policyholder: policyholder({ idNumber: x.toLowerCase() }) })).status).toBe('COMPLETE');
    expect(assess(record({ policyholder: policyholder({ idNumber: '110105800520131' }) })).status).toBe('COMPLETE');
  });

  it('ID_CHECKSUM for HMT and foreign permanent 18-character forms', () => {
    const hmt = makeResidentId({ region: '810000', birthDate: '1980-05-20', sequence: 131 });
    const foreign = makeResidentId({ region: '911000', birthDate: '1980-05-20', sequence: 131 });
    const ok = (idType: 'HMT_RESIDENCE_PERMIT' | 'FOREIGN_PERMANENT_RESIDENT_ID', idNumber: string) =>
      assess(record({ policyholder: policyholder({ idType, idNumber }) }));
    expect(ok('HMT_RESIDENCE_PERMIT', hmt).status).toBe('COMPLETE');
    expect(ok('FOREIGN_PERMANENT_RESIDENT_ID', foreign).status).toBe('COMPLETE');
    expect(ok('FOREIGN_PERMANENT_RESIDENT_ID', 'ABC110080012345').status).toBe('COMPLETE');
    expect(codes(ok('HMT_RESIDENCE_PERMIT', wrongCheck(hmt)).issues)).toEqual(['policyholder.idNumber ID_CHECKSUM']);
    expect(codes(ok('FOREIGN_PERMANENT_RESIDENT_ID', wrongCheck(foreign)).issues)).toEqual(['policyholder.idNumber ID_CHECKSUM']);
    expect(codes(ok('HMT_RESIDENCE_PERMIT', PH_ID).issues)).toEqual(['policyholder.idNumber ID_CHECKSUM']);
    expect(codes(ok('FOREIGN_PERMANENT_RESIDENT_ID', 'AB1100800123').issues)).toEqual(['policyholder.idNumber ID_FORMAT']);
  });

  it.each([
    ['PASSPORT', 'E1234567', 'E12'],
    ['MILITARY_ID', '军字第2001988号', '军官证'],
    ['HK_MACAO_PERMIT', 'H12345678', 'H1234'],
    ['TAIWAN_PERMIT', '12345678', '1234567X'],
  ] as const)('ID_FORMAT for a malformed %s, nothing for a good one', (idType, good, bad) => {
    expect(assess(record({ insured: insured({ idType, idNumber: good }) })).status).toBe('COMPLETE');
    const result = assess(record({ insured: insured({ idType, idNumber: bad }) }));
    expect(result.status).toBe('SUSPECT');
    expect(codes(result.issues)).toEqual(['insured.idNumber ID_FORMAT']);
  });

  it('accepts any non-empty number of type OTHER', () => {
    expect(assess(record({ insured: insured({ idType: 'OTHER', idNumber: '某证 1' }) })).status).toBe('COMPLETE');
  });

  it('ID_BIRTHDATE_MISMATCH when the stated birth date differs from the ID', () => {
    const result = assess(record({ policyholder: policyholder({ birthDate: '1980-05-21' }) }));
    expect(result.status).toBe('SUSPECT');
    expect(codes(result.issues)).toEqual(['policyholder.birthDate ID_BIRTHDATE_MISMATCH']);
  });

  it('ID_GENDER_MISMATCH when the stated gender differs from the parity digit', () => {
    const result = assess(record({ insured: insured({ gender: 'MALE' }) }));
    expect(codes(result.issues)).toEqual(['insured.gender ID_GENDER_MISMATCH']);
    expect(result.status).toBe('SUSPECT');
  });

  it('checks permits for birth date and gender too, but not passports', () => {
    const hmt = makeResidentId({ region: '830000', birthDate: '1980-05-20', sequence: 131 });
    const r = record({ policyholder: policyholder({ idType: 'HMT_RESIDENCE_PERMIT', idNumber: hmt, gender: 'FEMALE', birthDate: '1981-01-01' }) });
    expect(codes(assess(r).issues)).toEqual(['policyholder.birthDate ID_BIRTHDATE_MISMATCH', 'policyholder.gender ID_GENDER_MISMATCH']);
    expect(assess(record({ policyholder: policyholder({ idType: 'PASSPORT', idNumber: 'E7654321', gender: 'FEMALE' }) })).status).toBe('COMPLETE');
  });

  it('BIRTHDATE_INVALID for an impossible or future birth date, and no comparison with the ID then', () => {
    for (const birthDate of ['1980-02-30', '20-05-1980', '2027-01-01', '1899-12-31']) {
      const result = assess(record({ policyholder: policyholder({ birthDate }) }));
      expect(result.status).toBe('SUSPECT');
      expect(codes(result.issues)).toEqual(['policyholder.birthDate BIRTHDATE_INVALID']);
    }
  });

  it('does not validate a number whose type is missing (the record is INCOMPLETE anyway)', () => {
    const result = assess(record({ policyholder: policyholder({ idType: null, idNumber: '1' }) }));
    expect(codes(result.issues)).toEqual(['policyholder.idType MISSING']);
  });

  it('ID_CHECKSUM for a birth date in the future of the injected today', () => {
    const future = makeResidentId({ birthDate: '2026-03-16', gender: 'FEMALE' });
    const r = record({ insured: insured({ idNumber: future, birthDate: null }), insuredRelationship: 'CHILD' });
    expect(codes(assess(r).issues)).toContain('insured.idNumber ID_CHECKSUM');
    expect(codes(assess(r, { today: '2026-03-16' }).issues)).not.toContain('insured.idNumber ID_CHECKSUM');
  });
});

describe('phones', () => {
  it.each(['12345', '10012345678', '010-123', 'n/a', '1381234567'])('PHONE_FORMAT for %p', (phone) => {
    const result = assess(record({ policyholder: policyholder({ phone }) }));
    expect(result.status).toBe('SUSPECT');
    expect(codes(result.issues)).toEqual(['policyholder.phone PHONE_FORMAT']);
  });

  it.each(['+86 138 0000 1111', '0086-13800001111', '8613800001111', '010-12345678', '(0755) 1234567', '１３８００００１１１１'])(
    'accepts %p',
    (phone) => expect(assess(record({ policyholder: policyholder({ phone }) })).status).toBe('COMPLETE'),
  );

  it('checks the format of an insured phone when given', () => {
    expect(codes(assess(record({ insured: insured({ phone: '999' }) })).issues)).toEqual(['insured.phone PHONE_FORMAT']);
  });

  it(`PHONE_SHARED from ${PHONE_SHARED_THRESHOLD} distinct policyholder ID numbers`, () => {
    expect(assess(record(), { phoneSharedCount: 2 }).status).toBe('COMPLETE');
    expect(assess(record(), { phoneSharedCount: null }).status).toBe('COMPLETE');
    for (const n of [3, 4, 50]) {
      const result = assess(record(), { phoneSharedCount: n });
      expect(result.status).toBe('SUSPECT');
      expect(codes(result.issues)).toEqual(['policyholder.phone PHONE_SHARED']);
    }
  });

  it('PHONE_IS_SALES_PERSON when the phone equals the seller’s registered phone after normalisation', () => {
    for (const salesPersonPhone of ['13800001111', '+86 138-0000-1111', '0086 13800001111']) {
      const result = assess(record(), { salesPersonPhone });
      expect(result.status).toBe('SUSPECT');
      expect(codes(result.issues)).toEqual(['policyholder.phone PHONE_IS_SALES_PERSON']);
    }
    for (const salesPersonPhone of [null, undefined, '', '13800002222']) {
      expect(assess(record(), { salesPersonPhone }).status).toBe('COMPLETE');
    }
  });

  it('does not apply the cross-record signals when the phone is missing, nor to the insured', () => {
    const noPhone = assess(record({ policyholder: policyholder({ phone: ' ' }) }), { phoneSharedCount: 9, salesPersonPhone: ' ' });
    expect(codes(noPhone.issues)).toEqual(['policyholder.phone MISSING']);
    const insuredPhone = record({ policyholder: policyholder({ phone: '13800003333' }), insured: insured({ phone: '13800001111' }) });
    expect(assess(insuredPhone, { salesPersonPhone: '13800001111' }).status).toBe('COMPLETE');
  });

  it('lists all phone signals in a fixed order', () => {
    const result = assess(record({ policyholder: policyholder({ phone: '12345' }) }), { phoneSharedCount: 3, salesPersonPhone: '12345' });
    expect(result.issues.map((i) => i.code)).toEqual(['PHONE_FORMAT', 'PHONE_SHARED', 'PHONE_IS_SALES_PERSON']);
  });
});

describe('addresses', () => {
  it.each(['无', '不详', 'n/a', '123456', '北京市', '上海市浦东新区', '同上', '-'])('ADDRESS_PLACEHOLDER for %p', (address) => {
    const result = assess(record({ policyholder: policyholder({ address }) }));
    expect(result.status).toBe('SUSPECT');
    expect(codes(result.issues)).toEqual(['policyholder.address ADDRESS_PLACEHOLDER']);
  });

  it('checks an insured address when given', () => {
    expect(codes(assess(record({ insured: insured({ address: '不详' }) })).issues)).toEqual(['insured.address ADDRESS_PLACEHOLDER']);
  });
});

describe('relationship of the insured to the policyholder', () => {
  const same = { ...policyholder(), phone: null, address: null };

  it('accepts SELF for the same person', () => {
    expect(assess(record({ insured: same, insuredRelationship: 'SELF' })).status).toBe('COMPLETE');
  });

  it.each([
    ['SELF', insured(), 'SELF_DIFFERENT'],
    ['SPOUSE', same, 'same identity document'],
    ['CHILD', insured({ name: '测试戊', birthDate: '1960-01-01', gender: 'MALE', idNumber: makeResidentId({ birthDate: '1960-01-01' }) }), 'not younger'],
    ['PARENT', insured(), 'not older'],
    ['SPOUSE', insured(), 'marriage age'],
  ] as const)('RELATIONSHIP_INCONSISTENT for %s (%s)', (insuredRelationship, ins, hint) => {
    const result = assess(record({ insured: ins, insuredRelationship }));
    expect(result.status).toBe('SUSPECT');
    expect(codes(result.issues)).toContain('insuredRelationship RELATIONSHIP_INCONSISTENT');
    if (hint !== 'SELF_DIFFERENT') expect(result.issues.map((i) => i.message).join(' ')).toContain(hint);
  });

  it('judges the marriage age at the application date', () => {
    const wife = insured({ birthDate: '2006-03-01', idNumber: makeResidentId({ birthDate: '2006-03-01', gender: 'FEMALE' }) });
    expect(assess(record({ insured: wife, insuredRelationship: 'SPOUSE', applicationDate: '2026-03-01' })).status).toBe('COMPLETE');
    expect(assess(record({ insured: wife, insuredRelationship: 'SPOUSE', applicationDate: '2026-02-28' })).status).toBe('SUSPECT');
    expect(assess(record({ insured: wife, insuredRelationship: 'SPOUSE', applicationDate: undefined })).status).toBe('COMPLETE');
    expect(APPLICATION_DATE <= TODAY).toBe(true);
  });
});

describe('messages never hold personal data', () => {
  it('for a record failing every check', () => {
    const ph = policyholder({ name: '测试己', phone: '12345', address: '上海市浦东新区', birthDate: '1980-05-21', gender: 'FEMALE' });
    const r = record({
      policyholder: ph,
      insured: insured({ idNumber: wrongCheck(INS_ID), address: '测试地址不详' }),
      insuredRelationship: 'SELF',
      beneficiaries: [{ person: { name: '测试庚', idType: 'PASSPORT', idNumber: 'Z9' } }],
    });
    const result = assess(r, { phoneSharedCount: 4, salesPersonPhone: '12345' });
    expect(new Set(result.issues.map((i) => i.code))).toEqual(
      new Set(['ID_BIRTHDATE_MISMATCH', 'ID_GENDER_MISMATCH', 'PHONE_FORMAT', 'PHONE_SHARED', 'PHONE_IS_SALES_PERSON',
        'ADDRESS_PLACEHOLDER', 'ID_CHECKSUM', 'RELATIONSHIP_INCONSISTENT', 'MISSING', 'ID_FORMAT']),
    );
    const secrets = [ph.name, PH_ID, INS_ID, wrongCheck(INS_ID), '12345', '上海', '测试', 'Z9', '1980', '2010', ...ID_TYPES.filter((t) => t !== 'PASSPORT' && t !== 'RESIDENT_ID')];
    for (const i of result.issues) {
      expect(i.message).toMatch(/^[A-Z][\x20-\x7e]+\.$/);
      for (const s of secrets) expect(i.message).not.toContain(s);
    }
  });
});
