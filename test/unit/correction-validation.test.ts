import { checkCorrection, checkEvidence, MAX_EVIDENCE_AGE_DAYS, requestedPaths, type CorrectionInputData } from '../../src/modules/correction/correction.validation';
import { AppError } from '../../src/graphql/errors';

const NOW = new Date('2026-06-15T08:00:00.000Z');
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

function input(overrides: Partial<CorrectionInputData> = {}): CorrectionInputData {
  return {
    insurerCode: ' ins_1 ',
    policyNo: ' p-1 ',
    target: 'POLICYHOLDER',
    changes: { phone: ' 13800001111 ' },
    evidence: { method: 'SIGNED_FORM', reference: ' F-1 ', confirmedAt: new Date(NOW.getTime() - HOUR) },
    expectedVersion: 3,
    ...overrides,
  };
}

/** The field and reason of the BAD_USER_INPUT a request gets, or 'ok'. */
function refusal(data: CorrectionInputData): string {
  try {
    checkCorrection(data, NOW);
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    const e = error as AppError;
    expect(e.code).toBe('BAD_USER_INPUT');
    return `${String(e.extensions.field)} ${String(e.extensions.reason)}`;
  }
}

describe('checkCorrection', () => {
  it('normalises a valid request: codes upper-case, values trimmed, only the fields given', () => {
    expect(checkCorrection(input({ changes: { phone: ' 13800001111 ', name: null, address: undefined } }), NOW)).toEqual({
      insurerCode: 'INS_1',
      policyNo: 'P-1',
      target: 'POLICYHOLDER',
      beneficiaryOrder: null,
      changes: { phone: '13800001111' },
      insuredRelationship: null,
      evidence: { method: 'SIGNED_FORM', reference: 'F-1', confirmedAt: new Date(NOW.getTime() - HOUR) },
      expectedVersion: 3,
    });
  });

  it('takes a relationship alone, and a beneficiary by its order', () => {
    expect(checkCorrection(input({ changes: {}, insuredRelationship: 'SPOUSE' }), NOW)).toMatchObject({ changes: {}, insuredRelationship: 'SPOUSE' });
    expect(checkCorrection(input({ target: 'BENEFICIARY', beneficiaryOrder: 2 }), NOW)).toMatchObject({ target: 'BENEFICIARY', beneficiaryOrder: 2 });
  });

  it.each<[string, Partial<CorrectionInputData>, string]>([
    ['no insurer', { insurerCode: '  ' }, 'insurerCode REQUIRED'],
    ['no policy number', { policyNo: '' }, 'policyNo INVALID'],
    ['a policy number with spaces', { policyNo: 'P 1' }, 'policyNo INVALID'],
    ['an unknown target', { target: 'SPOUSE' }, 'target INVALID'],
    ['a beneficiary without order', { target: 'BENEFICIARY' }, 'beneficiaryOrder REQUIRED'],
    ['a beneficiary order out of range', { target: 'BENEFICIARY', beneficiaryOrder: 100 }, 'beneficiaryOrder REQUIRED'],
    ['an order for the policyholder', { beneficiaryOrder: 1 }, 'beneficiaryOrder INVALID'],
    ['version 0', { expectedVersion: 0 }, 'expectedVersion INVALID'],
    ['a fractional version', { expectedVersion: 1.5 }, 'expectedVersion INVALID'],
    ['nothing to change', { changes: {} }, 'changes NO_CHANGE'],
    ['only nulls', { changes: { name: null, phone: null } }, 'changes NO_CHANGE'],
    ['a blank value', { changes: { address: '  ' } }, 'changes.address BLANK'],
    ['a blank ID number', { changes: { phone: '13800001111', idNumber: '' } }, 'changes.idNumber BLANK'],
    ['a name too long', { changes: { name: '名'.repeat(101) } }, 'changes.name TOO_LONG'],
    ['an unknown gender', { changes: { gender: 'X' } }, 'changes.gender INVALID'],
    ['a date before 1000', { changes: { birthDate: '0999-12-31' } }, 'changes.birthDate INVALID'],
    ['an unknown relationship', { insuredRelationship: 'COUSIN' }, 'insuredRelationship INVALID'],
  ])('refuses %s', (_label, overrides, expected) => {
    expect(refusal(input(overrides))).toBe(expected);
  });

  it('lists the requested field paths for a refusal entry (a beneficiary without its position)', () => {
    const c = checkCorrection(input({ changes: { address: '上海市测试路1号', phone: '13800001111' }, insuredRelationship: 'SELF' }), NOW);
    expect(requestedPaths(c)).toEqual(['policyholder.phone', 'policyholder.address', 'insuredRelationship']);
    expect(requestedPaths({ ...c, target: 'BENEFICIARY', insuredRelationship: null })).toEqual(['beneficiaries.phone', 'beneficiaries.address']);
  });
});

describe('checkEvidence: the customer asked for it, recently', () => {
  const at = (ms: number) => ({ method: 'CALLBACK_RECORDING', reference: 'REC-1', confirmedAt: new Date(NOW.getTime() + ms) });
  const reason = (evidence: unknown) => refusal(input({ evidence: evidence as CorrectionInputData['evidence'] }));

  it('accepts a confirmation from now back to the age limit, with a little clock skew', () => {
    expect(checkEvidence(at(0), NOW).method).toBe('CALLBACK_RECORDING');
    expect(checkEvidence(at(4 * 60 * 1000), NOW).reference).toBe('REC-1');
    expect(checkEvidence(at(-MAX_EVIDENCE_AGE_DAYS * DAY + HOUR), NOW).confirmedAt).toEqual(new Date(NOW.getTime() - MAX_EVIDENCE_AGE_DAYS * DAY + HOUR));
    expect(checkEvidence({ ...at(0), confirmedAt: NOW.toISOString() }, NOW).confirmedAt).toEqual(NOW);
  });

  it.each<[string, unknown, string]>([
    ['no evidence', null, 'evidence REQUIRED'],
    ['an unknown method', { ...at(0), method: 'PHONE_CALL' }, 'evidence.method INVALID'],
    ['no reference', { ...at(0), reference: undefined }, 'evidence.reference REQUIRED'],
    ['a blank reference', { ...at(0), reference: '   ' }, 'evidence.reference REQUIRED'],
    ['a reference over 200 characters', { ...at(0), reference: 'R'.repeat(201) }, 'evidence.reference TOO_LONG'],
    ['no time', { ...at(0), confirmedAt: undefined }, 'evidence.confirmedAt REQUIRED'],
    ['a time that is not one', { ...at(0), confirmedAt: 'yesterday' }, 'evidence.confirmedAt REQUIRED'],
    ['a time in the future', at(10 * 60 * 1000), 'evidence.confirmedAt FUTURE'],
    ['a confirmation over a year old', at(-MAX_EVIDENCE_AGE_DAYS * DAY - HOUR), 'evidence.confirmedAt TOO_OLD'],
  ])('refuses %s', (_label, evidence, expected) => {
    expect(reason(evidence)).toBe(expected);
  });

  it('keeps a reference of exactly 200 characters (counted as characters, not bytes)', () => {
    expect(checkEvidence({ ...at(0), reference: '证'.repeat(200) }, NOW).reference).toHaveLength(200);
  });
});
