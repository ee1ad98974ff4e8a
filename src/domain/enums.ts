/**
 * Enumerations of the API contract (`contract/schema.graphql`), as string-union
 * types plus `const` arrays in contract order. The values are exactly the
 * contract's; renaming one is a breaking change of the public API.
 */

/** Identity document types (contract enum `IdType`). */
export const ID_TYPES = [
  'RESIDENT_ID',
  'HOUSEHOLD_REGISTER',
  'PASSPORT',
  'MILITARY_ID',
  'HK_MACAO_PERMIT',
  'TAIWAN_PERMIT',
  'FOREIGN_PERMANENT_RESIDENT_ID',
  'HMT_RESIDENCE_PERMIT',
  'OTHER',
] as const;
export type IdType = (typeof ID_TYPES)[number];

/** Contract enum `Gender`. */
export const GENDERS = ['MALE', 'FEMALE'] as const;
export type Gender = (typeof GENDERS)[number];

/** Contract enum `Relationship`: the relationship of one person *to* another. */
export const RELATIONSHIPS = [
  'SELF',
  'SPOUSE',
  'CHILD',
  'PARENT',
  'GRANDPARENT',
  'GRANDCHILD',
  'SIBLING',
  'EMPLOYER',
  'OTHER',
] as const;
export type Relationship = (typeof RELATIONSHIPS)[number];

/** Contract enum `CompletenessStatus`. */
export const COMPLETENESS_STATUSES = ['COMPLETE', 'INCOMPLETE', 'SUSPECT'] as const;
export type CompletenessStatus = (typeof COMPLETENESS_STATUSES)[number];

function member<T extends string>(values: readonly T[]) {
  return (value: unknown): value is T =>
    typeof value === 'string' && (values as readonly string[]).includes(value);
}

/** Type guards for values arriving from untyped sources (CSV, partner codes). */
export const isIdType = member(ID_TYPES);
export const isGender = member(GENDERS);
export const isRelationship = member(RELATIONSHIPS);
export const isCompletenessStatus = member(COMPLETENESS_STATUSES);
