/**
 * Person facts: what the completeness checks need to know about one person,
 * computed once while the clear values are at hand (at write time), so that
 * a verdict can be recomputed later from stored rows without decrypting ID
 * numbers or phones (issue 4 item 2: nothing decrypts outside the mapper that
 * builds an API response).
 *
 * `assessCompleteness` (completeness.ts) is `personFacts` of each person
 * followed by `assessFromFacts`, so the write path, the re-flagging of other
 * policies and later corrections, which all call `assessFromFacts` on stored
 * facts, give the same verdicts as the pure function on the clear record.
 *
 * Facts hold presence flags, check results, the birth date and gender an ID
 * number embeds, and two equality keys (`idKey`, `phoneKey`) made by a
 * caller-supplied function: a keyed hash (blind index) when facts are stored,
 * the canonical value itself in memory. Never the number or phone in clear
 * when stored.
 */
import type { Gender, IdType, Relationship } from './enums';
import { parseResidentId, validateIdNumber, canonicalIdNumber, type IdNumberFailure, type IdNumberIssueCode } from './resident-id';
import { classifyPhone, normalizePhone } from './phone';
import { addressProblem, type AddressProblem } from './address';
import { todayInChina } from './dates';

/** One person's customer information as received (every field optional, contract `PersonInput`). */
export interface PersonData {
  name?: string | null;
  gender?: Gender | null;
  /** `YYYY-MM-DD`. */
  birthDate?: string | null;
  idType?: IdType | null;
  idNumber?: string | null;
  phone?: string | null;
  address?: string | null;
}

/** True when a value is absent, or a string that is empty after trimming. */
export function isBlank(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
}

/** The fields of a person, in the order they are reported. */
export const PERSON_FIELDS = ['name', 'gender', 'birthDate', 'idType', 'idNumber', 'phone', 'address'] as const;
export type PersonField = (typeof PERSON_FIELDS)[number];

/** Result of `validateIdNumber` for a person with an ID type and a number. */
export type IdCheckFact =
  | { ok: true; birthDate?: string; gender?: Gender }
  | { ok: false; code: IdNumberIssueCode; reason: IdNumberFailure };

export interface PersonFacts {
  /** Format version of the stored JSON. */
  v: 1;
  /** Fields that are blank (absent, or empty after trimming). */
  blank: PersonField[];
  /** `validateIdNumber(idType, idNumber, {today})` at the time the facts were made; null without a type or a number. */
  idCheck: IdCheckFact | null;
  /**
   * Birth date and gender embedded in the number when it parses as a GB 11643
   * number (whatever its type, ignoring only the "birth date in the future"
   * rule, which the relationship checks apply against the application date).
   */
  idEmbedded: { birthDate: string; gender: Gender } | null;
  /** Equality key of `canonicalIdNumber(idType, idNumber)`; null when blank. */
  idKey: string | null;
  /** True when the phone is present but neither a mainland mobile nor a landline with area code. */
  phoneInvalid: boolean;
  /** Equality key of the phone's canonical form (`normalizePhone`); null when nothing is left of it. */
  phoneKey: string | null;
  /** What is wrong with a present address (null when it looks usable or is blank). */
  addressProblem: AddressProblem | null;
}

/** How facts get their equality keys: `key('id', canonicalNumber)`, `key('phone', canonicalPhone)`. */
export type FactKey = (kind: 'id' | 'phone', canonicalValue: string) => string;

/** The in-memory key: the canonical value itself (for facts that are never stored). */
export const CLEAR_KEY: FactKey = (_kind, value) => value;

export interface PersonFactsOptions {
  /** `YYYY-MM-DD` of the ID check's "birth date in the future" rule. Default: today in China. */
  today?: string;
  /** Equality keys; a keyed hash (blind index) when the facts are stored. */
  key: FactKey;
}

/** Far enough in the future that only the "future birth date" rule is left out of a parse. */
const END_OF_TIME = '9999-12-31';

/** The facts of one person as received (see the file comment). Pure. */
export function personFacts(person: PersonData | null | undefined, options: PersonFactsOptions): PersonFacts {
  const p = person ?? {};
  const today = options.today ?? todayInChina();
  const blank = PERSON_FIELDS.filter((f) => isBlank(p[f]));
  let idCheck: IdCheckFact | null = null;
  if (p.idType && !isBlank(p.idNumber)) {
    const id = validateIdNumber(p.idType, p.idNumber, { today });
    idCheck = id.ok
      ? { ok: true, ...(id.birthDate ? { birthDate: id.birthDate } : {}), ...(id.gender ? { gender: id.gender } : {}) }
      : { ok: false, code: id.code, reason: id.reason };
  }
  const embedded = parseResidentId(p.idNumber, { today: END_OF_TIME });
  const canonicalId = canonicalIdNumber(p.idType, p.idNumber);
  const phone = normalizePhone(p.phone);
  return {
    v: 1,
    blank,
    idCheck,
    idEmbedded: embedded.ok ? { birthDate: embedded.birthDate, gender: embedded.gender } : null,
    idKey: canonicalId === null ? null : options.key('id', canonicalId),
    phoneInvalid: !isBlank(p.phone) && classifyPhone(p.phone) === 'INVALID',
    phoneKey: phone === '' ? null : options.key('phone', phone),
    addressProblem: isBlank(p.address) ? null : addressProblem(p.address),
  };
}

/**
 * A person as the fact-based assessment sees it: the stored facts plus the
 * values kept in clear on the person row (name, gender, birth date, ID type).
 */
export interface FactPerson extends PersonFacts {
  name: string | null;
  gender: Gender | null;
  /** `YYYY-MM-DD` as given. */
  birthDate: string | null;
  idType: IdType | null;
}

/** Builds the {@link FactPerson} of a person as received. */
export function factPerson(person: PersonData | null | undefined, options: PersonFactsOptions): FactPerson {
  const p = person ?? {};
  return {
    ...personFacts(p, options),
    name: p.name ?? null,
    gender: p.gender ?? null,
    birthDate: p.birthDate ?? null,
    idType: p.idType ?? null,
  };
}

export interface FactBeneficiary {
  person: FactPerson;
  relationshipToInsured?: Relationship | null;
}

/** A record as `assessFromFacts` reads it. */
export interface FactRecord {
  policyholder: FactPerson;
  insured: FactPerson;
  insuredRelationship?: Relationship | null;
  beneficiaries?: FactBeneficiary[] | null;
  /** `YYYY-MM-DD`; ages in relationship checks are judged on it (default: `today`). */
  applicationDate?: string | null;
}

/** Facts from outside the record, looked up by the caller (the key form of `CompletenessContext`). */
export interface FactContext {
  /** Distinct policyholder ID numbers at this insurer sharing this policyholder's phone, this one included. */
  phoneSharedCount?: number | null;
  /** Equality key (same `FactKey`) of the phone registered for the selling sales person, when known. */
  salesPersonPhoneKey?: string | null;
  /** `YYYY-MM-DD`; birth dates after it are refused. Default: today in China. */
  today?: string;
}

/** The canonical-phone key of a raw phone, or null when nothing is left of it. */
export function phoneKeyOf(raw: string | null | undefined, key: FactKey): string | null {
  const phone = normalizePhone(raw);
  return phone === '' ? null : key('phone', phone);
}
