import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Organization } from '../organization/organization.type';
import { Completeness } from '../policy/completeness.type';

@ObjectType('FieldError', { description: 'Why a record was rejected: a field path, a stable code, a message without the value.' })
export class FieldError {
  @Field(() => String)
  field!: string;

  @Field(() => String, { description: 'REQUIRED, TOO_LONG, INVALID, TERM_TOO_SHORT, DUPLICATE_IN_BATCH, DUPLICATE_POLICY or ALREADY_UNDERWRITTEN.' })
  code!: string;

  @Field(() => String)
  message!: string;
}

@ObjectType('SalesRecordResult', { description: 'The verdict on one record, in the order of the records sent.' })
export class SalesRecordResult {
  @Field(() => String)
  policyNo!: string;

  @Field(() => Boolean)
  accepted!: boolean;

  @Field(() => [FieldError])
  errors!: FieldError[];

  @Field(() => Completeness, { nullable: true, description: 'The stored verdict of an accepted record; null when rejected.' })
  completeness!: Completeness | null;

  @Field(() => Int, { nullable: true, description: 'Version of the stored record (1 when new, +1 when it replaced a PENDING one); null when rejected.' })
  version!: number | null;
}

@ObjectType('SubmitSalesPayload')
export class SubmitSalesPayload {
  @Field(() => ID)
  batchId!: string;

  @Field(() => Boolean, { description: 'True when this idempotency key was seen before and the stored result is returned.' })
  replayed!: boolean;

  @Field(() => Int)
  accepted!: number;

  @Field(() => Int)
  rejected!: number;

  @Field(() => [SalesRecordResult])
  results!: SalesRecordResult[];
}

@ObjectType('SalesPerson', { description: 'A sales person registered by a channel (销售实名制).' })
export class SalesPerson {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  code!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'Masked (138****5678).' })
  phone!: string;

  /** Resolved through the organization loader. */
  organizationId!: string;

  @Field(() => Organization)
  organization!: Organization;
}
