/**
 * Record-level checks of a sales push (contract README "Writes"): what makes
 * a record impossible to store, reported as field errors, and the normalised
 * form of everything else. Pure: no I/O, no personal data in any message.
 */
import { isLongTerm, LONG_TERM_THRESHOLD_MONTHS } from '../../domain/scope';
import { canonicalJson } from '../../domain/canonical-json';
import { sha256Hex } from '../../domain/sha256';
import { isIsoDate, todayInChina } from '../../domain/dates';
import { isGender, isIdType, isRelationship, type Gender, type IdType, type Relationship } from '../../domain/enums';

/** A field-level reason a record was rejected (contract `FieldError`). */
export interface FieldErrorData {
  /** Field path, e.g. `termMonths`, `policyholder.name`, `beneficiaries[1].sharePercent`. */
  field: string;
  /** Stable code: see {@link FIELD_ERROR_CODES}. */
  code: FieldErrorCode;
  /** Plain English, never the value itself. */
  message: string;
}

export const FIELD_ERROR_CODES = [
  /** A required value is absent or blank. */
  'REQUIRED',
  /** Longer than the column allows. */
  'TOO_LONG',
  /** Wrong shape: unknown enum value, not a date, out of range, characters not allowed. */
  'INVALID',
  /** `termMonths <= 12`: outside the measures (Art. 3: individual life policies over one year). */
  'TERM_TOO_SHORT',
  /** The same policy number earlier in the same batch. */
  'DUPLICATE_IN_BATCH',
  /** The policy number is held by a policy of another channel (or sold directly). */
  'DUPLICATE_POLICY',
  /** The policy is already UNDERWRITTEN: changes go through submitCorrection. */
  'ALREADY_UNDERWRITTEN',
] as const;
export type FieldErrorCode = (typeof FIELD_ERROR_CODES)[number];

/** A person as it arrives (GraphQL `PersonInput`, or an import line); values are checked, not trusted. */
export interface PersonInputData {
  name?: unknown;
  gender?: unknown;
  birthDate?: unknown;
  idType?: unknown;
  idNumber?: unknown;
  phone?: unknown;
  address?: unknown;
}

export interface BeneficiaryInputData {
  person?: PersonInputData | null;
  relationshipToInsured?: unknown;
  sharePercent?: unknown;
  order?: unknown;
}

/** A record as it arrives (GraphQL `SalesRecordInput`). */
export interface SalesRecordData {
  policyNo?: unknown;
  productCode?: unknown;
  termMonths?: unknown;
  applicationDate?: unknown;
  salesPersonCode?: unknown;
  policyholder?: PersonInputData | null;
  insured?: PersonInputData | null;
  insuredRelationship?: unknown;
  beneficiaries?: BeneficiaryInputData[] | null;
}

/** A person after trimming: blank strings are null. */
export interface CleanPerson {
  name: string | null;
  gender: Gender | null;
  birthDate: string | null;
  idType: IdType | null;
  idNumber: string | null;
  phone: string | null;
  address: string | null;
}

export interface CleanBeneficiary {
  person: CleanPerson;
  relationshipToInsured: Relationship | null;
  /** Decimal text (at most 4 decimals), as stored. */
  sharePercent: string | null;
  order: number | null;
}

/** A record that can be stored. */
export interface CleanRecord {
  policyNo: string;
  productCode: string;
  termMonths: number;
  applicationDate: string;
  salesPersonCode: string | null;
  policyholder: CleanPerson;
  insured: CleanPerson;
  insuredRelationship: Relationship | null;
  beneficiaries: CleanBeneficiary[];
}

export type RecordCheck = { ok: true; record: CleanRecord } | { ok: false; policyNo: string; errors: FieldErrorData[] };

/**
 * The largest batch `submitSales` takes; more is BAD_USER_INPUT before anything
 * is written. 500 keeps the batch's single transfer-log entry (it lists every
 * accepted policy number, up to 64 characters each) inside a MySQL TEXT column.
 */
export const MAX_BATCH_RECORDS = 500;
export const MAX_IDEMPOTENCY_KEY = 128;
export const MAX_BENEFICIARIES = 20;
/** Longest term accepted (125 years): anything longer is a unit mistake. */
export const MAX_TERM_MONTHS = 1500;

export const LIMITS = {
  policyNo: 64,
  productCode: 64,
  salesPersonCode: 64,
  name: 100,
  idNumber: 64,
  phone: 32,
  address: 500,
} as const;

/** Policy numbers: letters, digits, `-`, `_`, `/`; compared and stored upper-case (MySQL's collation ignores case, SQLite's does not). */
const POLICY_NO = /^[A-Za-z0-9\-_/]+$/;
/** Product and sales person codes: printable, no spaces inside. */
const CODE = /^[A-Za-z0-9\-_/.]+$/;
/** DATE columns hold years 1000..9999 on MySQL. */
const EARLIEST_DATE = '1000-01-01';
const EARLIEST_APPLICATION = '1900-01-01';

class Collector {
  readonly errors: FieldErrorData[] = [];
  add(field: string, code: FieldErrorCode, message: string): void {
    this.errors.push({ field, code, message });
  }
}

/** Trimmed string, null when absent or blank; an error for anything else or too long. */
function text(value: unknown, field: string, max: number, errors: Collector): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') {
    errors.add(field, 'INVALID', `${field} must be a string`);
    return null;
  }
  const trimmed = value.trim();
  if (trimmed === '') return null;
  if (Array.from(trimmed).length > max) {
    errors.add(field, 'TOO_LONG', `${field} must be at most ${max} characters`);
    return null;
  }
  return trimmed;
}

function member<T extends string>(value: unknown, field: string, guard: (v: unknown) => v is T, errors: Collector): T | null {
  if (value === null || value === undefined) return null;
  if (guard(value)) return value;
  errors.add(field, 'INVALID', `${field} is not one of the values of its enum`);
  return null;
}

function date(value: unknown, field: string, errors: Collector, earliest: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string' || !isIsoDate(value.trim()) || value.trim() < earliest) {
    errors.add(field, 'INVALID', `${field} must be a calendar date YYYY-MM-DD from ${earliest} on`);
    return null;
  }
  return value.trim();
}

function cleanPerson(input: PersonInputData | null | undefined, path: string, errors: Collector): CleanPerson {
  const p = input ?? {};
  return {
    name: text(p.name, `${path}.name`, LIMITS.name, errors),
    gender: member(p.gender, `${path}.gender`, isGender, errors),
    birthDate: date(p.birthDate, `${path}.birthDate`, errors, EARLIEST_DATE),
    idType: member(p.idType, `${path}.idType`, isIdType, errors),
    idNumber: text(p.idNumber, `${path}.idNumber`, LIMITS.idNumber, errors),
    phone: text(p.phone, `${path}.phone`, LIMITS.phone, errors),
    address: text(p.address, `${path}.address`, LIMITS.address, errors),
  };
}

/**
 * Checks one person's fields exactly as a sales record's are checked (field
 * paths under `path`, e.g. `changes.phone`): the clean form (blank strings
 * are null) and the field errors. Used by submitCorrection.
 */
export function checkPerson(input: PersonInputData | null | undefined, path: string): { person: CleanPerson; errors: FieldErrorData[] } {
  const errors = new Collector();
  const person = cleanPerson(input, path, errors);
  return { person, errors: errors.errors };
}

/** The policy number as stored and compared: trimmed, upper-case. */
export function normalizePolicyNo(value: unknown): string {
  return typeof value === 'string' ? value.trim().toUpperCase() : '';
}

/** A sales person code as stored and compared: trimmed, upper-case; null when blank. */
export function normalizeSalesPersonCode(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const code = value.trim().toUpperCase();
  return code === '' ? null : code;
}

/**
 * Checks one record and returns its clean form, or every field error found.
 * Completeness gaps are NOT errors: a record missing a phone is stored and
 * reported INCOMPLETE. `today` (YYYY-MM-DD, China) bounds the application date.
 */
export function checkRecord(input: SalesRecordData, today: string = todayInChina()): RecordCheck {
  const errors = new Collector();
  const rawPolicyNo = normalizePolicyNo(input.policyNo);
  let policyNo = rawPolicyNo;
  if (typeof input.policyNo !== 'string' || rawPolicyNo === '') {
    errors.add('policyNo', 'REQUIRED', 'policyNo is required');
  } else if (rawPolicyNo.length > LIMITS.policyNo) {
    errors.add('policyNo', 'TOO_LONG', `policyNo must be at most ${LIMITS.policyNo} characters`);
    policyNo = rawPolicyNo.slice(0, LIMITS.policyNo);
  } else if (!POLICY_NO.test(rawPolicyNo)) {
    errors.add('policyNo', 'INVALID', 'policyNo may hold only letters, digits, "-", "_" and "/"');
  }

  const productCode = text(input.productCode, 'productCode', LIMITS.productCode, errors);
  if (productCode === null && !errors.errors.some((e) => e.field === 'productCode')) errors.add('productCode', 'REQUIRED', 'productCode is required');
  else if (productCode !== null && !CODE.test(productCode)) errors.add('productCode', 'INVALID', 'productCode may hold only letters, digits, "-", "_", "/" and "."');

  const term = input.termMonths;
  if (typeof term !== 'number' || !Number.isInteger(term)) {
    errors.add('termMonths', term === null || term === undefined ? 'REQUIRED' : 'INVALID', 'termMonths must be a whole number of months');
  } else if (!isLongTerm(term)) {
    errors.add('termMonths', 'TERM_TOO_SHORT', `termMonths must be more than ${LONG_TERM_THRESHOLD_MONTHS}: the measures cover policies with a term over one year`);
  } else if (term > MAX_TERM_MONTHS) {
    errors.add('termMonths', 'INVALID', `termMonths must be at most ${MAX_TERM_MONTHS}`);
  }

  let applicationDate: string | null = null;
  if (input.applicationDate === null || input.applicationDate === undefined) {
    errors.add('applicationDate', 'REQUIRED', 'applicationDate is required');
  } else {
    applicationDate = date(input.applicationDate, 'applicationDate', errors, EARLIEST_APPLICATION);
    if (applicationDate !== null && applicationDate > today) {
      errors.add('applicationDate', 'INVALID', 'applicationDate is in the future');
      applicationDate = null;
    }
  }

  const sellerText = text(input.salesPersonCode, 'salesPersonCode', LIMITS.salesPersonCode, errors);
  if (sellerText !== null && !CODE.test(sellerText)) errors.add('salesPersonCode', 'INVALID', 'salesPersonCode may hold only letters, digits, "-", "_", "/" and "."');
  const salesPersonCode = normalizeSalesPersonCode(sellerText);

  const policyholder = cleanPerson(input.policyholder, 'policyholder', errors);
  const insured = cleanPerson(input.insured, 'insured', errors);
  const insuredRelationship = member(input.insuredRelationship, 'insuredRelationship', isRelationship, errors);

  const beneficiaries: CleanBeneficiary[] = [];
  const rawBeneficiaries = input.beneficiaries ?? [];
  if (!Array.isArray(rawBeneficiaries)) {
    errors.add('beneficiaries', 'INVALID', 'beneficiaries must be a list');
  } else if (rawBeneficiaries.length > MAX_BENEFICIARIES) {
    errors.add('beneficiaries', 'INVALID', `at most ${MAX_BENEFICIARIES} beneficiaries per policy`);
  } else {
    rawBeneficiaries.forEach((b, i) => {
      const path = `beneficiaries[${i}]`;
      const share = b?.sharePercent;
      let sharePercent: string | null = null;
      if (share !== null && share !== undefined) {
        if (typeof share !== 'number' || !Number.isFinite(share) || share <= 0 || share > 100) {
          errors.add(`${path}.sharePercent`, 'INVALID', `${path}.sharePercent must be more than 0 and at most 100`);
        } else {
          sharePercent = String(Math.round(share * 10_000) / 10_000);
        }
      }
      const order = b?.order;
      if (order !== null && order !== undefined && (typeof order !== 'number' || !Number.isInteger(order) || order < 1 || order > 99)) {
        errors.add(`${path}.order`, 'INVALID', `${path}.order must be a whole number from 1 to 99`);
      }
      beneficiaries.push({
        person: cleanPerson(b?.person, path, errors),
        relationshipToInsured: member(b?.relationshipToInsured, `${path}.relationshipToInsured`, isRelationship, errors),
        sharePercent,
        order: typeof order === 'number' && Number.isInteger(order) ? order : null,
      });
    });
  }

  if (errors.errors.length > 0) return { ok: false, policyNo, errors: errors.errors };
  // Stored and reported in the order the API lists them: by `order` (none first), then as sent.
  const rank = (b: CleanBeneficiary) => (b.order === null ? 0 : b.order);
  beneficiaries.sort((a, b) => rank(a) - rank(b));
  return {
    ok: true,
    record: {
      policyNo,
      productCode: productCode!,
      termMonths: term as number,
      applicationDate: applicationDate!,
      salesPersonCode,
      policyholder,
      insured,
      insuredRelationship,
      beneficiaries,
    },
  };
}

/** Drops null/undefined keys and writes fractions as text, so that canonicalJson takes any input. */
function canonicalValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : `n:${String(value)}`;
  if (typeof value === 'bigint' || typeof value === 'symbol' || typeof value === 'function') return `?:${String(value)}`;
  if (value instanceof Date) return value;
  if (Array.isArray(value)) return value.map(canonicalValue);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === null || v === undefined) continue;
      out[k] = canonicalValue(v);
    }
    return out;
  }
  return value;
}

/**
 * SHA-256 (hex) of the canonical JSON of a request: the insurer code and the
 * records as received, an absent field and a null one alike. The same
 * idempotency key with another hash is refused.
 */
export function payloadHash(insurerCode: string, records: readonly SalesRecordData[]): string {
  return sha256Hex(canonicalJson({ insurerCode: insurerCode.trim().toUpperCase(), records: canonicalValue(records) }));
}
