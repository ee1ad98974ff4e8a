import { Field, Float, InputType, Int } from 'type-graphql';
import type { Gender, IdType, Relationship } from '../../domain/enums';
import { DateScalar } from '../../graphql/scalars';
import { GenderEnum, IdTypeEnum, RelationshipEnum } from '../policy/enums.type';

@InputType('PersonInput', { description: 'Every field is optional on input: gaps are recorded and reported, never guessed.' })
export class PersonInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => GenderEnum, { nullable: true })
  gender?: Gender | null;

  @Field(() => DateScalar, { nullable: true })
  birthDate?: string | null;

  @Field(() => IdTypeEnum, { nullable: true })
  idType?: IdType | null;

  @Field(() => String, { nullable: true })
  idNumber?: string | null;

  @Field(() => String, { nullable: true })
  phone?: string | null;

  @Field(() => String, { nullable: true })
  address?: string | null;
}

@InputType('BeneficiaryInput')
export class BeneficiaryInput {
  @Field(() => PersonInput)
  person!: PersonInput;

  @Field(() => RelationshipEnum, { nullable: true, description: 'Relationship of the beneficiary to the insured.' })
  relationshipToInsured?: Relationship | null;

  @Field(() => Float, { nullable: true, description: 'More than 0, at most 100; kept to 4 decimals.' })
  sharePercent?: number | null;

  @Field(() => Int, { nullable: true, description: '1 to 99.' })
  order?: number | null;
}

@InputType('SalesRecordInput', {
  description: 'One sold policy. Policy numbers (letters, digits, "-", "_", "/", at most 64) are compared and stored upper-case.',
})
export class SalesRecordInput {
  @Field(() => String)
  policyNo!: string;

  @Field(() => String)
  productCode!: string;

  @Field(() => Int, { description: 'More than 12 (the measures cover policies with a term over one year).' })
  termMonths!: number;

  @Field(() => DateScalar)
  applicationDate!: string;

  @Field(() => String, { nullable: true, description: 'Code of the real sales person (销售实名制), as registered with registerSalesPerson.' })
  salesPersonCode?: string | null;

  @Field(() => PersonInput)
  policyholder!: PersonInput;

  @Field(() => PersonInput)
  insured!: PersonInput;

  @Field(() => RelationshipEnum, { nullable: true, description: 'Relationship of the insured to the policyholder.' })
  insuredRelationship?: Relationship | null;

  @Field(() => [BeneficiaryInput], {
    nullable: true,
    description: 'Kept, listed and reported (completeness paths beneficiaries[i]) by order, those without one first, then as sent.',
  })
  beneficiaries?: BeneficiaryInput[] | null;
}

@InputType('RegisterSalesPersonInput', { description: 'A channel\'s sales person, so that a policyholder phone equal to theirs is flagged PHONE_IS_SALES_PERSON.' })
export class RegisterSalesPersonInput {
  @Field(() => String, { nullable: true, description: 'The channel (BROKER or BANK_CHANNEL); default: the caller\'s organization. Only the exchange ADMIN names another.' })
  organizationCode?: string | null;

  @Field(() => String, { description: 'The code the channel puts in SalesRecordInput.salesPersonCode (compared upper-case).' })
  code!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  phone!: string;
}
