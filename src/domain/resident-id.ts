/**
 * Chinese identity numbers (DOMAIN.md "Identity documents and formats").
 *
 * - Resident ID, GB 11643-1999: 6-digit region (GB/T 2260), 8-digit birth date
 *   YYYYMMDD, 3-digit sequence (odd = male, even = female), 1 check character
 *   by ISO 7064 MOD 11-2.
 * - Legacy 15-digit resident ID: 6-digit region, YYMMDD read as 19YY, 3-digit
 *   sequence, no check character.
 * - Residence permits of Hong Kong, Macau and Taiwan residents (prefix 81, 82,
 *   83) and the 2023 foreigner's permanent residence ID (prefix 9): same
 *   18-character layout and check.
 *
 * Normalisation (what `normalized` holds): Unicode NFKC (full-width digits and
 * letters become ASCII), every whitespace removed, letters upper-cased (a
 * lower-case check `x` becomes `X`).
 */
import { Gender, IdType } from './enums';
import { isRealDate, todayInChina } from './dates';

export type ResidentIdKind = 'RESIDENT' | 'LEGACY_15' | 'HMT_PERMIT' | 'FOREIGN_PERMANENT';

/** Why a number is not a valid resident ID, in the order the checks run. */
export type ResidentIdFailure =
  | 'EMPTY'
  | 'LENGTH' // neither 18 nor 15 characters
  | 'CHARSET' // 18: 17 digits + digit/X; 15: 15 digits
  | 'REGION' // unknown province code, or a prefix no document uses
  | 'BIRTH_DATE' // not a real calendar date
  | 'BIRTH_DATE_BEFORE_1900'
  | 'BIRTH_DATE_FUTURE' // after `today`
  | 'CHECK_DIGIT';

export type ResidentIdResult =
  | { ok: true; normalized: string; birthDate: string; gender: Gender; kind: ResidentIdKind }
  | { ok: false; reason: ResidentIdFailure };

export interface ResidentIdOptions {
  /** `YYYY-MM-DD`; birth dates after it are refused. Defaults to today in China. */
  today?: string;
}

/** ISO 7064 MOD 11-2 weights of positions 1..17 (GB 11643-1999 §6.2). */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
/** Check character for remainder 0..10 of the weighted sum modulo 11. */
const CHECK_CHARS = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'] as const;

/**
 * Province-level codes of GB/T 2260 that open a mainland resident ID:
 * 11-15, 21-23, 31-37, 41-46, 50-54, 61-65 and 71 (Taiwan).
 */
const PROVINCE_CODES = new Set([
  '11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37',
  '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64',
  '65', '71',
]);
/** Prefixes of the residence permits of HK (81), Macau (82) and Taiwan (83) residents. */
const HMT_PREFIXES = new Set(['81', '82', '83']);

/** NFKC, no whitespace, upper case: the normalised form of any document number. */
export function normalizeDocumentNumber(raw: string): string {
  return raw.normalize('NFKC').replace(/\s+/gu, '').toUpperCase();
}

/**
 * ISO 7064 MOD 11-2 check character of the first 17 digits (GB 11643-1999 §6.2):
 * sum of digit × weight, modulo 11, mapped through `1 0 X 9 8 7 6 5 4 3 2`.
 * Throws a RangeError unless given exactly 17 ASCII digits.
 */
export function checkDigit(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new RangeError('checkDigit expects exactly 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i];
  return CHECK_CHARS[sum % 11];
}

function kindOf18(id: string): ResidentIdKind | null {
  if (id[0] === '9') return 'FOREIGN_PERMANENT';
  const prefix = id.slice(0, 2);
  if (HMT_PREFIXES.has(prefix)) return 'HMT_PERMIT';
  return PROVINCE_CODES.has(prefix) ? 'RESIDENT' : null;
}

function checkBirthDate(
  yyyymmdd: string,
  today: string,
): { ok: true; birthDate: string } | { ok: false; reason: ResidentIdFailure } {
  const [y, m, d] = [yyyymmdd.slice(0, 4), yyyymmdd.slice(4, 6), yyyymmdd.slice(6, 8)];
  if (!isRealDate(Number(y), Number(m), Number(d))) return { ok: false, reason: 'BIRTH_DATE' };
  const birthDate = `${y}-${m}-${d}`;
  if (birthDate < '1900-01-01') return { ok: false, reason: 'BIRTH_DATE_BEFORE_1900' };
  if (birthDate > today) return { ok: false, reason: 'BIRTH_DATE_FUTURE' };
  return { ok: true, birthDate };
}

/** Odd sequence digit = male, even = female (GB 11643-1999 §5.3). */
function genderOf(sequenceDigit: string): Gender {
  return Number(sequenceDigit) % 2 === 1 ? 'MALE' : 'FEMALE';
}

/**
 * Parses and validates an 18-character resident ID / HMT residence permit /
 * foreigner's permanent residence ID, or a 15-digit legacy resident ID.
 * The kind follows from the prefix: `9` foreign permanent, `81`-`83` HMT
 * permit, a GB/T 2260 province code resident (15-digit numbers: resident only).
 */
export function parseResidentId(raw: string | null | undefined, options: ResidentIdOptions = {}): ResidentIdResult {
  const id = normalizeDocumentNumber(raw ?? '');
  if (id === '') return { ok: false, reason: 'EMPTY' };
  const today = options.today ?? todayInChina();
  if (id.length === 18) {
    if (!/^\d{17}[\dX]$/.test(id)) return { ok: false, reason: 'CHARSET' };
    const kind = kindOf18(id);
    if (!kind) return { ok: false, reason: 'REGION' };
    const date = checkBirthDate(id.slice(6, 14), today);
    if (!date.ok) return date;
    if (checkDigit(id.slice(0, 17)) !== id[17]) return { ok: false, reason: 'CHECK_DIGIT' };
    return { ok: true, normalized: id, birthDate: date.birthDate, gender: genderOf(id[16]), kind };
  }
  if (id.length === 15) {
    if (!/^\d{15}$/.test(id)) return { ok: false, reason: 'CHARSET' };
    if (!PROVINCE_CODES.has(id.slice(0, 2))) return { ok: false, reason: 'REGION' };
    const date = checkBirthDate(`19${id.slice(6, 12)}`, today);
    if (!date.ok) return date;
    return { ok: true, normalized: id, birthDate: date.birthDate, gender: genderOf(id[14]), kind: 'LEGACY_15' };
  }
  return { ok: false, reason: 'LENGTH' };
}

/** True when `parseResidentId` accepts the number. */
export function isValidResidentId(raw: string | null | undefined, options: ResidentIdOptions = {}): boolean {
  return parseResidentId(raw, options).ok;
}

/**
 * The 18-digit form of a 15-digit legacy number: `19` inserted before the
 * year, check character appended (the conversion of GB 11643-1999 §4).
 * Throws a RangeError unless given 15 digits.
 */
export function upgradeLegacyId(id15: string): string {
  const id = normalizeDocumentNumber(id15);
  if (!/^\d{15}$/.test(id)) throw new RangeError('upgradeLegacyId expects 15 digits');
  const first17 = `${id.slice(0, 6)}19${id.slice(6)}`;
  return first17 + checkDigit(first17);
}

export interface MakeResidentIdInput {
  /** 6-digit region code, e.g. `110105`, `810000`, or `9` + 5 digits. Default `110105`. */
  region?: string;
  /** `YYYY-MM-DD`. */
  birthDate: string;
  /** 0..999; its parity is the gender. Default: 1 for MALE, 2 for FEMALE (MALE when neither is given). */
  sequence?: number;
  gender?: Gender;
}

/**
 * Builds an 18-character number with a correct check character, for tests and
 * demo data. Throws a RangeError on a malformed region, date or sequence, or a
 * sequence whose parity contradicts `gender`. The result parses when the
 * prefix is a known one and the date lies between 1900 and `today`.
 */
export function makeResidentId(input: MakeResidentIdInput): string {
  const region = input.region ?? '110105';
  if (!/^\d{6}$/.test(region)) throw new RangeError('region must be 6 digits');
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(input.birthDate);
  if (!m || !isRealDate(Number(m[1]), Number(m[2]), Number(m[3]))) {
    throw new RangeError('birthDate must be a real YYYY-MM-DD date');
  }
  const sequence = input.sequence ?? (input.gender === 'FEMALE' ? 2 : 1);
  if (!Number.isInteger(sequence) || sequence < 0 || sequence > 999) {
    throw new RangeError('sequence must be an integer 0..999');
  }
  if (input.gender && genderOf(String(sequence % 10)) !== input.gender) {
    throw new RangeError('sequence parity contradicts gender');
  }
  const first17 = `${region}${m[1]}${m[2]}${m[3]}${String(sequence).padStart(3, '0')}`;
  return first17 + checkDigit(first17);
}

/**
 * Mainland Travel Permit for Hong Kong and Macao Residents (回乡证): `H` (Hong
 * Kong) or `M` (Macao) followed by 8 digits, or by 10 digits (the variant
 * with the 2-digit renewal count). Normalised as above, so `h12345678` passes.
 */
export function isValidHkMacaoPermit(raw: string | null | undefined): boolean {
  return /^[HM](\d{8}|\d{10})$/.test(normalizeDocumentNumber(raw ?? ''));
}

/** Mainland Travel Permit for Taiwan Residents (台胞证): 8 digits. */
export function isValidTaiwanPermit(raw: string | null | undefined): boolean {
  return /^\d{8}$/.test(normalizeDocumentNumber(raw ?? ''));
}

/**
 * Issue code of a malformed number: `ID_CHECKSUM` for the document types that
 * carry the GB 11643 layout and check character, `ID_FORMAT` for the others.
 */
export type IdNumberIssueCode = 'ID_CHECKSUM' | 'ID_FORMAT';

export type IdNumberFailure =
  | ResidentIdFailure
  /** Valid 18-character number, but of another document (e.g. an HMT permit given as RESIDENT_ID). */
  | 'KIND_MISMATCH'
  /** Does not match the pattern of its document type. */
  | 'FORMAT';

export type IdNumberResult =
  | {
      ok: true;
      normalized: string;
      /** Present for numbers that embed a birth date and gender (GB 11643 layout). */
      birthDate?: string;
      gender?: Gender;
      kind?: ResidentIdKind;
    }
  | { ok: false; code: IdNumberIssueCode; reason: IdNumberFailure };

/** Resident-ID kinds each GB 11643-shaped document type accepts. */
const GB11643_KINDS: Partial<Record<IdType, readonly ResidentIdKind[]>> = {
  RESIDENT_ID: ['RESIDENT', 'LEGACY_15'],
  HOUSEHOLD_REGISTER: ['RESIDENT', 'LEGACY_15'], // the household register carries the resident ID number
  HMT_RESIDENCE_PERMIT: ['HMT_PERMIT'],
  FOREIGN_PERMANENT_RESIDENT_ID: ['FOREIGN_PERMANENT'],
};

/** Legacy foreigner's permanent residence card: 3-letter nationality code + 12 digits. */
const LEGACY_FOREIGN_PERMANENT = /^[A-Z]{3}\d{12}$/;

const PATTERNS: Partial<Record<IdType, RegExp>> = {
  PASSPORT: /^[A-Z0-9]{5,20}$/,
  HK_MACAO_PERMIT: /^[HM](\d{8}|\d{10})$/,
  TAIWAN_PERMIT: /^\d{8}$/,
  // Military officer / soldier cards vary by service and era (e.g. 军字第…号):
  // accept up to 30 characters with at least one digit.
  MILITARY_ID: /^(?=.*\d).{1,30}$/u,
  OTHER: /^.+$/u,
};

const fail = (code: IdNumberIssueCode, reason: IdNumberFailure): IdNumberResult => ({ ok: false, code, reason });

/**
 * Validates a document number against its contract `IdType`:
 * RESIDENT_ID and HOUSEHOLD_REGISTER: 18-digit resident ID or 15-digit legacy;
 * HMT_RESIDENCE_PERMIT: 18 characters with prefix 81/82/83;
 * FOREIGN_PERMANENT_RESIDENT_ID: 18 characters with prefix 9, or the legacy
 * 3 letters + 12 digits; PASSPORT: 5..20 letters/digits; MILITARY_ID: loose
 * (≤ 30 characters, a digit); HK_MACAO_PERMIT, TAIWAN_PERMIT: see above;
 * OTHER: anything non-empty. Failures of the GB 11643 forms have code
 * `ID_CHECKSUM`, all others `ID_FORMAT`.
 */
export function validateIdNumber(idType: IdType, raw: string | null | undefined, options: ResidentIdOptions = {}): IdNumberResult {
  const normalized = normalizeDocumentNumber(raw ?? '');
  const kinds = GB11643_KINDS[idType];
  if (kinds) {
    if (idType === 'FOREIGN_PERMANENT_RESIDENT_ID' && normalized.length !== 18) {
      if (normalized === '') return fail('ID_FORMAT', 'EMPTY');
      return LEGACY_FOREIGN_PERMANENT.test(normalized) ? { ok: true, normalized } : fail('ID_FORMAT', 'FORMAT');
    }
    const parsed = parseResidentId(normalized, options);
    if (!parsed.ok) return fail('ID_CHECKSUM', parsed.reason);
    if (!kinds.includes(parsed.kind)) return fail('ID_CHECKSUM', 'KIND_MISMATCH');
    return parsed;
  }
  if (normalized === '') return fail('ID_FORMAT', 'EMPTY');
  // Military and "other" numbers may hold CJK and spaces that matter: keep them, trimmed.
  const value = idType === 'MILITARY_ID' || idType === 'OTHER' ? (raw ?? '').normalize('NFKC').trim() : normalized;
  const pattern = PATTERNS[idType] ?? PATTERNS.OTHER!;
  return pattern.test(value) ? { ok: true, normalized: value } : fail('ID_FORMAT', 'FORMAT');
}

/**
 * Family of a document type for comparing numbers: RESIDENT_ID and
 * HOUSEHOLD_REGISTER carry the same resident ID number; others are their own.
 */
export function idTypeFamily(idType: IdType): string {
  return idType === 'HOUSEHOLD_REGISTER' ? 'RESIDENT_ID' : idType;
}

/**
 * The number to compare two documents by: normalised, and a 15-digit legacy
 * resident number upgraded to its 18-digit form (when the type is a resident
 * one or unknown). `null` when blank.
 */
export function canonicalIdNumber(idType: IdType | null | undefined, raw: string | null | undefined): string | null {
  const number = normalizeDocumentNumber(raw ?? '');
  if (number === '') return null;
  const residentLike = !idType || idTypeFamily(idType) === 'RESIDENT_ID';
  return residentLike && /^\d{15}$/.test(number) ? upgradeLegacyId(number) : number;
}
