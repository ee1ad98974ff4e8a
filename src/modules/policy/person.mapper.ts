import { isGender, isIdType, isRelationship } from '../../domain/enums';
import { maskIdNumber, maskPhone } from '../../domain/masking';
import type { PiiCipher } from '../person/pii';
import type { PersonEntity } from './person.entity';
import { Beneficiary, Person, type PiiView } from './person.type';
import type { PolicyBeneficiaryEntity } from './policy.entity';
import type { PiiDisclosures } from './pii-disclosures';

/** What of a person row the mapper reads (and so what a read that feeds it needs to select). */
export const SHOWN_PERSON_COLUMNS = ['id', 'name', 'gender', 'birthDate', 'idType', 'address', 'idNumberEnc', 'phoneEnc', 'keyId'] as const;
export type ShownPerson = Pick<PersonEntity, (typeof SHOWN_PERSON_COLUMNS)[number]>;

/**
 * The only path of a person to the wire, and the only code that opens the
 * encrypted ID numbers and phones (contract README "Who may do what"): the
 * insurer sees them whole, a partner without VIEW_FULL_PII sees them masked
 * (`110105********1234`, `138****5678`), and a partner with it sees them whole
 * while the response's READ_PII entry records the policy and the field path.
 * The values are opened only when the field is actually asked for, so the
 * log names exactly the paths shown.
 */
export function toPerson(entity: ShownPerson, view: PiiView, path: string): Person {
  return Object.assign(new Person(), {
    id: entity.id,
    name: entity.name,
    gender: isGender(entity.gender) ? entity.gender : null,
    birthDate: entity.birthDate,
    idType: isIdType(entity.idType) ? entity.idType : null,
    address: entity.address,
    sealed: { idNumberEnc: entity.idNumberEnc, phoneEnc: entity.phoneEnc, keyId: entity.keyId, view, path },
  });
}

export function toBeneficiary(row: PolicyBeneficiaryEntity, person: ShownPerson, view: PiiView, index: number): Beneficiary {
  const share = row.sharePercent === null ? null : Number(row.sharePercent);
  return Object.assign(new Beneficiary(), {
    person: toPerson(person, view, `beneficiaries[${index}]`),
    relationshipToInsured: isRelationship(row.relationshipToInsured) ? row.relationshipToInsured : null,
    sharePercent: share !== null && Number.isFinite(share) ? share : null,
    order: row.ord,
  });
}

/** `Person.idNumber` as this caller may see it, opened with `pii`; a whole value shown is recorded in `disclosures`. */
export function revealIdNumber(person: Person, pii: PiiCipher, disclosures: PiiDisclosures): string | null {
  return reveal(person, person.sealed.idNumberEnc, 'idNumber', maskIdNumber, pii, disclosures);
}

/** `Person.phone` as this caller may see it, opened with `pii`; a whole value shown is recorded in `disclosures`. */
export function revealPhone(person: Person, pii: PiiCipher, disclosures: PiiDisclosures): string | null {
  return reveal(person, person.sealed.phoneEnc, 'phone', maskPhone, pii, disclosures);
}

function reveal(
  person: Person,
  sealed: string | null,
  field: 'idNumber' | 'phone',
  mask: (clear: string) => string,
  pii: PiiCipher,
  disclosures: PiiDisclosures,
): string | null {
  const clear = pii.decryptNullable(sealed, person.sealed.keyId);
  if (clear === null) return null;
  const { view, path } = person.sealed;
  if (view.mode !== 'FULL') return mask(clear);
  if (view.disclosure) disclosures.record(view.disclosure, `${path}.${field}`);
  return clear;
}
