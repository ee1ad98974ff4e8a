import { maskIdNumber, maskMiddle, maskPhone } from '../../../src/domain/masking';
import { makeResidentId } from '../../../src/domain/resident-id';

const revealed = (masked: string) => Array.from(masked).filter((c) => c !== '*').length;

describe('maskIdNumber', () => {
  it('keeps region and last 4 of an 18-character number (contract example)', () => {
    expect(maskIdNumber('110105199001011234')).toBe('110105********1234');
    const id = makeResidentId({ birthDate: '1985-06-15', sequence: 9 });
    expect(id.endsWith('X')).toBe(true);
    expect(maskIdNumber(id)).toBe('110105********009X');
    expect(maskIdNumber(id.toLowerCase())).toBe('110105********009X');
  });

  it('keeps region and last 4 of a 15-digit legacy number', () => {
    expect(maskIdNumber('110105710203123')).toBe('110105*****3123');
  });

  it('masks whitespace-padded and full-width input after normalising it', () => {
    expect(maskIdNumber(' 110105 19900101 1234 ')).toBe('110105********1234');
    expect(maskIdNumber('１１０１０５１９９００１０１１２３４')).toBe('110105********1234');
  });

  it('keeps the length and never more than half of other numbers', () => {
    const cases: [string, string][] = [
      ['E12345678', 'E1*****78'],
      ['H12345678', 'H1*****78'],
      ['12345678', '12****78'],
      ['AB123', 'A***3'],
      ['ABCD', 'A**D'],
      ['ABC', '***'],
      ['AB', '**'],
      ['A', '*'],
      ['', ''],
      ['ABCDEFGHIJKLMNOPQRST', 'ABCDE**********PQRST'],
      ['军字第2001988号', '军字*******8号'],
    ];
    for (const [raw, masked] of cases) {
      expect(maskIdNumber(raw)).toBe(masked);
      expect(Array.from(masked).length).toBe(Array.from(raw).length);
      expect(revealed(masked)).toBeLessThanOrEqual(Array.from(raw).length / 2);
    }
  });

  it('passes null and undefined through', () => {
    expect(maskIdNumber(null)).toBeNull();
    expect(maskIdNumber(undefined)).toBeNull();
  });
});

describe('maskPhone', () => {
  it.each([
    ['13812345678', '138****5678'],
    ['+86 138 1234 5678', '138****5678'],
    ['0086-138-1234-5678', '138****5678'],
    ['１３８１２３４５６７８', '138****5678'],
    ['010-12345678', '010****5678'],
    ['010-1234567', '010***4567'],
    ['0755-12345678', '0755****5678'],
    ['0755 1234567', '0755***4567'],
    ['+86 21 6234 5678', '021****5678'],
  ])('%p → %p', (raw, masked) => expect(maskPhone(raw)).toBe(masked));

  it('masks invalid numbers keeping at most half', () => {
    expect(maskPhone('12345')).toBe('1***5');
    expect(maskPhone('123')).toBe('***');
    expect(maskPhone('1234567890123')).toBe('123*******123');
    expect(maskPhone('')).toBe('');
  });

  it('passes null and undefined through', () => {
    expect(maskPhone(null)).toBeNull();
    expect(maskPhone(undefined)).toBeNull();
  });
});

describe('maskMiddle', () => {
  it('honours explicit counts and hides short values whole', () => {
    expect(maskMiddle('abcdefgh', 2, 1)).toBe('ab*****h');
    expect(maskMiddle('abc', 2, 1)).toBe('***');
    expect(maskMiddle('abcd', 0, 0)).toBe('****');
    expect(maskMiddle('测试甲乙丙丁', 1, 1)).toBe('测****丁');
  });
});
