/**
 * Phone numbers (DOMAIN.md "Identity documents and formats"; Art. 2 and 6 of
 * the measures make the policyholder's phone required).
 *
 * Canonical form, which is what is compared and hashed elsewhere:
 * 1. Unicode NFKC (full-width digits, `＋`, `（）`, `－` become ASCII);
 * 2. spaces, dashes (ASCII and Unicode), dots and parentheses removed;
 * 3. a country prefix removed: `+86`, `0086`, or a bare `86` in front of 11
 *    further digits (a 13-digit string); after an explicit `+86`/`0086` a
 *    landline written internationally (`+86 10 …`) gets its trunk `0` back;
 * 4. what remains is returned as is (digits for a usable number; anything
 *    else is kept so that it can still be compared and is reported invalid).
 *
 * Mainland mobile: `1[3-9]` + 9 digits. Landline: area code then a 7-8 digit
 * local number, with or without a dash. Area codes follow the national plan:
 * `010` and `02X` have three digits, every other code (`0[3-9]XX`) four.
 */

export type PhoneKind = 'MOBILE' | 'LANDLINE' | 'INVALID';

export interface ParsedPhone {
  /** Canonical form (see the file comment). */
  normalized: string;
  kind: PhoneKind;
  /** Area code of a landline, e.g. `010` or `0755`. */
  areaCode?: string;
}

const SEPARATORS = /[\s\-\u2010-\u2015\u2212.()]/gu;
const MOBILE = /^1[3-9]\d{9}$/;
/** Three-digit area codes (010, 020-029) and four-digit ones (0[3-9]XX), then 7-8 digits. */
const LANDLINE = /^(0(?:10|2\d)|0[3-9]\d{2})(\d{7,8})$/;

/** Canonical form of a phone number (see the file comment); `''` for blank input. */
export function normalizePhone(raw: string | null | undefined): string {
  let s = (raw ?? '').normalize('NFKC').replace(SEPARATORS, '');
  let international = false;
  if (s.startsWith('+86')) {
    s = s.slice(3);
    international = true;
  } else if (s.startsWith('0086')) {
    s = s.slice(4);
    international = true;
  } else if (/^86\d{11}$/.test(s)) {
    s = s.slice(2);
  }
  if (international && !s.startsWith('0') && !MOBILE.test(s) && LANDLINE.test(`0${s}`)) {
    s = `0${s}`;
  }
  return s;
}

/** Normalises and classifies a phone number. */
export function parsePhone(raw: string | null | undefined): ParsedPhone {
  const normalized = normalizePhone(raw);
  if (MOBILE.test(normalized)) return { normalized, kind: 'MOBILE' };
  const landline = LANDLINE.exec(normalized);
  if (landline) return { normalized, kind: 'LANDLINE', areaCode: landline[1] };
  return { normalized, kind: 'INVALID' };
}

/** `MOBILE`, `LANDLINE` or `INVALID` after normalisation. */
export function classifyPhone(raw: string | null | undefined): PhoneKind {
  return parsePhone(raw).kind;
}

/** True for a mainland mobile number or a landline with area code. */
export function isValidPhone(raw: string | null | undefined): boolean {
  return classifyPhone(raw) !== 'INVALID';
}

/** True for a mainland mobile number (`1[3-9]` + 9 digits). */
export function isMobilePhone(raw: string | null | undefined): boolean {
  return classifyPhone(raw) === 'MOBILE';
}

/** True when both numbers are non-blank and have the same canonical form. */
export function samePhone(a: string | null | undefined, b: string | null | undefined): boolean {
  const na = normalizePhone(a);
  return na !== '' && na === normalizePhone(b);
}
