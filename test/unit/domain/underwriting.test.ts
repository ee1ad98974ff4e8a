import type { Completeness, CompletenessIssue } from '../../../src/domain/completeness';
import { suspectCodes, underwritingArt6_3 } from '../../../src/domain/underwriting';

const issue = (field: string, code: CompletenessIssue['code']): CompletenessIssue => ({ field, code, message: 'm' });
const complete: Completeness = { status: 'COMPLETE', missing: [], issues: [issue('beneficiaries[0].phone', 'MISSING')] };
const incomplete: Completeness = {
  status: 'INCOMPLETE',
  missing: ['policyholder.phone', 'insuredRelationship'],
  issues: [issue('policyholder.phone', 'MISSING'), issue('insuredRelationship', 'MISSING'), issue('policyholder.idNumber', 'ID_CHECKSUM')],
};
const suspect: Completeness = {
  status: 'SUSPECT',
  missing: [],
  issues: [issue('policyholder.idNumber', 'ID_CHECKSUM'), issue('insured.idNumber', 'ID_CHECKSUM'), issue('policyholder.address', 'ADDRESS_PLACEHOLDER'), issue('beneficiaries[0].phone', 'PHONE_FORMAT')],
};

describe('underwriting (Art. 6(3))', () => {
  it('refuses an INCOMPLETE record with its missing paths, even with an override reason', () => {
    expect(underwritingArt6_3(incomplete, null)).toEqual({ outcome: 'INCOMPLETE', missing: ['policyholder.phone', 'insuredRelationship'] });
    expect(underwritingArt6_3(incomplete, 'checked by phone')).toEqual({ outcome: 'INCOMPLETE', missing: ['policyholder.phone', 'insuredRelationship'] });
  });

  it('refuses a SUSPECT record without a reason, naming each failing code once and no beneficiary\'s', () => {
    expect(underwritingArt6_3(suspect, null)).toEqual({ outcome: 'SUSPECT', issues: ['ID_CHECKSUM', 'ADDRESS_PLACEHOLDER'] });
  });

  it('underwrites a SUSPECT record with a reason as an override of those codes', () => {
    expect(underwritingArt6_3(suspect, 'seen the ID card')).toEqual({ outcome: 'UNDERWRITE', override: { reason: 'seen the ID card', issues: ['ID_CHECKSUM', 'ADDRESS_PLACEHOLDER'] } });
  });

  it('underwrites a COMPLETE record, and a reason given anyway is no override', () => {
    expect(underwritingArt6_3(complete, null)).toEqual({ outcome: 'UNDERWRITE', override: null });
    expect(underwritingArt6_3(complete, 'not needed')).toEqual({ outcome: 'UNDERWRITE', override: null });
  });

  it('suspect codes ignore beneficiaries and repeat no code', () => {
    expect(suspectCodes(complete)).toEqual([]);
    expect(suspectCodes(suspect)).toEqual(['ID_CHECKSUM', 'ADDRESS_PLACEHOLDER']);
  });
});
