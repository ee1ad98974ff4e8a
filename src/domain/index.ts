/** Pure domain code (no I/O): one import path for the rest of the application. */
export * from './enums';
export * from './dates';
export * from './resident-id';
export * from './phone';
export * from './address';
export * from './relationship';
export * from './completeness';
export * from './scope';
export * from './underwriting';
export * from './masking';
export * from './canonical-json';
export * from './hash-chain';
export * from './sha256';
export * from './organization-codes';
export * from './person-merge';
export { personFacts, factPerson, phoneKeyOf, CLEAR_KEY, PERSON_FIELDS } from './person-facts';
export type { PersonFacts, FactPerson, FactRecord, FactContext, FactBeneficiary, FactKey, IdCheckFact, PersonFactsOptions, PersonField } from './person-facts';
