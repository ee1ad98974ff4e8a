import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context';
import { NotFoundError } from '../../graphql/errors';
import { toOrganization } from '../organization/organization.mapper';
import { Organization } from '../organization/organization.type';
import { ProposeAgreementInput } from './agreement.inputs';
import { toAgreement } from './agreement.mapper';
import { Agreement } from './agreement.type';
import type { AgreementService } from './agreement.service';

@Resolver(() => Agreement)
export class AgreementResolver {
  constructor(private readonly agreementService: AgreementService) {}

  @Query(() => [Agreement])
  async agreements(@Ctx() ctx: RequestContext): Promise<Agreement[]> {
    return (await this.agreementService.list(ctx)).map((a) => toAgreement(a, ctx.now));
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
