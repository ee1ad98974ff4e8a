/**
 * Merging a later record of a person into the row the insurer holds (Art. 6
 * and 7 of the measures: information is completed and corrected, never lost
 * by a later submission): every value the record carries replaces the
 * stored one, a blank or absent value keeps what the insurer already holds.
 * The one rule of both writers of person rows (submitSales, submitCorrection).
 * Pure: the sealed ID number and phone are decided by their callers (they
 * compare keys, not values), and enter here only as held or not.
 */
import { PERSON_FIELDS, type PersonField } from './person-facts';

/** The fields of a person stored in clear. */
export type ClearField = Exclude<PersonField, 'idNumber' | 'phone'>;
export type ClearPerson = Record<ClearField, string | null>;

const CLEAR_FIELDS = PERSON_FIELDS.filter((f): f is ClearField => f !== 'idNumber' && f !== 'phone');

/**
 * `stored` with the clear values `incoming` carries (null or absent: kept),
 * and the fields whose value really changed, in {@link PERSON_FIELDS} order.
 */
export function mergeClearFields<T extends ClearPerson>(stored: T, incoming: Partial<Record<ClearField, string | null>>): { merged: T; changed: ClearField[] } {
  const merged: T = { ...stored };
  const changed: ClearField[] = [];
  for (const field of CLEAR_FIELDS) {
    const value = incoming[field];
    if (value === null || value === undefined) continue;
    if (value !== stored[field]) changed.push(field);
    merged[field] = value as T[ClearField];
  }
  return { merged, changed };
}

/** The fields a merged person leaves blank (its facts' `blank`): clear values absent, sealed values not held. */
export function blankFields(person: ClearPerson, held: { idNumber: boolean; phone: boolean }): PersonField[] {
  return PERSON_FIELDS.filter((f) => (f === 'idNumber' || f === 'phone' ? !held[f] : person[f] === null || person[f] === undefined));
}
