import {
  assessCompleteness,
  INSURED_REQUIRED,
  isBlank,
  ISSUE_CODES,
  POLICYHOLDER_REQUIRED,
  RecordData,
} from '../../../src/domain/completeness';
import { makeResidentId } from '../../../src/domain/resident-id';
import { insured, policyholder, record, TODAY } from './fixtures';

const ctx = { today: TODAY };
const assess = (r: RecordData, extra = {}) => assessCompleteness(r, { ...ctx, ...extra });

describe('assessCompleteness: required fields (Art. 6(3))', () => {
  it('finds a full, consistent record COMPLETE', () => {
    expect(assess(record())).toEqual({ status: 'COMPLETE', missing: [], issues: [] });
  });

  it.each(POLICYHOLDER_REQUIRED)('lists policyholder.%s when missing', (field) => {
    const result = assess(record({ policyholder: policyholder({ [field]: null }) }));
    expect(result.status).toBe('INCOMPLETE');
    expect(result.missing).toEqual([`policyholder.${field}`]);
    expect(result.issues[0]).toEqual({ field: `policyholder.${field}`, code: 'MISSING', message: expect.any(String) });
  });

  it.each(INSURED_REQUIRED)('lists insured.%s when missing', (field) => {
    const result = assess(record({ insured: insured({ [field]: undefined }) }));
    expect(result.status).toBe('INCOMPLETE');
    expect(result.missing).toEqual([`insured.${field}`]);
    expect(result.issues.filter((i) => i.code === 'MISSING').map((i) => i.field)).toEqual([`insured.${field}`]);
  });

  it('lists insuredRelationship when missing', () => {
    for (const insuredRelationship of [null, undefined]) {
      const result = assess(record({ insuredRelationship }));
      expect(result).toEqual({
        status: 'INCOMPLETE',
        missing: ['insuredRelationship'],
        issues: [{ field: 'insuredRelationship', code: 'MISSING', message: expect.any(String) }],
      });
    }
  });

  it('does not require phone or address of the insured', () => {
    expect(assess(record({ insured: insured({ phone: null, address: null }) })).status).toBe('COMPLETE');
  });

  it.each(['', ' ', '\t\n', '\u3000'])('counts the blank string %p as missing', (blank) => {
    const result = assess(record({ policyholder: policyholder({ name: blank, phone: blank, address: blank }) }));
    expect(result.missing).toEqual(['policyholder.name', 'policyholder.phone', 'policyholder.address']);
  });

  it('lists every missing path in contract order for an empty record', () => {
    const result = assess({ policyholder: {}, insured: {} });
    expect(result.status).toBe('INCOMPLETE');
    expect(result.missing).toEqual([
      'policyholder.name', 'policyholder.gender', 'policyholder.birthDate', 'policyholder.idType',
      'policyholder.idNumber', 'policyholder.phone', 'policyholder.address',
      'insured.name', 'insured.gender', 'insured.birthDate', 'insured.idType', 'insured.idNumber',
      'insuredRelationship',
    ]);
    expect(result.issues.map((i) => i.field)).toEqual(result.missing);
    expect(result.issues.every((i) => i.code === 'MISSING')).toBe(true);
  });

  it('isBlank', () => {
    expect([null, undefined, '', '  '].map(isBlank)).toEqual([true, true, true, true]);
    expect(['a', 0, false].map(isBlank)).toEqual([false, false, false]);
  });
});

describe('assessCompleteness: status precedence INCOMPLETE > SUSPECT > COMPLETE', () => {
  const suspect = record({ policyholder: policyholder({ phone: '12345' }) });

  it('is SUSPECT when only a check fails', () => {
    const result = assess(suspect);
    expect(result.status).toBe('SUSPECT');
    expect(result.missing).toEqual([]);
    expect(result.issues.map((i) => i.code)).toEqual(['PHONE_FORMAT']);
  });

  it('is INCOMPLETE when something is missing, even with failed checks, and still lists them', () => {
    const result = assess({ ...suspect, insured: insured({ name: null }) });
    expect(result.status).toBe('INCOMPLETE');
    expect(result.issues.map((i) => i.code)).toEqual(['PHONE_FORMAT', 'MISSING']);
  });
});

describe('assessCompleteness: beneficiaries (Art. 2)', () => {
  const beneficiary = {
    person: insured({ name: '测试丙', birthDate: '2012-02-02', idNumber: makeResidentId({ birthDate: '2012-02-02', gender: 'FEMALE' }) }),
    relationshipToInsured: 'SIBLING' as const,
    sharePercent: 100,
    order: 1,
  };

  it('accepts a complete beneficiary', () => {
    expect(assess(record({ beneficiaries: [beneficiary] }))).toEqual({ status: 'COMPLETE', missing: [], issues: [] });
  });

  it('reports beneficiary gaps in issues without changing the status or missing', () => {
    const gappy = { person: { name: '测试丁' }, relationshipToInsured: null };
    const result = assess(record({ beneficiaries: [beneficiary, gappy] }));
    expect(result.status).toBe('COMPLETE');
    expect(result.missing).toEqual([]);
    expect(result.issues.map((i) => `${i.field} ${i.code}`)).toEqual([
      'beneficiaries[1].gender MISSING',
      'beneficiaries[1].birthDate MISSING',
      'beneficiaries[1].idType MISSING',
      'beneficiaries[1].idNumber MISSING',
    ]);
  });

  it('reports failed beneficiary checks without changing the status', () => {
    const bad = {
      person: { ...beneficiary.person, idNumber: '110105201202020000', phone: '123', address: '无' },
      relationshipToInsured: 'PARENT' as const,
    };
    const result = assess(record({ beneficiaries: [bad] }));
    expect(result.status).toBe('COMPLETE');
    expect(result.issues.map((i) => `${i.field} ${i.code}`)).toEqual([
      'beneficiaries[0].idNumber ID_CHECKSUM',
      'beneficiaries[0].phone PHONE_FORMAT',
      'beneficiaries[0].address ADDRESS_PLACEHOLDER',
      'beneficiaries[0].relationshipToInsured RELATIONSHIP_INCONSISTENT',
    ]);
  });

  it('keeps SUSPECT and INCOMPLETE from the main people when beneficiaries are fine or not', () => {
    const gappy = { person: {} };
    expect(assess(record({ policyholder: policyholder({ address: '无' }), beneficiaries: [gappy] })).status).toBe('SUSPECT');
    expect(assess(record({ insuredRelationship: null, beneficiaries: [beneficiary] })).status).toBe('INCOMPLETE');
  });

  it('checks a beneficiary named as SELF against the insured', () => {
    const self = { person: insured(), relationshipToInsured: 'SELF' as const };
    const other = { person: policyholder(), relationshipToInsured: 'SELF' as const };
    const result = assess(record({ beneficiaries: [self, other] }));
    expect(result.status).toBe('COMPLETE');
    expect(result.issues).toEqual([
      { field: 'beneficiaries[1].relationshipToInsured', code: 'RELATIONSHIP_INCONSISTENT', message: expect.stringContaining('beneficiary') },
    ]);
  });
});

describe('assessCompleteness: output contract', () => {
  it('uses only the listed codes and never repeats itself across calls', () => {
    const r = record({
      policyholder: policyholder({ phone: 'abc', address: '-' }),
      insured: insured({ gender: 'MALE', birthDate: '2010-08-09' }),
      insuredRelationship: 'PARENT',
      beneficiaries: [{ person: {} }],
    });
    const first = assess(r, { phoneSharedCount: 5 });
    expect(assess(r, { phoneSharedCount: 5 })).toEqual(first);
    for (const i of first.issues) expect(ISSUE_CODES).toContain(i.code);
  });

  it('does not mutate its input', () => {
    const r = record();
    const copy = JSON.parse(JSON.stringify(r));
    assess(r);
    expect(r).toEqual(copy);
  });

  it('defaults today to the current date when no context is given', () => {
    expect(assessCompleteness(record()).status).toBe('COMPLETE');
  });
});
