import {
  classifyPhone,
  isMobilePhone,
  isValidPhone,
  normalizePhone,
  parsePhone,
  samePhone,
} from '../../../src/domain/phone';

describe('normalizePhone', () => {
  it.each([
    ['13812345678', '13812345678'],
    ['+8613812345678', '13812345678'],
    ['+86 138 1234 5678', '13812345678'],
    ['+86-138-1234-5678', '13812345678'],
    ['(+86) 138 1234 5678', '13812345678'],
    ['008613812345678', '13812345678'],
    ['0086 138-1234-5678', '13812345678'],
    ['8613812345678', '13812345678'],
    ['86 138 1234 5678', '13812345678'],
    ['138.1234.5678', '13812345678'],
    ['１３８１２３４５６７８', '13812345678'],
    ['＋８６ １３８－１２３４－５６７８', '13812345678'],
    ['138\u20131234\u20145678', '13812345678'],
    ['\t138 1234 5678\n', '13812345678'],
    ['010-12345678', '01012345678'],
    ['(010) 1234 5678', '01012345678'],
    ['（０２１）６２３４５６７８', '02162345678'],
    ['0755-1234567', '07551234567'],
    ['+86 10 12345678', '01012345678'],
    ['+86-755-12345678', '075512345678'],
    ['0086 21 62345678', '02162345678'],
    ['+86 010 12345678', '01012345678'],
    ['', ''],
    ['   ', ''],
  ])('%p → %p', (raw, expected) => expect(normalizePhone(raw)).toBe(expected));

  it('keeps what it cannot read, so that it can still be compared', () => {
    expect(normalizePhone('ext. abc')).toBe('extabc');
    expect(normalizePhone(null)).toBe('');
    expect(normalizePhone(undefined)).toBe('');
  });

  it('strips a bare 86 only in front of 11 further digits', () => {
    expect(normalizePhone('861381234567')).toBe('861381234567'); // 12 digits: left alone
    expect(normalizePhone('86138123456789')).toBe('86138123456789'); // 14 digits
  });
});

describe('mobile numbers: 1[3-9] + 9 digits', () => {
  it.each(['3', '4', '5', '6', '7', '8', '9'])('accepts prefix 1%s', (d) => {
    const phone = `1${d}012345678`;
    expect(parsePhone(phone)).toEqual({ normalized: phone, kind: 'MOBILE' });
    expect(isMobilePhone(phone)).toBe(true);
    expect(isValidPhone(`+86${phone}`)).toBe(true);
  });

  it.each(['10012345678', '11012345678', '12012345678'])('refuses prefix of %s', (p) => expect(classifyPhone(p)).toBe('INVALID'));

  it.each(['1381234567', '138123456789', '2381234567A', '23812345678'])('refuses %s', (p) => expect(classifyPhone(p)).toBe('INVALID'));
});

describe('landlines: area code then 7-8 digits', () => {
  it.each([
    ['010-12345678', '010'],
    ['01012345678', '010'],
    ['010-1234567', '010'],
    ['020-87654321', '020'],
    ['029 8765432', '029'],
    ['0755-12345678', '0755'],
    ['07551234567', '0755'],
    ['0931-8123456', '0931'],
    ['0351 81234567', '0351'],
  ])('accepts %s with area code %s', (raw, areaCode) => {
    expect(parsePhone(raw)).toEqual({ normalized: raw.replace(/[-\s]/g, ''), kind: 'LANDLINE', areaCode });
    expect(isValidPhone(raw)).toBe(true);
    expect(isMobilePhone(raw)).toBe(false);
  });

  it.each([
    '010-123456', // 6-digit local number
    '010-123456789', // 9
    '0755-123456',
    '0755-123456789',
    '001-12345678', // 00 is the international prefix
    '0012345678',
    '12345678', // no area code
    '1234567',
    '010',
    '0',
  ])('refuses %s', (raw) => expect(classifyPhone(raw)).toBe('INVALID'));
});

describe('isValidPhone and samePhone', () => {
  it.each(['', ' ', 'abc', '无', '123', '00000000000', '99999999999'])('refuses %p', (raw) =>
    expect(isValidPhone(raw)).toBe(false),
  );
  it('refuses null and undefined', () => {
    expect(isValidPhone(null)).toBe(false);
    expect(isValidPhone(undefined)).toBe(false);
  });

  it('compares by the canonical form', () => {
    expect(samePhone('+86 138-1234-5678', '13812345678')).toBe(true);
    expect(samePhone('0086１３８１２３４５６７８', '8613812345678')).toBe(true);
    expect(samePhone('010-12345678', '+86 10 1234 5678')).toBe(true);
    expect(samePhone('13812345678', '13812345679')).toBe(false);
    expect(samePhone('', '')).toBe(false);
    expect(samePhone(' ', null)).toBe(false);
    expect(samePhone('13812345678', null)).toBe(false);
  });
});
