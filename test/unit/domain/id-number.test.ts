import {
  canonicalIdNumber,
  idTypeFamily,
  isValidHkMacaoPermit,
  isValidTaiwanPermit,
  makeResidentId,
  upgradeLegacyId,
  validateIdNumber,
} from '../../../src/domain/resident-id';
import { ID_TYPES } from '../../../src/domain/enums';
import { TODAY } from './fixtures';

const opts = { today: TODAY };
const resident = makeResidentId({ region: '320102', birthDate: '1985-04-12', sequence: 37 });
const hmt = makeResidentId({ region: '820000', birthDate: '1992-09-09', sequence: 8 });
const foreign = makeResidentId({ region: '944840', birthDate: '1970-01-31', sequence: 11 });
const wrongCheck = (id: string) => id.slice(0, 17) + (id[17] === '1' ? '2' : '1');

describe('HK/Macao and Taiwan travel permits', () => {
  it.each(['H12345678', 'M87654321', 'h12345678', 'H1234567801', 'M 1234 5678'])('accepts HK/Macao permit %p', (v) =>
    expect(isValidHkMacaoPermit(v)).toBe(true),
  );
  it.each(['', 'H1234567', 'H123456789', 'H123456789012', 'C12345678', '12345678', 'HM1234567', null, undefined])(
    'refuses HK/Macao permit %p',
    (v) => expect(isValidHkMacaoPermit(v)).toBe(false),
  );
  it.each(['12345678', ' 8765 4321 ', '１２３４５６７８'])('accepts Taiwan permit %p', (v) => expect(isValidTaiwanPermit(v)).toBe(true));
  it.each(['', '1234567', '123456789', 'T1234567', null])('refuses Taiwan permit %p', (v) =>
    expect(isValidTaiwanPermit(v)).toBe(false),
  );
});

describe('validateIdNumber', () => {
  it('covers every contract IdType', () => {
    for (const t of ID_TYPES) expect(validateIdNumber(t, '', opts)).toMatchObject({ ok: false, reason: expect.any(String) });
  });

  it.each(['RESIDENT_ID', 'HOUSEHOLD_REGISTER'] as const)('%s accepts resident and legacy numbers, refuses permits', (t) => {
    expect(validateIdNumber(t, resident, opts)).toEqual({
      ok: true, normalized: resident, birthDate: '1985-04-12', gender: 'MALE', kind: 'RESIDENT',
    });
    expect(validateIdNumber(t, '320102850412124', opts)).toMatchObject({ ok: true, kind: 'LEGACY_15', gender: 'FEMALE' });
    expect(validateIdNumber(t, wrongCheck(resident), opts)).toEqual({ ok: false, code: 'ID_CHECKSUM', reason: 'CHECK_DIGIT' });
    expect(validateIdNumber(t, hmt, opts)).toEqual({ ok: false, code: 'ID_CHECKSUM', reason: 'KIND_MISMATCH' });
    expect(validateIdNumber(t, foreign, opts)).toEqual({ ok: false, code: 'ID_CHECKSUM', reason: 'KIND_MISMATCH' });
    expect(validateIdNumber(t, 'E12345678', opts)).toEqual({ ok: false, code: 'ID_CHECKSUM', reason: 'LENGTH' });
    expect(validateIdNumber(t, '', opts)).toEqual({ ok: false, code: 'ID_CHECKSUM', reason: 'EMPTY' });
  });

  it('HMT_RESIDENCE_PERMIT accepts 81/82/83 numbers only', () => {
    expect(validateIdNumber('HMT_RESIDENCE_PERMIT', hmt, opts)).toMatchObject({ ok: true, kind: 'HMT_PERMIT', gender: 'FEMALE' });
    expect(validateIdNumber('HMT_RESIDENCE_PERMIT', wrongCheck(hmt), opts)).toMatchObject({ code: 'ID_CHECKSUM', reason: 'CHECK_DIGIT' });
    expect(validateIdNumber('HMT_RESIDENCE_PERMIT', resident, opts)).toMatchObject({ code: 'ID_CHECKSUM', reason: 'KIND_MISMATCH' });
    expect(validateIdNumber('HMT_RESIDENCE_PERMIT', 'H12345678', opts)).toMatchObject({ code: 'ID_CHECKSUM', reason: 'LENGTH' });
  });

  it('FOREIGN_PERMANENT_RESIDENT_ID accepts the 2023 form and the legacy 3 letters + 12 digits', () => {
    expect(validateIdNumber('FOREIGN_PERMANENT_RESIDENT_ID', foreign, opts)).toMatchObject({
      ok: true, kind: 'FOREIGN_PERMANENT', birthDate: '1970-01-31', gender: 'MALE',
    });
    expect(validateIdNumber('FOREIGN_PERMANENT_RESIDENT_ID', 'usa110070012345', opts)).toEqual({ ok: true, normalized: 'USA110070012345' });
    expect(validateIdNumber('FOREIGN_PERMANENT_RESIDENT_ID', wrongCheck(foreign), opts)).toMatchObject({ code: 'ID_CHECKSUM', reason: 'CHECK_DIGIT' });
    expect(validateIdNumber('FOREIGN_PERMANENT_RESIDENT_ID', resident, opts)).toMatchObject({ code: 'ID_CHECKSUM', reason: 'KIND_MISMATCH' });
    expect(validateIdNumber('FOREIGN_PERMANENT_RESIDENT_ID', 'US1100700123456', opts)).toEqual({ ok: false, code: 'ID_FORMAT', reason: 'FORMAT' });
    expect(validateIdNumber('FOREIGN_PERMANENT_RESIDENT_ID', '   ', opts)).toEqual({ ok: false, code: 'ID_FORMAT', reason: 'EMPTY' });
  });

  it('PASSPORT: 5..20 letters and digits, normalised', () => {
    expect(validateIdNumber('PASSPORT', 'e1234 5678', opts)).toEqual({ ok: true, normalized: 'E12345678' });
    expect(validateIdNumber('PASSPORT', 'AB123', opts)).toMatchObject({ ok: true });
    expect(validateIdNumber('PASSPORT', 'A'.repeat(20), opts)).toMatchObject({ ok: true });
    for (const bad of ['AB12', 'A'.repeat(21), 'E1234-5678', '护照12345']) {
      expect(validateIdNumber('PASSPORT', bad, opts)).toEqual({ ok: false, code: 'ID_FORMAT', reason: 'FORMAT' });
    }
  });

  it('MILITARY_ID: loose, needs a digit and at most 30 characters', () => {
    expect(validateIdNumber('MILITARY_ID', ' 南字第 2001988 号 ', opts)).toEqual({ ok: true, normalized: '南字第 2001988 号' });
    expect(validateIdNumber('MILITARY_ID', '12', opts)).toMatchObject({ ok: true });
    expect(validateIdNumber('MILITARY_ID', '军官证', opts)).toMatchObject({ ok: false, code: 'ID_FORMAT' });
    expect(validateIdNumber('MILITARY_ID', `1${'字'.repeat(30)}`, opts)).toMatchObject({ ok: false, code: 'ID_FORMAT' });
  });

  it('HK_MACAO_PERMIT and TAIWAN_PERMIT use their patterns', () => {
    expect(validateIdNumber('HK_MACAO_PERMIT', 'm12345678', opts)).toEqual({ ok: true, normalized: 'M12345678' });
    expect(validateIdNumber('HK_MACAO_PERMIT', 'M1234567890', opts)).toMatchObject({ ok: true });
    expect(validateIdNumber('HK_MACAO_PERMIT', '12345678', opts)).toEqual({ ok: false, code: 'ID_FORMAT', reason: 'FORMAT' });
    expect(validateIdNumber('TAIWAN_PERMIT', '12345678', opts)).toEqual({ ok: true, normalized: '12345678' });
    expect(validateIdNumber('TAIWAN_PERMIT', 'H12345678', opts)).toEqual({ ok: false, code: 'ID_FORMAT', reason: 'FORMAT' });
  });

  it('OTHER: anything non-empty', () => {
    expect(validateIdNumber('OTHER', ' 某证件 No.1 ', opts)).toEqual({ ok: true, normalized: '某证件 No.1' });
    expect(validateIdNumber('OTHER', '-', opts)).toMatchObject({ ok: true });
    expect(validateIdNumber('OTHER', ' ', opts)).toEqual({ ok: false, code: 'ID_FORMAT', reason: 'EMPTY' });
    expect(validateIdNumber('OTHER', null, opts)).toEqual({ ok: false, code: 'ID_FORMAT', reason: 'EMPTY' });
  });
});

describe('comparing document numbers', () => {
  it('puts RESIDENT_ID and HOUSEHOLD_REGISTER in one family', () => {
    expect(idTypeFamily('HOUSEHOLD_REGISTER')).toBe('RESIDENT_ID');
    expect(idTypeFamily('RESIDENT_ID')).toBe('RESIDENT_ID');
    expect(idTypeFamily('PASSPORT')).toBe('PASSPORT');
  });

  it('canonicalIdNumber normalises and upgrades legacy resident numbers', () => {
    const legacy = '320102850412124';
    expect(canonicalIdNumber('RESIDENT_ID', legacy)).toBe(upgradeLegacyId(legacy));
    expect(canonicalIdNumber('HOUSEHOLD_REGISTER', legacy)).toBe(upgradeLegacyId(legacy));
    expect(canonicalIdNumber(null, legacy)).toBe(upgradeLegacyId(legacy));
    expect(canonicalIdNumber('OTHER', legacy)).toBe(legacy);
    expect(canonicalIdNumber('RESIDENT_ID', '11010519491231002x ')).toBe('11010519491231002X');
    expect(canonicalIdNumber('PASSPORT', ' ')).toBeNull();
    expect(canonicalIdNumber('PASSPORT', undefined)).toBeNull();
  });
});
