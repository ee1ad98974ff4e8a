import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { toIdConnection } from '../../graphql/pagination';
import type { RequestContext } from '../../graphql/context';
import { NotFoundError } from '../../graphql/errors';
import { toOrganization } from '../organization/organization.mapper';
import { Organization } from '../organization/organization.type';
import { ProposeAgreementInput } from './agreement.inputs';
import { toAgreement } from './agreement.mapper';
import { Agreement, AgreementConnection, AgreementEdge } from './agreement.type';
import { AGREEMENT_CURSOR, type AgreementService } from './agreement.service';

@Resolver(() => Agreement)
export class AgreementResolver {
  constructor(private readonly agreementService: AgreementService) {}

  @Query(() => [Agreement])
  async agreements(@Ctx() ctx: RequestContext): Promise<Agreement[]> {
    return (await this.agreementService.list(ctx)).map((a) => toAgreement(a, ctx.now));
  }

  @Query(() => AgreementConnection, { description: 'The agreements as pages, newest first: the same rows as agreements (own organization\'s; the EXCHANGE ADMIN all).' })
  async agreementsConnection(
    @Arg('first', () => Int, { nullable: true, description: 'Page size: 50 when absent, at most 500.' }) first: number | null,
    @Arg('after', () => String, { nullable: true, description: 'The endCursor of the page before.' }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<AgreementConnection> {
    return toIdConnection({ Edge: AgreementEdge, Connection: AgreementConnection }, AGREEMENT_CURSOR, await this.agreementService.page(ctx, { first, after }), (a) => toAgreement(a, ctx.now));
  }

  @Mutation(() => Agreement)
  async proposeAgreement(@Arg('input', () => ProposeAgreementInput) input: ProposeAgreementInput, @Ctx() ctx: RequestContext): Promise<Agreement> {
    return toAgreement(await this.agreementService.propose(ctx, input), ctx.now);
  }

  @Mutation(() => Agreement)
  async signAgreement(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<Agreement> {
    return toAgreement(await this.agreementService.sign(ctx, id), ctx.now);
  }

  @Mutation(() => Agreement)
  async terminateAgreement(@Arg('id', () => ID) id: string, @Arg('reason', () => String) reason: string, @Ctx() ctx: RequestContext): Promise<Agreement> {
    return toAgreement(await this.agreementService.terminate(ctx, id, reason), ctx.now);
  }

  @FieldResolver(() => Organization)
  async insurer(@Root() agreement: Agreement, @Ctx() ctx: RequestContext): Promise<Organization> {
    return organization(ctx, agreement.insurerId);
  }

  @FieldResolver(() => Organization)
  async partner(@Root() agreement: Agreement, @Ctx() ctx: RequestContext): Promise<Organization> {
    return organization(ctx, agreement.partnerId);
  }

  @FieldResolver(() => Organization)
  async proposedBy(@Root() agreement: Agreement, @Ctx() ctx: RequestContext): Promise<Organization> {
    return organization(ctx, agreement.proposedByOrganizationId);
  }
}

async function organization(ctx: RequestContext, id: string): Promise<Organization> {
  const org = await ctx.loaders.organizationById.load(id);
  if (!org) throw new NotFoundError('Organization');
  return toOrganization(org);
}
