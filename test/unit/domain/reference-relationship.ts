// A frozen copy of checkRelationship before it accepted precomputed identity facts: the reference of the equivalence test.

/**
 * Consistency and plausibility of a relationship between two people: the
 * insured to the policyholder (Art. 6(3) makes it required), or a beneficiary
 * to the insured. Insurers flag "a relationship implausible for the two
 * people's gender and age" (DOMAIN.md "Signals used by insurers").
 *
 * `relationship` is always the relationship *of* `subject` *to* `other`:
 * insured CHILD of the policyholder means the insured is the child.
 */
import { Gender, IdType, Relationship } from '../../../src/domain/enums';
import { ageOn, parseIsoDate } from '../../../src/domain/dates';
import { canonicalIdNumber, idTypeFamily, parseResidentId } from '../../../src/domain/resident-id';

/** The facts about one person the rules read. */
export interface RelationshipPerson {
  name?: string | null;
  gender?: Gender | null;
  birthDate?: string | null;
  idType?: IdType | null;
  idNumber?: string | null;
}

export type RelationshipRule =
  | 'SELF_DIFFERENT_PERSON'
  | 'NON_SELF_SAME_PERSON'
  | 'CHILD_NOT_YOUNGER'
  | 'PARENT_NOT_OLDER'
  | 'GRANDCHILD_NOT_YOUNGER'
  | 'GRANDPARENT_NOT_OLDER'
  | 'SPOUSE_UNDER_MARRIAGE_AGE'
  | 'SPOUSE_SAME_GENDER';

export interface RelationshipFinding {
  code: 'RELATIONSHIP_INCONSISTENT';
  rule: RelationshipRule;
  /** Plain English, without any of the people's data. */
  message: string;
}

export interface RelationshipOptions {
  /** `YYYY-MM-DD` at which ages are judged: the application date. */
  asOf: string;
  /** Words for the two people in messages. Default `insured` / `policyholder`. */
  subjectLabel?: string;
  otherLabel?: string;
}

/**
 * Legal marriage age, Civil Code of the PRC Art. 1047: men not before 22,
 * women not before 20. Unknown gender: 20, the lower one.
 */
export const MARRIAGE_AGE: Readonly<Record<Gender | 'UNKNOWN', number>> = { MALE: 22, FEMALE: 20, UNKNOWN: 20 };

/** Minimum age gap (years) between a parent and a child; grandparent/grandchild alike. */
export const MIN_GENERATION_GAP_YEARS = 1;

export type SamePerson = 'SAME' | 'DIFFERENT' | 'UNKNOWN';

/** Whitespace and middle dots removed (`·` of minority and foreign names), NFKC, upper case. */
function normalizeName(name: string | null | undefined): string {
  return (name ?? '').normalize('NFKC').replace(/[\s·・•.]/gu, '').toUpperCase();
}

/**
 * Whether two people are the same by their identity documents: SAME when
 * the canonical numbers are equal and the types are of one family (or a type
 * is missing); DIFFERENT when both numbers are present and differ; else UNKNOWN.
 */
export function compareById(a: RelationshipPerson, b: RelationshipPerson): SamePerson {
  const na = canonicalIdNumber(a.idType, a.idNumber);
  const nb = canonicalIdNumber(b.idType, b.idNumber);
  if (na === null || nb === null) return 'UNKNOWN';
  if (na !== nb) return 'DIFFERENT';
  if (a.idType && b.idType && idTypeFamily(a.idType) !== idTypeFamily(b.idType)) return 'UNKNOWN';
  return 'SAME';
}

/**
 * Whether two people are the same by name and birth date, used when the
 * documents do not decide: DIFFERENT when both have a name and the names
 * differ, or both have a birth date and those differ; SAME when both names
 * and both birth dates are present and equal; else UNKNOWN.
 */
export function compareByNameAndBirthDate(a: RelationshipPerson, b: RelationshipPerson): SamePerson {
  const [na, nb] = [normalizeName(a.name), normalizeName(b.name)];
  const [ba, bb] = [(a.birthDate ?? '').trim(), (b.birthDate ?? '').trim()];
  if ((na && nb && na !== nb) || (ba && bb && ba !== bb)) return 'DIFFERENT';
  if (na && nb && ba && bb) return 'SAME';
  return 'UNKNOWN';
}

/**
 * Stated birth date when it is a real date from 1900 up to `asOf`, else the
 * one embedded in a GB 11643-shaped number.
 */
function effectiveBirthDate(p: RelationshipPerson, asOf: string): string | null {
  const stated = p.birthDate ?? '';
  if (parseIsoDate(stated) && stated >= '1900-01-01' && stated <= asOf) return stated;
  const parsed = parseResidentId(p.idNumber, { today: asOf });
  return parsed.ok ? parsed.birthDate : null;
}

/** Stated gender, else the one embedded in a GB 11643-shaped number. */
function effectiveGender(p: RelationshipPerson, asOf: string): Gender | null {
  if (p.gender) return p.gender;
  const parsed = parseResidentId(p.idNumber, { today: asOf });
  return parsed.ok ? parsed.gender : null;
}

/** True when `older` was at least `MIN_GENERATION_GAP_YEARS` old on `younger`'s birth date. */
function olderByAGeneration(older: string, younger: string): boolean {
  return younger >= older && ageOn(older, younger) >= MIN_GENERATION_GAP_YEARS;
}

/**
 * Checks `relationship` of `subject` to `other`, in this order:
 * - SELF while the two differ: by document number when both have one (and
 *   the documents decide), else by name and birth date;
 * - a relationship other than SELF while both carry the same document
 *   (same type family and number): the same person;
 * - CHILD / GRANDCHILD not at least a year younger than `other` (older or
 *   of the same age); PARENT / GRANDPARENT not at least a year older;
 * - SPOUSE: either person under the legal marriage age at `asOf` (Civil Code
 *   Art. 1047: 22 for men, 20 for women or unknown gender); both of the same
 *   gender (Civil Code Art. 1049 marriage is between a man and a woman).
 * Birth date and gender fall back to what the ID number embeds. Facts that
 * are unknown never raise a finding. Returns findings in that order.
 */
export function checkRelationship(
  relationship: Relationship | null | undefined,
  subject: RelationshipPerson,
  other: RelationshipPerson,
  options: RelationshipOptions,
): RelationshipFinding[] {
  if (!relationship) return [];
  const s = options.subjectLabel ?? 'insured';
  const o = options.otherLabel ?? 'policyholder';
  const found = (rule: RelationshipRule, message: string): RelationshipFinding[] => [
    { code: 'RELATIONSHIP_INCONSISTENT', rule, message },
  ];
  const byId = compareById(subject, other);
  if (relationship === 'SELF') {
    const same = byId === 'UNKNOWN' ? compareByNameAndBirthDate(subject, other) : byId;
    return same === 'DIFFERENT'
      ? found('SELF_DIFFERENT_PERSON', `Relationship SELF, but the ${s} and the ${o} are different people.`)
      : [];
  }
  if (byId === 'SAME') {
    return found(
      'NON_SELF_SAME_PERSON',
      `Relationship ${relationship}, but the ${s} and the ${o} carry the same identity document.`,
    );
  }
  const subjectBirth = effectiveBirthDate(subject, options.asOf);
  const otherBirth = effectiveBirthDate(other, options.asOf);
  const bothBirths = subjectBirth !== null && otherBirth !== null;
  switch (relationship) {
    case 'CHILD':
    case 'GRANDCHILD':
      if (bothBirths && !olderByAGeneration(otherBirth, subjectBirth)) {
        return found(
          relationship === 'CHILD' ? 'CHILD_NOT_YOUNGER' : 'GRANDCHILD_NOT_YOUNGER',
          `Relationship ${relationship}, but the ${s} is not younger than the ${o}.`,
        );
      }
      return [];
    case 'PARENT':
    case 'GRANDPARENT':
      if (bothBirths && !olderByAGeneration(subjectBirth, otherBirth)) {
        return found(
          relationship === 'PARENT' ? 'PARENT_NOT_OLDER' : 'GRANDPARENT_NOT_OLDER',
          `Relationship ${relationship}, but the ${s} is not older than the ${o}.`,
        );
      }
      return [];
    case 'SPOUSE':
      return checkSpouse(subject, other, subjectBirth, otherBirth, options.asOf, s, o);
    default:
      return [];
  }
}

function checkSpouse(
  subject: RelationshipPerson,
  other: RelationshipPerson,
  subjectBirth: string | null,
  otherBirth: string | null,
  asOf: string,
  s: string,
  o: string,
): RelationshipFinding[] {
  const findings: RelationshipFinding[] = [];
  const asOfValid = parseIsoDate(asOf) !== null;
  const people: [RelationshipPerson, string | null, string][] = [
    [subject, subjectBirth, s],
    [other, otherBirth, o],
  ];
  for (const [person, birth, label] of people) {
    if (!asOfValid || birth === null || birth > asOf) continue;
    const gender = effectiveGender(person, asOf);
    if (ageOn(birth, asOf) < MARRIAGE_AGE[gender ?? 'UNKNOWN']) {
      findings.push({
        code: 'RELATIONSHIP_INCONSISTENT',
        rule: 'SPOUSE_UNDER_MARRIAGE_AGE',
        message: `Relationship SPOUSE, but the ${label} was under the legal marriage age on the application date.`,
      });
    }
  }
  const [gs, go] = [effectiveGender(subject, asOf), effectiveGender(other, asOf)];
  if (gs && go && gs === go) {
    findings.push({
      code: 'RELATIONSHIP_INCONSISTENT',
      rule: 'SPOUSE_SAME_GENDER',
      message: `Relationship SPOUSE, but the ${s} and the ${o} are recorded with the same gender.`,
    });
  }
  return findings;
}
