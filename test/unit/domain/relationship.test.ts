import {
  checkRelationship,
  compareById,
  compareByNameAndBirthDate,
  MARRIAGE_AGE,
  RelationshipPerson,
} from '../../../src/domain/relationship';
import { makeResidentId } from '../../../src/domain/resident-id';
import { RELATIONSHIPS } from '../../../src/domain/enums';

const asOf = '2026-03-01';
const person = (birthDate: string, gender: 'MALE' | 'FEMALE', extra: Partial<RelationshipPerson> = {}): RelationshipPerson => ({
  name: `测试${birthDate}`,
  gender,
  birthDate,
  idType: 'RESIDENT_ID',
  idNumber: makeResidentId({ birthDate, gender }),
  ...extra,
});
const rules = (rel: Parameters<typeof checkRelationship>[0], a: RelationshipPerson, b: RelationshipPerson) =>
  checkRelationship(rel, a, b, { asOf }).map((f) => f.rule);

const parent = person('1970-01-01', 'MALE');
const child = person('1995-06-01', 'FEMALE');

describe('compareById / compareByNameAndBirthDate', () => {
  it('decides by canonical number and type family', () => {
    const id = makeResidentId({ birthDate: '1971-02-03', sequence: 123 });
    expect(compareById({ idType: 'RESIDENT_ID', idNumber: id }, { idType: 'HOUSEHOLD_REGISTER', idNumber: ` ${id} ` })).toBe('SAME');
    expect(compareById({ idType: 'RESIDENT_ID', idNumber: id }, { idType: 'RESIDENT_ID', idNumber: '110105710203123' })).toBe('SAME');
    expect(compareById({ idType: 'RESIDENT_ID', idNumber: id }, { idType: null, idNumber: id })).toBe('SAME');
    expect(compareById({ idType: 'RESIDENT_ID', idNumber: id }, { idType: 'RESIDENT_ID', idNumber: child.idNumber })).toBe('DIFFERENT');
    expect(compareById({ idType: 'PASSPORT', idNumber: 'E1234567' }, { idType: 'OTHER', idNumber: 'E1234567' })).toBe('UNKNOWN');
    expect(compareById({ idType: 'PASSPORT', idNumber: 'E1234567' }, { idType: 'PASSPORT', idNumber: '' })).toBe('UNKNOWN');
    expect(compareById({}, {})).toBe('UNKNOWN');
  });

  it('compares names and birth dates when documents do not decide', () => {
    expect(compareByNameAndBirthDate({ name: '测试 甲', birthDate: '1990-01-01' }, { name: '测试甲', birthDate: '1990-01-01' })).toBe('SAME');
    expect(compareByNameAndBirthDate({ name: 'Test·Alpha' }, { name: 'test alpha' })).toBe('UNKNOWN');
    expect(compareByNameAndBirthDate({ name: '测试甲' }, { name: '测试乙' })).toBe('DIFFERENT');
    expect(compareByNameAndBirthDate({ birthDate: '1990-01-01' }, { birthDate: '1990-01-02' })).toBe('DIFFERENT');
    expect(compareByNameAndBirthDate({ name: '测试甲', birthDate: '1990-01-01' }, { name: '测试甲', birthDate: '1991-01-01' })).toBe('DIFFERENT');
    expect(compareByNameAndBirthDate({ name: '测试甲' }, { birthDate: '1990-01-01' })).toBe('UNKNOWN');
  });
});

describe('SELF and same-person rules', () => {
  it('accepts SELF for the same person, also across legacy and 18-digit numbers', () => {
    expect(rules('SELF', parent, { ...parent })).toEqual([]);
    const legacy = { ...person('1971-02-03', 'MALE'), idNumber: '110105710203123' };
    expect(rules('SELF', legacy, { ...legacy, idNumber: makeResidentId({ birthDate: '1971-02-03', sequence: 123 }) })).toEqual([]);
  });

  it('flags SELF for different ID numbers', () => {
    expect(rules('SELF', child, parent)).toEqual(['SELF_DIFFERENT_PERSON']);
  });

  it('flags SELF for different name or birth date when an ID is absent', () => {
    const noId = { idType: null, idNumber: null };
    expect(rules('SELF', { ...child, ...noId }, { ...parent, ...noId })).toEqual(['SELF_DIFFERENT_PERSON']);
    expect(rules('SELF', { ...parent, ...noId }, parent)).toEqual([]);
    expect(rules('SELF', { ...parent, ...noId, name: '测试丙' }, parent)).toEqual(['SELF_DIFFERENT_PERSON']);
    expect(rules('SELF', { name: '测试甲' }, { birthDate: '1990-01-01' })).toEqual([]);
  });

  it.each(RELATIONSHIPS.filter((r) => r !== 'SELF'))('flags %s between two records of the same document', (rel) => {
    expect(rules(rel, parent, { ...parent, idType: 'HOUSEHOLD_REGISTER' })).toEqual(['NON_SELF_SAME_PERSON']);
  });

  it('does not treat equal names and birth dates as the same person for non-SELF', () => {
    expect(rules('SIBLING', { ...parent, idNumber: null }, { ...parent, idNumber: null })).toEqual([]);
  });

  it('gives distinct messages without personal data', () => {
    const findings = [
      ...checkRelationship('SELF', child, parent, { asOf }),
      ...checkRelationship('SPOUSE', parent, parent, { asOf }),
      ...checkRelationship('CHILD', parent, child, { asOf }),
      ...checkRelationship('PARENT', child, parent, { asOf }),
      ...checkRelationship('SPOUSE', person('2010-01-01', 'MALE'), person('2011-01-01', 'MALE'), { asOf }),
    ];
    expect(new Set(findings.map((f) => f.message)).size).toBe(findings.length);
    for (const f of findings) {
      expect(f.code).toBe('RELATIONSHIP_INCONSISTENT');
      for (const p of [parent, child]) {
        for (const v of [p.name, p.idNumber, p.birthDate, '1970', '1995']) expect(f.message).not.toContain(v);
      }
    }
  });
});

describe('age rules', () => {
  it('accepts a child at least a year younger and a parent at least a year older', () => {
    expect(rules('CHILD', child, parent)).toEqual([]);
    expect(rules('PARENT', parent, child)).toEqual([]);
    expect(rules('GRANDCHILD', child, parent)).toEqual([]);
    expect(rules('GRANDPARENT', parent, child)).toEqual([]);
    expect(rules('CHILD', person('1971-01-01', 'MALE'), parent)).toEqual([]);
  });

  it('flags a CHILD older than or as old as the policyholder', () => {
    expect(rules('CHILD', parent, child)).toEqual(['CHILD_NOT_YOUNGER']);
    expect(rules('CHILD', person('1970-01-01', 'FEMALE'), parent)).toEqual(['CHILD_NOT_YOUNGER']);
    expect(rules('CHILD', person('1970-12-31', 'FEMALE'), parent)).toEqual(['CHILD_NOT_YOUNGER']);
    expect(rules('GRANDCHILD', parent, child)).toEqual(['GRANDCHILD_NOT_YOUNGER']);
  });

  it('flags a PARENT younger than (or as old as) the policyholder', () => {
    expect(rules('PARENT', child, parent)).toEqual(['PARENT_NOT_OLDER']);
    expect(rules('PARENT', person('1970-06-01', 'FEMALE'), parent)).toEqual(['PARENT_NOT_OLDER']);
    expect(rules('GRANDPARENT', child, parent)).toEqual(['GRANDPARENT_NOT_OLDER']);
  });

  it('falls back to the birth date in the ID number, and skips when unknown', () => {
    expect(rules('CHILD', { ...parent, birthDate: null }, child)).toEqual(['CHILD_NOT_YOUNGER']);
    expect(rules('CHILD', { ...parent, birthDate: 'bad' }, child)).toEqual(['CHILD_NOT_YOUNGER']);
    expect(rules('CHILD', { name: '测试甲' }, child)).toEqual([]);
    expect(rules('PARENT', child, { name: '测试乙', idType: 'PASSPORT', idNumber: 'E1234567' })).toEqual([]);
  });

  it.each(['SIBLING', 'EMPLOYER', 'OTHER'] as const)('has no age rule for %s', (rel) => {
    expect(rules(rel, parent, child)).toEqual([]);
    expect(rules(rel, child, parent)).toEqual([]);
  });

  it('ignores a missing relationship', () => {
    expect(rules(null, parent, child)).toEqual([]);
    expect(rules(undefined, parent, parent)).toEqual([]);
  });
});

describe('SPOUSE (Civil Code Art. 1047: 22 for men, 20 for women)', () => {
  const wife = person('1990-01-01', 'FEMALE');
  const husband = person('1988-01-01', 'MALE');
  const bornYearsBefore = (years: number, gender: 'MALE' | 'FEMALE', dayShift = 0) => {
    const d = new Date(Date.UTC(2026 - years, 2, 1 + dayShift));
    return person(d.toISOString().slice(0, 10), gender);
  };

  it('exposes the marriage ages', () => expect(MARRIAGE_AGE).toEqual({ MALE: 22, FEMALE: 20, UNKNOWN: 20 }));

  it('accepts adult spouses', () => {
    expect(rules('SPOUSE', wife, husband)).toEqual([]);
    expect(rules('SPOUSE', husband, wife)).toEqual([]);
  });

  it('judges the insured at the application date: a man turns 22 on his birthday', () => {
    expect(rules('SPOUSE', bornYearsBefore(22, 'MALE'), wife)).toEqual([]);
    expect(rules('SPOUSE', bornYearsBefore(22, 'MALE', 1), wife)).toEqual(['SPOUSE_UNDER_MARRIAGE_AGE']);
    expect(rules('SPOUSE', bornYearsBefore(21, 'MALE', -200), wife)).toEqual(['SPOUSE_UNDER_MARRIAGE_AGE']);
  });

  it('a woman turns 20 on her birthday', () => {
    expect(rules('SPOUSE', bornYearsBefore(20, 'FEMALE'), husband)).toEqual([]);
    expect(rules('SPOUSE', bornYearsBefore(20, 'FEMALE', 1), husband)).toEqual(['SPOUSE_UNDER_MARRIAGE_AGE']);
  });

  it('uses 20 when gender is unknown (no stated gender, no resident ID)', () => {
    const unknown = (years: number, shift = 0) => ({
      ...bornYearsBefore(years, 'MALE', shift), gender: null, idType: 'PASSPORT' as const, idNumber: 'E1234567',
    });
    expect(rules('SPOUSE', unknown(20), husband)).toEqual([]);
    expect(rules('SPOUSE', unknown(20, 1), husband)).toEqual(['SPOUSE_UNDER_MARRIAGE_AGE']);
  });

  it('takes the gender from the ID number when not stated', () => {
    const youngMan = { ...bornYearsBefore(21, 'MALE'), gender: null };
    expect(rules('SPOUSE', youngMan, wife)).toEqual(['SPOUSE_UNDER_MARRIAGE_AGE']);
  });

  it('checks the other person too, with its own message', () => {
    const findings = checkRelationship('SPOUSE', wife, bornYearsBefore(19, 'MALE'), { asOf });
    expect(findings.map((f) => f.rule)).toEqual(['SPOUSE_UNDER_MARRIAGE_AGE']);
    expect(findings[0].message).toContain('policyholder');
    const labelled = checkRelationship('SPOUSE', bornYearsBefore(19, 'MALE'), wife, { asOf, subjectLabel: 'beneficiary', otherLabel: 'insured' });
    expect(labelled[0].message).toContain('beneficiary');
  });

  it('flags spouses recorded with the same gender', () => {
    expect(rules('SPOUSE', wife, person('1985-01-01', 'FEMALE'))).toEqual(['SPOUSE_SAME_GENDER']);
    expect(rules('SPOUSE', wife, { ...husband, gender: null, idNumber: makeResidentId({ birthDate: '1988-01-01', gender: 'FEMALE' }) }))
      .toEqual(['SPOUSE_SAME_GENDER']);
    expect(rules('SPOUSE', bornYearsBefore(10, 'MALE'), bornYearsBefore(11, 'MALE'))).toEqual([
      'SPOUSE_UNDER_MARRIAGE_AGE', 'SPOUSE_UNDER_MARRIAGE_AGE', 'SPOUSE_SAME_GENDER',
    ]);
  });

  it('skips the age rule without a valid application date', () => {
    expect(checkRelationship('SPOUSE', bornYearsBefore(10, 'MALE'), wife, { asOf: 'soon' })).toEqual([]);
  });
});
