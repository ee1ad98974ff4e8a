import { isLongTerm, LONG_TERM_THRESHOLD_MONTHS, unsoundContactIssues } from '../../../src/domain/scope';
import { isPhoneShared, PHONE_SHARED_THRESHOLD } from '../../../src/domain/completeness';

describe('scope of the measures (Art. 3) and the notice on historical policies', () => {
  it('a term over one year is long-term; a year or less is not', () => {
    expect(LONG_TERM_THRESHOLD_MONTHS).toBe(12);
    expect(isLongTerm(12)).toBe(false);
    expect(isLongTerm(13)).toBe(true);
    expect(isLongTerm(1)).toBe(false);
  });

  it('unsound contact: only issues on the policyholder phone or address', () => {
    const issues = [
      { field: 'policyholder.phone', code: 'PHONE_FORMAT' },
      { field: 'insured.idNumber', code: 'ID_CHECKSUM' },
      { field: 'policyholder.address', code: 'ADDRESS_PLACEHOLDER' },
      { field: 'policyholder.idNumber', code: 'ID_CHECKSUM' },
    ];
    expect(unsoundContactIssues(issues).map((i) => i.code)).toEqual(['PHONE_FORMAT', 'ADDRESS_PLACEHOLDER']);
    expect(unsoundContactIssues([])).toEqual([]);
  });

  it('a phone is shared from the threshold of distinct ID numbers on', () => {
    expect(isPhoneShared(PHONE_SHARED_THRESHOLD - 1)).toBe(false);
    expect(isPhoneShared(PHONE_SHARED_THRESHOLD)).toBe(true);
  });
});
