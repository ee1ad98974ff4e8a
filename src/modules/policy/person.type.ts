import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import type { Gender, IdType, Relationship } from '../../domain/enums';
import { DateScalar } from '../../graphql/scalars';
import { GenderEnum, IdTypeEnum, RelationshipEnum } from './enums.type';

/** How a person's ID number and phone may be shown to the caller, decided per policy by the read service. */
export interface PiiView {
  /** FULL: the insurer itself, or a partner holding VIEW_FULL_PII on it; MASKED: any other partner. */
  mode: 'FULL' | 'MASKED';
  /**
   * Set when a FULL view discloses the values to a partner: what the READ_PII
   * transfer-log entry of the response names (contract README "Who may do what").
   */
  disclosure: PiiDisclosure | null;
}

export interface PiiDisclosure {
  insurerId: string;
  policyNo: string;
  /** The ACTIVE agreement under which the partner sees full values. */
  agreementId: string | null;
}

/** The sealed values of a person as stored, and where the person sits in the response (for the READ_PII field paths). */
export interface SealedPii {
  idNumberEnc: string | null;
  phoneEnc: string | null;
  keyId: string | null;
  view: PiiView;
  /** `policyholder`, `insured`, `beneficiaries[0]`. */
  path: string;
}

@ObjectType('Person', { description: 'A customer on a policy: one record per insurer and identity document.' })
export class Person {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  name!: string | null;

  @Field(() => GenderEnum, { nullable: true })
  gender!: Gender | null;

  @Field(() => DateScalar, { nullable: true })
  birthDate!: string | null;

  @Field(() => IdTypeEnum, { nullable: true })
  idType!: IdType | null;

  /** Resolved by PersonResolver through person.mapper (decrypted, then masked or disclosed). */
  @Field(() => String, { nullable: true, description: 'Masked unless the caller may see full personal data.' })
  idNumber!: string | null;

  /** Resolved by PersonResolver through person.mapper (decrypted, then masked or disclosed). */
  @Field(() => String, { nullable: true, description: 'Masked unless the caller may see full personal data.' })
  phone!: string | null;

  @Field(() => String, { nullable: true })
  address!: string | null;

  /** Not on the wire: the encrypted values, opened only by person.mapper when the field is asked for. */
  sealed!: SealedPii;
}

@ObjectType('Beneficiary')
export class Beneficiary {
  @Field(() => Person)
  person!: Person;

  @Field(() => RelationshipEnum, { nullable: true })
  relationshipToInsured!: Relationship | null;

  @Field(() => Float, { nullable: true })
  sharePercent!: number | null;

  @Field(() => Int, { nullable: true })
  order!: number | null;
}
