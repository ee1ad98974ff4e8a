import { Arg, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context';
import { NotFoundError } from '../../graphql/errors';
import { DateScalar } from '../../graphql/scalars';
import { toOrganization } from '../organization/organization.mapper';
import { Organization } from '../organization/organization.type';
import { PolicyFilter } from '../policy/policy.inputs';
import { toCommissionHold, toCompletenessBucket } from './summary.mapper';
import type { SummaryDimension } from './summary.queries';
import type { SummaryService } from './summary.service';
import { CommissionHold, CompletenessBucket, SummaryDimensionEnum } from './summary.type';

@Resolver(() => CommissionHold)
export class SummaryResolver {
  constructor(private readonly summaryService: SummaryService) {}

  @Query(() => [CompletenessBucket])
  async completenessSummary(
    @Arg('insurerCode', () => String) insurerCode: string,
    @Arg('groupBy', () => SummaryDimensionEnum) groupBy: SummaryDimension,
    @Arg('from', () => DateScalar, { nullable: true }) from: string | null,
    @Arg('to', () => DateScalar, { nullable: true }) to: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<CompletenessBucket[]> {
    return (await this.summaryService.completenessSummary(ctx, insurerCode, groupBy, { from, to })).map(toCompletenessBucket);
  }

  @Query(() => [CommissionHold], { description: 'Per channel, the policies whose commission is withheld now (INCOMPLETE or SUSPECT). Same visibility as completenessSummary.' })
  async commissionHolds(
    @Arg('insurerCode', () => String) insurerCode: string,
    @Arg('channelCode', () => String, { nullable: true }) channelCode: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<CommissionHold[]> {
    return (await this.summaryService.commissionHolds(ctx, insurerCode, channelCode)).map(toCommissionHold);
  }

  @Query(() => String, { description: 'completenessSummary as CSV text with a header row (one missing:<path> column per missing field).' })
  async exportCompletenessCsv(
    @Arg('insurerCode', () => String) insurerCode: string,
    @Arg('groupBy', () => SummaryDimensionEnum) groupBy: SummaryDimension,
    @Arg('from', () => DateScalar, { nullable: true }) from: string | null,
    @Arg('to', () => DateScalar, { nullable: true }) to: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<string> {
    return this.summaryService.exportCompletenessCsv(ctx, insurerCode, groupBy, { from, to });
  }

  @Query(() => String, {
    description: 'The policies the caller may list, matching the filter, as CSV (policyNo, insurer, channel, product, applicationDate, status, completeness, missing): no person data. At most 10000 rows.',
  })
  async exportPoliciesCsv(@Arg('filter', () => PolicyFilter, { nullable: true }) filter: PolicyFilter | null, @Ctx() ctx: RequestContext): Promise<string> {
    return this.summaryService.exportPoliciesCsv(ctx, filter ?? {});
  }

  @FieldResolver(() => Organization)
  async channel(@Root() hold: CommissionHold, @Ctx() ctx: RequestContext): Promise<Organization> {
    const org = await ctx.loaders.organizationById.load(hold.channelId);
    if (!org) throw new NotFoundError('Organization');
    return toOrganization(org);
  }
}
