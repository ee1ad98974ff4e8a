import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { connectionTypes } from '../../graphql/pagination';
import { Organization } from '../organization/organization.type';
import type { PiiView } from '../policy/person.type';
import { Policy } from '../policy/policy.type';
import { EVIDENCE_METHODS, PERSON_ROLES, type CorrectionChangeEntity, type EvidenceMethod, type PersonRole } from './correction.entity';

function enumObject<T extends string>(values: readonly T[]): { [K in T]: K } {
  return Object.fromEntries(values.map((v) => [v, v])) as { [K in T]: K };
}

/** Contract enum `PersonRole`. */
export const PersonRoleEnum = enumObject<PersonRole>(PERSON_ROLES);
registerEnumType(PersonRoleEnum, { name: 'PersonRole' });

/** Contract enum `EvidenceMethod`. */
export const EvidenceMethodEnum = enumObject<EvidenceMethod>(EVIDENCE_METHODS);
registerEnumType(EvidenceMethodEnum, { name: 'EvidenceMethod' });

@ObjectType('FieldChange', {
  description: 'One field of a correction, before and after. ID numbers and phones are masked unless the caller may see full personal data.',
})
export class FieldChange {
  @Field(() => String, { description: 'Field path, e.g. policyholder.phone, beneficiaries[0].name, insuredRelationship.' })
  field!: string;

  @Field(() => String, { nullable: true })
  before!: string | null;

  @Field(() => String, { nullable: true })
  after!: string | null;
}

@ObjectType('Correction', { description: 'A correction of a policy\'s customer information, made at the customer\'s request (Art. 7).' })
export class Correction {
  @Field(() => ID)
  id!: string;

  @Field(() => Policy, { description: 'The policy as it is now.' })
  policy!: Policy;

  @Field(() => [String], { description: 'Field paths changed, e.g. policyholder.phone.' })
  changedFields!: string[];

  /** Resolved through the organization loader. */
  @Field(() => Organization)
  submittedBy!: Organization;

  @Field(() => ID, { description: 'The principal who submitted it.' })
  submittedByPrincipalId!: string;

  @Field(() => Date)
  submittedAt!: Date;

  @Field(() => EvidenceMethodEnum)
  evidenceMethod!: EvidenceMethod;

  @Field(() => String, { description: 'Where the evidence of the customer\'s request is kept.' })
  evidenceReference!: string;

  @Field(() => Date, { description: 'When the customer confirmed the request.' })
  evidenceConfirmedAt!: Date;

  @Field(() => PersonRoleEnum)
  target!: PersonRole;

  @Field(() => Int, { nullable: true, description: 'The corrected beneficiary\'s order, when target is BENEFICIARY.' })
  beneficiaryOrder!: number | null;

  @Field(() => Int, { description: 'The policy version this correction produced.' })
  version!: number;

  /** Resolved by CorrectionResolver through correction.mapper (opened, then masked or disclosed). */
  @Field(() => [FieldChange], { description: 'Each changed field before and after.' })
  changes!: FieldChange[];

  // Not on the wire: what the field resolvers need.
  submittedByOrganizationId!: string;
  policyNo!: string;
  sealedChanges!: CorrectionChangeEntity[];
  view!: PiiView;
}

/** A page of a policy's correction history (the `correctionsConnection` query). */
export const { Edge: CorrectionEdge, Connection: CorrectionConnection } = connectionTypes('Correction', Correction);
export type CorrectionConnection = InstanceType<typeof CorrectionConnection>;
