import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../graphql/context';
import { CreateOrganizationInput } from './organization.inputs';
import { toOrganization } from './organization.mapper';
import { Organization } from './organization.type';

@Resolver(() => Organization)
export class OrganizationResolver {
  @Query(() => [Organization])
  async organizations(@Ctx() ctx: RequestContext): Promise<Organization[]> {
    return (await ctx.services.organizations.list(ctx)).map(toOrganization);
  }

  @Mutation(() => Organization)
  async createOrganization(@Arg('input', () => CreateOrganizationInput) input: CreateOrganizationInput, @Ctx() ctx: RequestContext): Promise<Organization> {
    return toOrganization(await ctx.services.organizations.create(ctx, input));
  }
}
