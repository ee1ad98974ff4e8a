import { Field, ObjectType } from 'type-graphql';
import type { CompletenessStatus } from '../../domain/enums';
import { CompletenessStatusEnum } from './enums.type';

@ObjectType('CompletenessIssue', { description: 'One failed completeness or authenticity check (contract README "Completeness").' })
export class CompletenessIssue {
  @Field(() => String, { description: 'Field path, e.g. policyholder.phone or beneficiaries[0].idNumber.' })
  field!: string;

  @Field(() => String)
  code!: string;

  @Field(() => String)
  message!: string;
}

@ObjectType('Completeness')
export class Completeness {
  @Field(() => CompletenessStatusEnum)
  status!: CompletenessStatus;

  @Field(() => [String], { description: 'Field paths of the required fields that are missing.' })
  missing!: string[];

  @Field(() => [CompletenessIssue])
  issues!: CompletenessIssue[];
}
