import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { toIdConnection } from '../../graphql/pagination';
import type { RequestContext } from '../../graphql/context';
import { NotFoundError } from '../../graphql/errors';
import { DateScalar } from '../../graphql/scalars';
import { toOrganization } from '../organization/organization.mapper';
import { Organization } from '../organization/organization.type';
import { toRemediationCampaign } from './remediation.mapper';
import { RemediationCampaign, RemediationCampaignConnection, RemediationCampaignEdge, RemediationProgress } from './remediation.type';
import { CAMPAIGN_CURSOR, type RemediationService } from './remediation.service';

@Resolver(() => RemediationCampaign)
export class RemediationResolver {
  constructor(private readonly remediationService: RemediationService) {}

  @Mutation(() => RemediationCampaign, {
    description: 'Snapshots the insurer\'s long-term policies applied for before issuedBefore whose policyholder phone or address is missing, malformed, shared or a placeholder.',
  })
  async startRemediation(
    @Arg('insurerCode', () => String) insurerCode: string,
    @Arg('issuedBefore', () => DateScalar) issuedBefore: string,
    @Arg('deadline', () => DateScalar) deadline: string,
    @Ctx() ctx: RequestContext,
  ): Promise<RemediationCampaign> {
    return toRemediationCampaign(await this.remediationService.start(ctx, insurerCode, issuedBefore, deadline));
  }

  @Query(() => RemediationCampaign, { nullable: true })
  async remediationCampaign(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<RemediationCampaign | null> {
    const view = await this.remediationService.campaign(ctx, id);
    return view ? toRemediationCampaign(view) : null;
  }

  @Query(() => [RemediationCampaign], { description: 'An insurer\'s clean-up campaigns, newest first.' })
  async remediationCampaigns(@Arg('insurerCode', () => String) insurerCode: string, @Ctx() ctx: RequestContext): Promise<RemediationCampaign[]> {
    return (await this.remediationService.campaigns(ctx, insurerCode)).map(toRemediationCampaign);
  }

  @Query(() => RemediationCampaignConnection, { description: 'remediationCampaigns as pages, newest first: the same refusals and rows.' })
  async remediationCampaignsConnection(
    @Arg('insurerCode', () => String) insurerCode: string,
    @Arg('first', () => Int, { nullable: true, description: 'Page size: 50 when absent, at most 500.' }) first: number | null,
    @Arg('after', () => String, { nullable: true, description: 'The endCursor of the page before.' }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<RemediationCampaignConnection> {
    const page = await this.remediationService.campaignPage(ctx, insurerCode, { first, after });
    return toIdConnection({ Edge: RemediationCampaignEdge, Connection: RemediationCampaignConnection }, CAMPAIGN_CURSOR, page, toRemediationCampaign, (view) => view.campaign.id);
  }

  @FieldResolver(() => Organization)
  async insurer(@Root() campaign: RemediationCampaign, @Ctx() ctx: RequestContext): Promise<Organization> {
    const org = await ctx.loaders.organizationById.load(campaign.insurerId);
    if (!org) throw new NotFoundError('Organization');
    return toOrganization(org);
  }
}

@Resolver(() => RemediationProgress)
export class RemediationProgressResolver {
  @FieldResolver(() => Organization, { nullable: true })
  async channel(@Root() progress: RemediationProgress, @Ctx() ctx: RequestContext): Promise<Organization | null> {
    if (!progress.channelId) return null;
    const org = await ctx.loaders.organizationById.load(progress.channelId);
    return org ? toOrganization(org) : null;
  }
}
