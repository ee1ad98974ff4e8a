import { Field, ID, Int, ObjectType } from 'type-graphql';
import { connectionTypes } from '../../graphql/pagination';
import { DateScalar } from '../../graphql/scalars';
import { Organization } from '../organization/organization.type';

@ObjectType('RemediationProgress', { description: 'One channel\'s part of a clean-up campaign, live: corrected + remaining = flagged.' })
export class RemediationProgress {
  @Field(() => Organization, { nullable: true, description: 'The selling channel; null for policies sold directly.' })
  channel!: Organization | null;

  @Field(() => Int, { description: 'Policies flagged by the snapshot (policyholder phone or address unsound).' })
  flagged!: number;

  @Field(() => Int, { description: 'Flagged policies whose current record has a sound policyholder phone and address.' })
  corrected!: number;

  @Field(() => Int)
  remaining!: number;

  @Field(() => Int, { description: 'Policies of this channel examined by the snapshot.' })
  checked!: number;

  @Field(() => [String], { description: 'Past the deadline, the policy numbers still remaining (the first 500, in order); empty before it.' })
  remainingPolicyNos!: string[];

  // Not on the wire: resolved to `channel` through the organization loader.
  channelId!: string | null;
}

@ObjectType('RemediationCampaign')
export class RemediationCampaign {
  @Field(() => ID)
  id!: string;

  @Field(() => Organization)
  insurer!: Organization;

  @Field(() => DateScalar, { description: 'Long-term policies applied for before this date were checked.' })
  issuedBefore!: string;

  @Field(() => DateScalar, { description: 'The last day to correct.' })
  deadline!: string;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => [RemediationProgress], { description: 'Per channel (code order, direct sales last); a partner sees its own row only.' })
  progress!: RemediationProgress[];

  @Field(() => Boolean, { description: 'True from the day after the deadline (China time).' })
  pastDeadline!: boolean;

  @Field(() => Int, { description: 'Policies examined for the snapshot (within the rows the caller sees).' })
  checked!: number;

  // Not on the wire: resolved to `insurer` through the organization loader.
  insurerId!: string;
}

/** A page of an insurer's campaigns (the `remediationCampaignsConnection` query). */
export const { Edge: RemediationCampaignEdge, Connection: RemediationCampaignConnection } = connectionTypes('RemediationCampaign', RemediationCampaign);
export type RemediationCampaignConnection = InstanceType<typeof RemediationCampaignConnection>;
