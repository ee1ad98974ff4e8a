import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Organization } from '../organization/organization.type';
import { SUMMARY_DIMENSIONS, type SummaryDimension } from './summary.queries';

/** Contract enum `SummaryDimension`. */
export const SummaryDimensionEnum = Object.fromEntries(SUMMARY_DIMENSIONS.map((d) => [d, d])) as { [K in SummaryDimension]: K };
registerEnumType(SummaryDimensionEnum, { name: 'SummaryDimension' });

@ObjectType('FieldCount')
export class FieldCount {
  @Field(() => String, { description: 'A required field path, e.g. policyholder.phone.' })
  field!: string;

  @Field(() => Int)
  count!: number;
}

@ObjectType('CompletenessBucket', { description: 'complete + incomplete + suspect = total.' })
export class CompletenessBucket {
  @Field(() => String, { description: 'Channel organization code (DIRECT for none), product code, or YYYY-MM.' })
  key!: string;

  @Field(() => Int)
  total!: number;

  @Field(() => Int)
  complete!: number;

  @Field(() => Int)
  incomplete!: number;

  @Field(() => Int)
  suspect!: number;

  @Field(() => [FieldCount], { description: 'Policies of the bucket missing each required field path, most frequent first.' })
  missingByField!: FieldCount[];
}

@ObjectType('CommissionHold', { description: 'Policies of one channel whose commission is withheld until their customer information is corrected (缓发手续费).' })
export class CommissionHold {
  @Field(() => Organization)
  channel!: Organization;

  @Field(() => Int, { description: 'incomplete + suspect.' })
  held!: number;

  @Field(() => Int)
  incomplete!: number;

  @Field(() => Int)
  suspect!: number;

  @Field(() => [String], { description: 'The first 500 policy numbers held, in policy-number order.' })
  policyNos!: string[];

  @Field(() => Boolean, { description: 'True when more policies are held than policyNos lists.' })
  truncated!: boolean;

  // Not on the wire: resolved to `channel` through the organization loader.
  channelId!: string;
}
