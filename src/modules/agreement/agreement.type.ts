import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { connectionTypes } from '../../graphql/pagination';
import { Organization } from '../organization/organization.type';
import { AGREEMENT_SCOPES, AGREEMENT_STATUSES, type AgreementScope, type AgreementStatus } from './agreement.entity';

export const AgreementScopeEnum = Object.fromEntries(AGREEMENT_SCOPES.map((s) => [s, s])) as { [K in AgreementScope]: K };
registerEnumType(AgreementScopeEnum, { name: 'AgreementScope' });

export const AgreementStatusEnum = Object.fromEntries(AGREEMENT_STATUSES.map((s) => [s, s])) as { [K in AgreementStatus]: K };
registerEnumType(AgreementStatusEnum, { name: 'AgreementStatus' });

@ObjectType('Agreement', { description: 'A data-sharing agreement between an insurer and a partner (broker or bank channel).' })
export class Agreement {
  @Field(() => ID)
  id!: string;

  /** Resolved by AgreementResolver through the organization loader. */
  insurerId!: string;
  partnerId!: string;
  proposedByOrganizationId!: string;

  @Field(() => Organization)
  insurer!: Organization;

  @Field(() => Organization)
  partner!: Organization;

  @Field(() => [AgreementScopeEnum])
  scopes!: AgreementScope[];

  @Field(() => Date)
  validFrom!: Date;

  @Field(() => Date, { description: 'Exclusive: ACTIVE while validFrom <= now < validTo.' })
  validTo!: Date;

  @Field(() => AgreementStatusEnum, { description: 'Computed at request time from the signatures, the termination and the validity window.' })
  status!: AgreementStatus;

  @Field(() => Date, { nullable: true })
  insurerSignedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  partnerSignedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  terminatedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Why it was terminated, as given by the terminating ADMIN.' })
  terminationReason!: string | null;

  @Field(() => Organization, { description: 'The party whose ADMIN proposed it (that side counts as signed).' })
  proposedBy!: Organization;
}

/** A page of agreements (the `agreementsConnection` query). */
export const { Edge: AgreementEdge, Connection: AgreementConnection } = connectionTypes('Agreement', Agreement);
export type AgreementConnection = InstanceType<typeof AgreementConnection>;
