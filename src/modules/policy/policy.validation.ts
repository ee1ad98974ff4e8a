/**
 * The field checks shared by the two writers of policy data (submitSales and
 * submitCorrection, contract README "Writes"): the field-error vocabulary,
 * the column limits, the policy number's form and one person's fields. Both
 * writers check a person exactly alike, so a value one accepts the other
 * accepts too. Pure: no I/O, no personal data in any message.
 */
import { isIsoDate } from '../../domain/dates';
import { isGender, isIdType, type Gender, type IdType, type Relationship } from '../../domain/enums';

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

/** A policy record that can be stored (a sales record after its checks). */
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

/** The longest idempotency key of a write (submitSales, submitCorrection). */
export const MAX_IDEMPOTENCY_KEY = 128;

/** Column widths of the policy and person fields (characters). */
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
export const POLICY_NO = /^[A-Za-z0-9\-_/]+$/;
/** DATE columns hold years 1000..9999 on MySQL. */
export const EARLIEST_DATE = '1000-01-01';

/** Gathers the field errors of one record or request. */
export class Collector {
  readonly errors: FieldErrorData[] = [];
  add(field: string, code: FieldErrorCode, message: string): void {
    this.errors.push({ field, code, message });
  }
}

/** Trimmed string, null when absent or blank; an error for anything else or too long. */
export function text(value: unknown, field: string, max: number, errors: Collector): string | null {
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

/** A value of an enum, null when absent; an error for anything else. */
export function member<T extends string>(value: unknown, field: string, guard: (v: unknown) => v is T, errors: Collector): T | null {
  if (value === null || value === undefined) return null;
  if (guard(value)) return value;
  errors.add(field, 'INVALID', `${field} is not one of the values of its enum`);
  return null;
}

/** A calendar date `YYYY-MM-DD` from `earliest` on, null when absent; an error for anything else. */
export function date(value: unknown, field: string, errors: Collector, earliest: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string' || !isIsoDate(value.trim()) || value.trim() < earliest) {
    errors.add(field, 'INVALID', `${field} must be a calendar date YYYY-MM-DD from ${earliest} on`);
    return null;
  }
  return value.trim();
}

/** One person's fields, checked into `errors` under `path`: the clean form (blank strings are null). */
export function cleanPerson(input: PersonInputData | null | undefined, path: string, errors: Collector): CleanPerson {
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
