import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { Relationship } from '../../domain/enums';
import { PageInfo } from '../../graphql/pagination';
import { DateScalar } from '../../graphql/scalars';
import { Organization } from '../organization/organization.type';
import { Completeness } from './completeness.type';
import { RelationshipEnum } from './enums.type';
import { Beneficiary, Person, type PiiView } from './person.type';
import { POLICY_STATUSES, type PolicyStatusValue } from './policy.entity';

/** Contract enum `PolicyStatus`. */
export const PolicyStatusEnum = Object.fromEntries(POLICY_STATUSES.map((s) => [s, s])) as { [K in PolicyStatusValue]: K };
registerEnumType(PolicyStatusEnum, { name: 'PolicyStatus' });

@ObjectType('Policy')
export class Policy {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  policyNo!: string;

  /** Resolved through the organization loader. */
  @Field(() => Organization)
  insurer!: Organization;

  @Field(() => Organization, { nullable: true, description: 'The selling broker or bank channel; null when sold directly.' })
  channel!: Organization | null;

  @Field(() => String, { nullable: true, description: 'Code of the real sales person (销售实名制), as the channel sent it.' })
  salesPersonCode!: string | null;

  @Field(() => String)
  productCode!: string;

  @Field(() => Int)
  termMonths!: number;

  @Field(() => DateScalar)
  applicationDate!: string;

  @Field(() => PolicyStatusEnum)
  status!: PolicyStatusValue;

  /** Resolved through the person loader. */
  @Field(() => Person)
  policyholder!: Person;

  /** Resolved through the person loader. */
  @Field(() => Person)
  insured!: Person;

  @Field(() => RelationshipEnum, { nullable: true, description: 'Relationship of the insured to the policyholder.' })
  insuredRelationship!: Relationship | null;

  /** Resolved through the beneficiary and person loaders. */
  @Field(() => [Beneficiary])
  beneficiaries!: Beneficiary[];

  @Field(() => Completeness)
  completeness!: Completeness;

  @Field(() => Int)
  version!: number;

  @Field(() => Date, { nullable: true, description: 'When the policy was underwritten.' })
  underwrittenAt!: Date | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;

  // Not on the wire: what the field resolvers load with, and how people's data may be shown.
  insurerId!: string;
  channelId!: string | null;
  policyholderId!: string;
  insuredId!: string;
  view!: PiiView;
}

@ObjectType('PolicyEdge')
export class PolicyEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Policy)
  node!: Policy;
}

@ObjectType('PolicyConnection')
export class PolicyConnection {
  @Field(() => [PolicyEdge])
  edges!: PolicyEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'Policies matching the filter that the caller may see, on every page.' })
  totalCount!: number;
}
