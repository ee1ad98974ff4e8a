import { Arg, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { toIdConnection } from '../../graphql/pagination';
import type { RequestContext } from '../../graphql/context';
import { NotFoundError } from '../../graphql/errors';
import { toOrganization } from '../organization/organization.mapper';
import { Organization } from '../organization/organization.type';
import { CorrectionInput } from './correction.inputs';
import { toCorrection, toFieldChanges } from './correction.mapper';
import { Correction, CorrectionConnection, CorrectionEdge, FieldChange } from './correction.type';
import type { CorrectionService } from './correction.service';
import { CORRECTION_CURSOR, type CorrectionHistoryService } from './correction-history.service';
import type { PiiCipher } from '../person/pii';

@Resolver(() => Correction)
export class CorrectionResolver {
  constructor(
    private readonly correctionService: CorrectionService,
    private readonly history: CorrectionHistoryService,
    private readonly pii: PiiCipher,
  ) {}

  @Mutation(() => Correction, { description: 'Corrects a policyholder, insured or beneficiary (and/or insuredRelationship) with the customer\'s evidence.' })
  async submitCorrection(
    @Arg('input', () => CorrectionInput) input: CorrectionInput,
    @Arg('idempotencyKey', () => String, {
      nullable: true,
      description: 'Optional, 1 to 128 characters: the same key from the same organization answers the stored correction and changes nothing; with a different input it is BAD_USER_INPUT.',
    })
    idempotencyKey: string | null | undefined,
    @Ctx() ctx: RequestContext,
  ): Promise<Correction> {
    return toCorrection(await this.correctionService.submit(ctx, input, idempotencyKey));
  }

  @Query(() => [Correction], { description: 'The correction history of a policy the caller may see, newest first; empty otherwise.' })
  async corrections(@Arg('insurerCode', () => String) insurerCode: string, @Arg('policyNo', () => String) policyNo: string, @Ctx() ctx: RequestContext): Promise<Correction[]> {
    return (await this.history.list(ctx, insurerCode, policyNo)).map(toCorrection);
  }

  @Query(() => CorrectionConnection, { description: 'corrections as pages, newest first: the same rows (an empty page for a policy the caller may not see).' })
  async correctionsConnection(
    @Arg('insurerCode', () => String) insurerCode: string,
    @Arg('policyNo', () => String) policyNo: string,
    @Arg('first', () => Int, { nullable: true, description: 'Page size: 50 when absent, at most 500.' }) first: number | null,
    @Arg('after', () => String, { nullable: true, description: 'The endCursor of the page before.' }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<CorrectionConnection> {
    const page = await this.history.page(ctx, insurerCode, policyNo, { first, after });
    return toIdConnection({ Edge: CorrectionEdge, Connection: CorrectionConnection }, CORRECTION_CURSOR, page, toCorrection, (record) => record.correction.id);
  }

  @FieldResolver(() => Organization)
  async submittedBy(@Root() correction: Correction, @Ctx() ctx: RequestContext): Promise<Organization> {
    const org = await ctx.loaders.organizationById.load(correction.submittedByOrganizationId);
    if (!org) throw new NotFoundError('Organization');
    return toOrganization(org);
  }

  @FieldResolver(() => [FieldChange])
  changes(@Root() correction: Correction, @Ctx() ctx: RequestContext): FieldChange[] {
    return toFieldChanges(correction, this.pii, ctx.disclosures);
  }
}
