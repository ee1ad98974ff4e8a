import {
  checkDigit,
  isValidResidentId,
  makeResidentId,
  normalizeDocumentNumber,
  parseResidentId,
  upgradeLegacyId,
} from '../../../src/domain/resident-id';
import { TODAY } from './fixtures';

const opts = { today: TODAY };

describe('checkDigit (ISO 7064 MOD 11-2)', () => {
  it('matches the worked examples of GB 11643-1999', () => {
    expect(checkDigit('11010519491231002')).toBe('X');
    expect(checkDigit('44052418800101001')).toBe('4');
  });

  it('yields each check character for some sequence', () => {
    const seen = new Set<string>();
    for (let s = 0; s < 200; s++) seen.add(makeResidentId({ birthDate: '1985-06-15', sequence: s }).slice(-1));
    expect([...seen].sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'X']);
  });

  it.each(['', '1234567890123456', '123456789012345678', '1101051949123100A', '１１０１０５１９４９１２３１００２'])(
    'refuses %p (needs exactly 17 ASCII digits)',
    (bad) => expect(() => checkDigit(bad)).toThrow(RangeError),
  );
});

describe('parseResidentId: 18 characters', () => {
  it('accepts a valid resident ID and reads birth date, gender and kind', () => {
    const id = makeResidentId({ region: '110105', birthDate: '1990-01-01', sequence: 123 });
    expect(parseResidentId(id, opts)).toEqual({
      ok: true,
      normalized: id,
      birthDate: '1990-01-01',
      gender: 'MALE',
      kind: 'RESIDENT',
    });
  });

  it('reads gender from the parity of the 17th character', () => {
    for (const [sequence, gender] of [[1, 'MALE'], [2, 'FEMALE'], [9, 'MALE'], [10, 'FEMALE'], [0, 'FEMALE'], [999, 'MALE']] as const) {
      const id = makeResidentId({ birthDate: '1975-03-03', sequence });
      expect(parseResidentId(id, opts)).toMatchObject({ ok: true, gender });
    }
  });

  it('accepts an X check character and normalises lower-case x to X', () => {
    const id = '11010519491231002X';
    expect(parseResidentId(id, opts)).toMatchObject({ ok: true, normalized: id, gender: 'FEMALE', birthDate: '1949-12-31' });
    expect(parseResidentId('11010519491231002x', opts)).toMatchObject({ ok: true, normalized: id });
  });

  it('normalises full-width characters and whitespace', () => {
    const id = makeResidentId({ birthDate: '1990-01-01', sequence: 3 });
    const fullWidth = id.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)));
    expect(parseResidentId(fullWidth, opts)).toMatchObject({ ok: true, normalized: id });
    expect(parseResidentId(`  ${id.slice(0, 6)} ${id.slice(6, 14)} ${id.slice(14)}\n`, opts)).toMatchObject({ ok: true, normalized: id });
    expect(normalizeDocumentNumber(' ab\u3000c ')).toBe('ABC');
  });

  it('refuses every wrong check character', () => {
    const id = makeResidentId({ birthDate: '1990-01-01', sequence: 5 });
    for (const c of '0123456789X') {
      if (c === id[17]) continue;
      expect(parseResidentId(id.slice(0, 17) + c, opts)).toEqual({ ok: false, reason: 'CHECK_DIGIT' });
    }
  });

  it('refuses a single changed digit (the check catches it)', () => {
    const id = makeResidentId({ birthDate: '1990-01-01', sequence: 5 });
    const changed = id.slice(0, 15) + ((Number(id[15]) + 1) % 10) + id.slice(16);
    expect(parseResidentId(changed, opts)).toEqual({ ok: false, reason: 'CHECK_DIGIT' });
  });

  it.each([
    ['', 'EMPTY'],
    ['   ', 'EMPTY'],
    ['1101051990010112', 'LENGTH'],
    ['1101051990010112345', 'LENGTH'],
    ['11010519900101123A', 'CHARSET'],
    ['X10105199001011234', 'CHARSET'],
    ['1101051990010112X4', 'CHARSET'],
    ['11010519900101123-', 'CHARSET'],
  ])('refuses %p as %s', (raw, reason) => {
    expect(parseResidentId(raw, opts)).toEqual({ ok: false, reason });
  });

  it('refuses null and undefined as EMPTY', () => {
    expect(parseResidentId(null, opts)).toEqual({ ok: false, reason: 'EMPTY' });
    expect(parseResidentId(undefined, opts)).toEqual({ ok: false, reason: 'EMPTY' });
  });

  it.each(['000000', '100000', '160000', '200000', '240000', '380000', '470000', '550000', '660000', '700000', '800000', '840000'])(
    'refuses region %s (no such province code or document prefix)',
    (region) => {
      expect(parseResidentId(makeResidentId({ region, birthDate: '1990-01-01' }), opts)).toEqual({ ok: false, reason: 'REGION' });
    },
  );

  it.each(['110000', '150000', '210000', '230000', '310000', '370000', '410000', '460000', '500000', '540000', '610000', '650000', '710000'])(
    'accepts province code of region %s',
    (region) => expect(isValidResidentId(makeResidentId({ region, birthDate: '1990-01-01' }), opts)).toBe(true),
  );
});

describe('parseResidentId: birth dates', () => {
  const withDate = (yyyymmdd: string) => {
    const first17 = `110105${yyyymmdd}123`;
    return first17 + checkDigit(first17);
  };

  it('treats 1900-02-29 as no date (1900 is not a leap year) and 2000-02-29 as valid', () => {
    expect(parseResidentId(withDate('19000229'), opts)).toEqual({ ok: false, reason: 'BIRTH_DATE' });
    expect(parseResidentId(withDate('20000229'), opts)).toMatchObject({ ok: true, birthDate: '2000-02-29' });
    expect(parseResidentId(withDate('20040229'), opts)).toMatchObject({ ok: true });
    expect(parseResidentId(withDate('20230229'), opts)).toEqual({ ok: false, reason: 'BIRTH_DATE' });
  });

  it.each(['19901301', '19900001', '19900100', '19900132', '19900431', '19900230', '00000000'])(
    'refuses impossible date %s',
    (d) => expect(parseResidentId(withDate(d), opts)).toEqual({ ok: false, reason: 'BIRTH_DATE' }),
  );

  it('accepts 1900-01-01 and refuses 1899-12-31', () => {
    expect(parseResidentId(withDate('19000101'), opts)).toMatchObject({ ok: true, birthDate: '1900-01-01' });
    expect(parseResidentId(withDate('18991231'), opts)).toEqual({ ok: false, reason: 'BIRTH_DATE_BEFORE_1900' });
  });

  it('accepts a birth date of today and refuses tomorrow (relative to the injected today)', () => {
    expect(parseResidentId(withDate('20260315'), opts)).toMatchObject({ ok: true, birthDate: '2026-03-15' });
    expect(parseResidentId(withDate('20260316'), opts)).toEqual({ ok: false, reason: 'BIRTH_DATE_FUTURE' });
    expect(parseResidentId(withDate('20260316'), { today: '2026-03-16' })).toMatchObject({ ok: true });
  });

  it('defaults today to the real current date', () => {
    expect(parseResidentId(withDate('21000101'))).toEqual({ ok: false, reason: 'BIRTH_DATE_FUTURE' });
    expect(parseResidentId(withDate('20000101'))).toMatchObject({ ok: true });
  });
});

describe('parseResidentId: permits with the same layout', () => {
  it.each(['810000', '820000', '830000'])('reads prefix %s as an HMT residence permit', (region) => {
    const id = makeResidentId({ region, birthDate: '1988-11-30', sequence: 2 });
    expect(parseResidentId(id, opts)).toEqual({ ok: true, normalized: id, birthDate: '1988-11-30', gender: 'FEMALE', kind: 'HMT_PERMIT' });
  });

  it('reads prefix 9 as the 2023 foreigner permanent residence ID', () => {
    const id = makeResidentId({ region: '931156', birthDate: '1979-07-01', sequence: 17 });
    expect(parseResidentId(id, opts)).toEqual({ ok: true, normalized: id, birthDate: '1979-07-01', gender: 'MALE', kind: 'FOREIGN_PERMANENT' });
  });

  it('applies the check character and date rules to permits too', () => {
    const hmt = makeResidentId({ region: '810000', birthDate: '1988-11-30' });
    const foreign = makeResidentId({ region: '911000', birthDate: '1988-11-30' });
    for (const id of [hmt, foreign]) {
      const wrong = id.slice(0, 17) + (id[17] === '0' ? '1' : '0');
      expect(parseResidentId(wrong, opts)).toEqual({ ok: false, reason: 'CHECK_DIGIT' });
    }
    expect(parseResidentId(makeResidentId({ region: '820000', birthDate: '2027-01-01' }), opts)).toEqual({
      ok: false,
      reason: 'BIRTH_DATE_FUTURE',
    });
  });
});

describe('parseResidentId: 15-digit legacy numbers', () => {
  it('reads YYMMDD as 19YY and gender from the last digit', () => {
    expect(parseResidentId('110105710203123', opts)).toEqual({
      ok: true, normalized: '110105710203123', birthDate: '1971-02-03', gender: 'MALE', kind: 'LEGACY_15',
    });
    expect(parseResidentId('110105710203124', opts)).toMatchObject({ ok: true, gender: 'FEMALE' });
  });

  it('refuses 29 February of 1900 (000229) but accepts 1996-02-29', () => {
    expect(parseResidentId('110105000229124', opts)).toEqual({ ok: false, reason: 'BIRTH_DATE' });
    expect(parseResidentId('110105960229124', opts)).toMatchObject({ ok: true, birthDate: '1996-02-29', gender: 'FEMALE' });
  });

  it.each([
    ['11010571020312X', 'CHARSET'],
    ['11010571020312a', 'CHARSET'],
    ['990105710203123', 'REGION'],
    ['810000710203123', 'REGION'],
    ['110105711303123', 'BIRTH_DATE'],
    ['11010571020312', 'LENGTH'],
  ])('refuses %p as %s', (raw, reason) => expect(parseResidentId(raw, opts)).toEqual({ ok: false, reason }));

  it('upgrades to the 18-digit form', () => {
    const upgraded = upgradeLegacyId('110105710203123');
    expect(upgraded).toBe(`11010519710203123${checkDigit('11010519710203123')}`);
    expect(parseResidentId(upgraded, opts)).toMatchObject({ ok: true, birthDate: '1971-02-03', gender: 'MALE', kind: 'RESIDENT' });
    expect(() => upgradeLegacyId('11010571020312')).toThrow(RangeError);
  });
});

describe('makeResidentId', () => {
  it('builds numbers that parse back to their parts', () => {
    const id = makeResidentId({ region: '440305', birthDate: '2001-12-31', sequence: 88 });
    expect(id).toMatch(/^44030520011231088[\dX]$/);
    expect(parseResidentId(id, opts)).toMatchObject({ ok: true, birthDate: '2001-12-31', gender: 'FEMALE' });
  });

  it('defaults region 110105 and picks the sequence from gender', () => {
    expect(makeResidentId({ birthDate: '1990-01-01' }).slice(0, 17)).toBe('11010519900101001');
    expect(makeResidentId({ birthDate: '1990-01-01', gender: 'MALE' }).slice(14, 17)).toBe('001');
    expect(makeResidentId({ birthDate: '1990-01-01', gender: 'FEMALE' }).slice(14, 17)).toBe('002');
  });

  it.each([
    [{ region: '11010', birthDate: '1990-01-01' }],
    [{ region: '11010A', birthDate: '1990-01-01' }],
    [{ birthDate: '1990-02-30' }],
    [{ birthDate: '19900101' }],
    [{ birthDate: '1990-01-01', sequence: 1000 }],
    [{ birthDate: '1990-01-01', sequence: -1 }],
    [{ birthDate: '1990-01-01', sequence: 1.5 }],
    [{ birthDate: '1990-01-01', sequence: 3, gender: 'FEMALE' as const }],
  ])('refuses %p', (input) => expect(() => makeResidentId(input)).toThrow(RangeError));
});
