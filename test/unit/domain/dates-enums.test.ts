import { ageOn, daysInMonth, formatIsoDate, isIsoDate, isLeapYear, isRealDate, parseIsoDate, todayInChina } from '../../../src/domain/dates';
import {
  COMPLETENESS_STATUSES,
  GENDERS,
  ID_TYPES,
  isCompletenessStatus,
  isGender,
  isIdType,
  isRelationship,
  RELATIONSHIPS,
} from '../../../src/domain/enums';

describe('dates', () => {
  it('knows Gregorian leap years', () => {
    expect([1900, 2000, 2004, 2023, 2024, 2100].map(isLeapYear)).toEqual([false, true, true, false, true, false]);
    expect([daysInMonth(1900, 2), daysInMonth(2000, 2), daysInMonth(2026, 4), daysInMonth(2026, 12)]).toEqual([28, 29, 30, 31]);
  });

  it('validates real dates', () => {
    expect(isRealDate(2000, 2, 29)).toBe(true);
    expect(isRealDate(1900, 2, 29)).toBe(false);
    expect(isRealDate(2026, 13, 1)).toBe(false);
    expect(isRealDate(2026, 0, 1)).toBe(false);
    expect(isRealDate(2026, 1, 0)).toBe(false);
    expect(isRealDate(0, 1, 1)).toBe(false);
    expect(isRealDate(2026, 1.5, 1)).toBe(false);
  });

  it('parses strict YYYY-MM-DD only', () => {
    expect(parseIsoDate('2000-02-29')).toEqual({ year: 2000, month: 2, day: 29 });
    for (const bad of ['1900-02-29', '2026-1-01', '20260101', '2026-01-01T00:00:00Z', ' 2026-01-01', '', null, undefined]) {
      expect(parseIsoDate(bad)).toBeNull();
    }
    expect(isIsoDate('2026-03-15')).toBe(true);
    expect(formatIsoDate({ year: 987, month: 3, day: 5 })).toBe('0987-03-05');
  });

  it('computes today in China (UTC+8)', () => {
    expect(todayInChina(new Date('2026-03-14T15:59:59Z'))).toBe('2026-03-14');
    expect(todayInChina(new Date('2026-03-14T16:00:00Z'))).toBe('2026-03-15');
    expect(todayInChina()).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('computes age in completed years, birthdays on 29 February counting from 1 March', () => {
    expect(ageOn('2000-03-01', '2026-02-28')).toBe(25);
    expect(ageOn('2000-03-01', '2026-03-01')).toBe(26);
    expect(ageOn('2004-02-29', '2026-02-28')).toBe(21);
    expect(ageOn('2004-02-29', '2026-03-01')).toBe(22);
    expect(ageOn('2004-02-29', '2028-02-29')).toBe(24);
    expect(ageOn('2026-03-01', '2026-01-01')).toBe(-1);
    expect(() => ageOn('bad', '2026-01-01')).toThrow(RangeError);
  });
});

describe('enums (exactly the contract values)', () => {
  it('lists the contract enum values in order', () => {
    expect(ID_TYPES).toEqual([
      'RESIDENT_ID', 'HOUSEHOLD_REGISTER', 'PASSPORT', 'MILITARY_ID', 'HK_MACAO_PERMIT', 'TAIWAN_PERMIT',
      'FOREIGN_PERMANENT_RESIDENT_ID', 'HMT_RESIDENCE_PERMIT', 'OTHER',
    ]);
    expect(GENDERS).toEqual(['MALE', 'FEMALE']);
    expect(RELATIONSHIPS).toEqual(['SELF', 'SPOUSE', 'CHILD', 'PARENT', 'GRANDPARENT', 'GRANDCHILD', 'SIBLING', 'EMPLOYER', 'OTHER']);
    expect(COMPLETENESS_STATUSES).toEqual(['COMPLETE', 'INCOMPLETE', 'SUSPECT']);
  });

  it('guards untyped values', () => {
    expect(isIdType('PASSPORT')).toBe(true);
    expect(isIdType('passport')).toBe(false);
    expect(isGender('FEMALE')).toBe(true);
    expect(isGender(1)).toBe(false);
    expect(isRelationship('SPOUSE')).toBe(true);
    expect(isRelationship(null)).toBe(false);
    expect(isCompletenessStatus('SUSPECT')).toBe(true);
    expect(isCompletenessStatus('UNKNOWN')).toBe(false);
  });
});
