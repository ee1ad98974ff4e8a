import { Field, InputType, Int } from 'type-graphql';
import type { Relationship } from '../../domain/enums';
import { RelationshipEnum } from '../policy/enums.type';
import { PersonInput } from '../sales/sales.inputs';
import type { EvidenceMethod, PersonRole } from './correction.entity';
import { EvidenceMethodEnum, PersonRoleEnum } from './correction.type';

@InputType('EvidenceInput', { description: 'Evidence that the customer asked for the change (the staff attestation forbids changes without it).' })
export class EvidenceInput {
  @Field(() => EvidenceMethodEnum)
  method!: EvidenceMethod;

  @Field(() => String, { description: 'Where the evidence is kept (form number, recording id…): 1 to 200 characters.' })
  reference!: string;

  @Field(() => Date, { description: 'When the customer confirmed: not in the future, at most 365 days ago.' })
  confirmedAt!: Date;
}

@InputType('CorrectionInput')
export class CorrectionInput {
  @Field(() => String)
  insurerCode!: string;

  @Field(() => String)
  policyNo!: string;

  @Field(() => PersonRoleEnum)
  target!: PersonRole;

  @Field(() => Int, { nullable: true, description: 'Which beneficiary (its order), when target is BENEFICIARY.' })
  beneficiaryOrder?: number | null;

  @Field(() => PersonInput, {
    description:
      'The new values. A field left out (or null) keeps its value; a blank one is refused. Changing idType of a person with an ID number needs idNumber too.',
  })
  changes!: PersonInput;

  @Field(() => RelationshipEnum, { nullable: true, description: 'A new relationship of the insured to the policyholder.' })
  insuredRelationship?: Relationship | null;

  @Field(() => EvidenceInput)
  evidence!: EvidenceInput;

  @Field(() => Int, { description: 'The version of the policy the correction was prepared on; another one answers VERSION_CONFLICT.' })
  expectedVersion!: number;
}
