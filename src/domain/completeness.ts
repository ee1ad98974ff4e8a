/**
 * Completeness and authenticity of a policy's customer information
 * (contract README "Completeness"; Art. 2 lists the customer information,
 * Art. 6(3) the fields without which underwriting and servicing may not pass).
 *
 * Pure: facts that need other records (how many policyholders share a
 * phone, the seller's registered phone) arrive in `CompletenessContext`.
 */
import { Relationship, CompletenessStatus } from './enums';
import { parseIsoDate, todayInChina } from './dates';
import { IdNumberFailure } from './resident-id';
import { AddressProblem } from './address';
import { checkRelationship, type RelationshipPerson } from './relationship';
import {
  CLEAR_KEY,
  factPerson,
  isBlank,
  phoneKeyOf,
  type FactContext,
  type FactPerson,
  type FactRecord,
  type PersonData,
} from './person-facts';

export { isBlank };
export type { PersonData };

export interface BeneficiaryData {
  person: PersonData;
  relationshipToInsured?: Relationship | null;
  sharePercent?: number | null;
  order?: number | null;
}

export interface RecordData {
  policyholder: PersonData;
  insured: PersonData;
  /** Relationship of the insured to the policyholder. */
  insuredRelationship?: Relationship | null;
  beneficiaries?: BeneficiaryData[] | null;
  /** `YYYY-MM-DD`; ages in relationship checks are judged on it (default: `today`). */
  applicationDate?: string | null;
}

/** Facts from outside the record, looked up by the caller. */
export interface CompletenessContext {
  /**
   * Number of distinct policyholder ID numbers at this insurer whose phone
   * has the same canonical form as this policyholder's, this one included.
   */
  phoneSharedCount?: number | null;
  /** Phone registered for the record's selling sales person (`salesPersonCode`), when known. */
  salesPersonPhone?: string | null;
  /** `YYYY-MM-DD`; birth dates after it are refused. Default: today in China. */
  today?: string;
}

/** Stable issue codes (contract README "Completeness", plus `MISSING`, `ID_FORMAT`, `BIRTHDATE_INVALID`). */
export const ISSUE_CODES = [
  'MISSING',
  'ID_CHECKSUM',
  'ID_FORMAT',
  'ID_BIRTHDATE_MISMATCH',
  'ID_GENDER_MISMATCH',
  'BIRTHDATE_INVALID',
  'PHONE_FORMAT',
  'PHONE_SHARED',
  'PHONE_IS_SALES_PERSON',
  'ADDRESS_PLACEHOLDER',
  'RELATIONSHIP_INCONSISTENT',
] as const;
export type IssueCode = (typeof ISSUE_CODES)[number];

export interface CompletenessIssue {
  /** Field path: `policyholder.phone`, `insuredRelationship`, `beneficiaries[0].idNumber`. */
  field: string;
  code: IssueCode;
  /** Plain English; never holds the person's data. */
  message: string;
}

export interface Completeness {
  status: CompletenessStatus;
  /** Paths of the required fields that are missing (policyholder and insured only). */
  missing: string[];
  issues: CompletenessIssue[];
}

/** A phone shared by policyholders of this many distinct ID numbers or more is suspect. */
export const PHONE_SHARED_THRESHOLD = 3;

/** Whether a phone held by policyholders of `distinctIdNumbers` different ID numbers is shared ({@link PHONE_SHARED_THRESHOLD}). */
export function isPhoneShared(distinctIdNumbers: number): boolean {
  return distinctIdNumbers >= PHONE_SHARED_THRESHOLD;
}

type PersonField = keyof PersonData;

/** Art. 6(3): required fields of the policyholder, in the order they are reported. */
export const POLICYHOLDER_REQUIRED: readonly PersonField[] = [
  'name', 'gender', 'birthDate', 'idType', 'idNumber', 'phone', 'address',
];
/** Art. 6(3): required fields of the insured. */
export const INSURED_REQUIRED: readonly PersonField[] = ['name', 'gender', 'birthDate', 'idType', 'idNumber'];
/**
 * Every path `Completeness.missing` can hold (README "Completeness"): the
 * required fields of the policyholder and the insured and
 * `insuredRelationship`. A `missingField` filter outside these could only
 * ever match nothing (issue 12: a mistyped one answered 0 rows in silence).
 */
export const MISSING_FIELD_PATHS: readonly string[] = [
  ...POLICYHOLDER_REQUIRED.map((f) => `policyholder.${f}`),
  ...INSURED_REQUIRED.map((f) => `insured.${f}`),
  'insuredRelationship',
];

/** Whether `path` (already trimmed) is one of {@link MISSING_FIELD_PATHS}. */
export function isMissingFieldPath(path: string): boolean {
  return MISSING_FIELD_PATHS.includes(path);
}

/** Art. 2: information of a designated beneficiary (gaps reported, status unchanged). */
export const BENEFICIARY_REQUIRED: readonly PersonField[] = ['name', 'gender', 'birthDate', 'idType', 'idNumber'];

const FIELD_WORDS: Record<PersonField, string> = {
  name: 'name',
  gender: 'gender',
  birthDate: 'birth date',
  idType: 'ID type',
  idNumber: 'ID number',
  phone: 'phone',
  address: 'address',
};

const ID_REASON_WORDS: Record<IdNumberFailure, string> = {
  EMPTY: 'is empty',
  LENGTH: 'has the wrong length',
  CHARSET: 'contains characters not allowed at their position',
  REGION: 'has an unknown region or prefix',
  BIRTH_DATE: 'embeds a birth date that is not a real calendar date',
  BIRTH_DATE_BEFORE_1900: 'embeds a birth date before 1900',
  BIRTH_DATE_FUTURE: 'embeds a birth date in the future',
  CHECK_DIGIT: 'fails the GB 11643 MOD 11-2 check character',
  KIND_MISMATCH: 'belongs to another kind of identity document than the ID type',
  FORMAT: 'does not match the format of the ID type',
};

const ADDRESS_WORDS: Record<AddressProblem, string> = {
  EMPTY: 'is empty',
  PLACEHOLDER: 'is a placeholder',
  TOO_SHORT: 'is too short to be an address',
  VAGUE: 'is too vague (no street, building or number)',
};

interface PersonChecks {
  path: string; // e.g. `policyholder`, `beneficiaries[2]`
  label: string; // e.g. `Policyholder`, `Beneficiary 3`
  required: readonly PersonField[];
  today: string;
}

function missingOf(person: FactPerson, checks: PersonChecks): CompletenessIssue[] {
  return checks.required
    .filter((f) => person.blank.includes(f))
    .map((f) => ({
      field: `${checks.path}.${f}`,
      code: 'MISSING' as const,
      message: `${checks.label} ${FIELD_WORDS[f]} is required (Art. 6(3) of the measures) but missing.`,
    }));
}

/** Authenticity checks of the fields a person has; blank fields are skipped. */
function checksOf(person: FactPerson, c: PersonChecks): CompletenessIssue[] {
  const issues: CompletenessIssue[] = [];
  const add = (field: PersonField, code: IssueCode, message: string) =>
    issues.push({ field: `${c.path}.${field}`, code, message: `${c.label} ${message}` });
  const birthDate = person.blank.includes('birthDate') || person.birthDate === null ? null : person.birthDate.trim();
  const birthValid = birthDate !== null && parseIsoDate(birthDate) !== null && birthDate <= c.today && birthDate >= '1900-01-01';
  if (birthDate !== null && !birthValid) {
    add('birthDate', 'BIRTHDATE_INVALID', 'birth date is not a real date between 1900-01-01 and today.');
  }
  const id = person.idCheck;
  if (id) {
    if (!id.ok) {
      add('idNumber', id.code, `ID number ${ID_REASON_WORDS[id.reason]} (ID type ${person.idType}).`);
    } else {
      if (id.birthDate && birthValid && id.birthDate !== birthDate) {
        add('birthDate', 'ID_BIRTHDATE_MISMATCH', 'birth date differs from the birth date in the ID number.');
      }
      if (id.gender && person.gender && id.gender !== person.gender) {
        add('gender', 'ID_GENDER_MISMATCH', 'gender differs from the gender digit of the ID number.');
      }
    }
  }
  if (person.phoneInvalid) {
    add('phone', 'PHONE_FORMAT', 'phone is neither a mainland mobile number nor a landline with area code.');
  }
  return issues;
}

function addressCheck(person: FactPerson, c: PersonChecks): CompletenessIssue[] {
  const problem = person.addressProblem;
  return problem
    ? [{ field: `${c.path}.address`, code: 'ADDRESS_PLACEHOLDER', message: `${c.label} address ${ADDRESS_WORDS[problem]}.` }]
    : [];
}

/** Signals only the policyholder's phone carries (DOMAIN.md "Signals used by insurers"). */
function policyholderPhoneChecks(person: FactPerson, context: FactContext): CompletenessIssue[] {
  if (person.blank.includes('phone')) return [];
  const issues: CompletenessIssue[] = [];
  if (isPhoneShared(context.phoneSharedCount ?? 0)) {
    issues.push({
      field: 'policyholder.phone',
      code: 'PHONE_SHARED',
      message: `Policyholder phone is shared by policyholders of ${PHONE_SHARED_THRESHOLD} or more different ID numbers at this insurer.`,
    });
  }
  if (person.phoneKey !== null && person.phoneKey === (context.salesPersonPhoneKey ?? null)) {
    issues.push({
      field: 'policyholder.phone',
      code: 'PHONE_IS_SALES_PERSON',
      message: 'Policyholder phone is the phone registered for the selling sales person.',
    });
  }
  return issues;
}

/** What the relationship rules read of a person: the clear values and the precomputed identity facts. */
function relationshipPerson(p: FactPerson): RelationshipPerson {
  return { name: p.name, gender: p.gender, birthDate: p.birthDate, idType: p.idType, idKey: p.idKey, idEmbedded: p.idEmbedded };
}

/** A person with nothing known (an absent policyholder or insured). */
const NOBODY: FactPerson = factPerson({}, { key: CLEAR_KEY, today: '1900-01-01' });

/**
 * Assesses a record from its people's facts (see person-facts.ts): the
 * verdict of {@link assessCompleteness}, computable from stored rows without
 * decrypting anything. `missing` lists the required fields that are blank
 * (policyholder, then insured, then `insuredRelationship`); `issues` holds,
 * person by person (policyholder, insured with the relationship, then each
 * beneficiary), the `MISSING` entries followed by the failed checks in the
 * order birth date, ID number, birth/gender against the ID, phone, address.
 * Status (README "Completeness"): INCOMPLETE when `missing` is not empty,
 * else SUSPECT when an issue concerns the policyholder, the insured or their
 * relationship, else COMPLETE. Beneficiary issues never change the status.
 * The ID checks are those of the time the facts were made; the birth-date
 * range is judged on `context.today`.
 */
export function assessFromFacts(record: FactRecord, context: FactContext = {}): Completeness {
  const today = context.today ?? todayInChina();
  const asOf = parseIsoDate(record.applicationDate) ? (record.applicationDate as string) : today;
  const ph = record.policyholder ?? NOBODY;
  const ins = record.insured ?? NOBODY;
  const phChecks: PersonChecks = { path: 'policyholder', label: 'Policyholder', required: POLICYHOLDER_REQUIRED, today };
  const insChecks: PersonChecks = { path: 'insured', label: 'Insured', required: INSURED_REQUIRED, today };

  const main: CompletenessIssue[] = [
    ...missingOf(ph, phChecks),
    ...checksOf(ph, phChecks),
    ...policyholderPhoneChecks(ph, context),
    ...addressCheck(ph, phChecks),
    ...missingOf(ins, insChecks),
    ...checksOf(ins, insChecks),
    ...addressCheck(ins, insChecks),
  ];
  if (isBlank(record.insuredRelationship)) {
    main.push({
      field: 'insuredRelationship',
      code: 'MISSING',
      message: 'Relationship of the insured to the policyholder is required (Art. 6(3) of the measures) but missing.',
    });
  } else {
    for (const f of checkRelationship(record.insuredRelationship, relationshipPerson(ins), relationshipPerson(ph), { asOf })) {
      main.push({ field: 'insuredRelationship', code: f.code, message: f.message });
    }
  }

  const beneficiaryIssues = (record.beneficiaries ?? []).flatMap((b, i) => {
    const person = b?.person ?? NOBODY;
    const c: PersonChecks = { path: `beneficiaries[${i}]`, label: `Beneficiary ${i + 1}`, required: BENEFICIARY_REQUIRED, today };
    const rel = checkRelationship(b?.relationshipToInsured, relationshipPerson(person), relationshipPerson(ins), {
      asOf,
      subjectLabel: 'beneficiary',
      otherLabel: 'insured',
    }).map((f) => ({ field: `${c.path}.relationshipToInsured`, code: f.code, message: f.message }));
    return [...missingOf(person, c), ...checksOf(person, c), ...addressCheck(person, c), ...rel];
  });

  const missing = main.filter((i) => i.code === 'MISSING').map((i) => i.field);
  const status: CompletenessStatus = missing.length > 0 ? 'INCOMPLETE' : main.length > 0 ? 'SUSPECT' : 'COMPLETE';
  return { status, missing, issues: [...main, ...beneficiaryIssues] };
}

/**
 * Assesses a record as received (see {@link assessFromFacts} for the order
 * of `missing` and `issues` and the status rule): the facts of each person
 * are made with their values in clear as keys, then assessed. Pure.
 */
export function assessCompleteness(record: RecordData, context: CompletenessContext = {}): Completeness {
  const today = context.today ?? todayInChina();
  const options = { today, key: CLEAR_KEY };
  return assessFromFacts(
    {
      policyholder: factPerson(record.policyholder, options),
      insured: factPerson(record.insured, options),
      insuredRelationship: record.insuredRelationship,
      beneficiaries: (record.beneficiaries ?? []).map((b) => ({
        person: factPerson(b?.person, options),
        relationshipToInsured: b?.relationshipToInsured,
      })),
      applicationDate: record.applicationDate,
    },
    { phoneSharedCount: context.phoneSharedCount, salesPersonPhoneKey: phoneKeyOf(context.salesPersonPhone, CLEAR_KEY), today },
  );
}
