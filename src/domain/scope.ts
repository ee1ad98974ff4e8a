/**
 * Which policies the interim measures cover, and the notice on historical
 * policies. Pure definitions: the services build their checks and their SQL
 * from these, so the rule has one home.
 */

/**
 * Art. 3: the measures cover individual life policies with a term over one
 * year. A term of this many months or fewer is outside them.
 */
export const LONG_TERM_THRESHOLD_MONTHS = 12;

/** Art. 3: whether a term (in months) makes a policy long-term, i.e. in scope. */
export function isLongTerm(termMonths: number): boolean {
  return termMonths > LONG_TERM_THRESHOLD_MONTHS;
}

/**
 * The notice on historical policies asks insurers to put right policies
 * whose policyholder contact is unsound: these are the two fields it is about.
 */
export const UNSOUND_CONTACT_FIELDS = ['policyholder.phone', 'policyholder.address'] as const;

/**
 * "The policyholder's phone or address is unsound": the completeness issues
 * that stand on a field of {@link UNSOUND_CONTACT_FIELDS}. Those fields
 * only ever carry the codes the notice is about: MISSING, PHONE_FORMAT
 * (malformed), PHONE_SHARED (shared), PHONE_IS_SALES_PERSON (the seller's
 * own phone, a false phone in the measures' practice) and ADDRESS_PLACEHOLDER
 * (a placeholder or too vague).
 */
export function unsoundContactIssues<T extends { field: string }>(issues: readonly T[]): T[] {
  return issues.filter((issue) => (UNSOUND_CONTACT_FIELDS as readonly string[]).includes(issue.field));
}
