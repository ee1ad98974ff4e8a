import { Arg, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context';
import { NotFoundError } from '../../graphql/errors';
import { toOrganization } from '../organization/organization.mapper';
import { Organization } from '../organization/organization.type';
import { CorrectionInput } from './correction.inputs';
import { toCorrection, toFieldChanges } from './correction.mapper';
import { Correction, FieldChange } from './correction.type';
import type { CorrectionService } from './correction.service';
import type { CorrectionHistoryService } from './correction-history.service';
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
