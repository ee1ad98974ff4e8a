/**
 * Masking of ID numbers and phones for callers without full-PII access
 * (contract README "Who may do what"; JR/T 0171 classes ID numbers and
 * mobiles as data to encrypt and mask). A masked value has the same length as
 * the value it hides, `*` in place of each hidden character, and never shows
 * more than the documented head and tail.
 */
import { normalizeDocumentNumber } from './resident-id';
import { parsePhone } from './phone';

/**
 * Keeps `head` leading and `tail` trailing characters (code points) and puts
 * `*` for every other one; a value no longer than `head + tail` is hidden
 * whole. Without explicit counts it keeps ⌊n/4⌋ at each end, so at most half
 * of the value shows and values of 3 or fewer characters are hidden whole.
 */
export function maskMiddle(value: string, head?: number, tail?: number): string {
  const chars = Array.from(value);
  const n = chars.length;
  const h = head ?? Math.floor(n / 4);
  const t = tail ?? Math.floor(n / 4);
  if (h + t >= n) return '*'.repeat(n);
  return chars.slice(0, h).join('') + '*'.repeat(n - h - t) + chars.slice(n - t).join('');
}

/**
 * `110105199001011234` → `110105********1234`: a resident-ID-shaped number
 * (18 characters, or 15 digits) keeps its 6-digit region and last 4. Any
 * other number keeps ⌊n/4⌋ characters at each end (at most half).
 * Whitespace is removed first. `null`/`undefined` stay as they are.
 */
export function maskIdNumber(raw: string): string;
export function maskIdNumber(raw: string | null | undefined): string | null;
export function maskIdNumber(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  const id = normalizeDocumentNumber(raw);
  if (/^\d{17}[\dX]$/.test(id) || /^\d{15}$/.test(id)) return maskMiddle(id, 6, 4);
  return maskMiddle(id);
}

/**
 * Masks the canonical form of a phone: a mobile keeps its first 3 and last 4
 * digits (`138****5678`); a landline keeps its area code and last 4
 * (`010****5678`); anything else keeps ⌊n/4⌋ characters at each end.
 * `null`/`undefined` stay as they are.
 */
export function maskPhone(raw: string): string;
export function maskPhone(raw: string | null | undefined): string | null;
export function maskPhone(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  const phone = parsePhone(raw);
  if (phone.kind === 'MOBILE') return maskMiddle(phone.normalized, 3, 4);
  if (phone.kind === 'LANDLINE') return maskMiddle(phone.normalized, phone.areaCode!.length, 4);
  return maskMiddle(phone.normalized);
}
