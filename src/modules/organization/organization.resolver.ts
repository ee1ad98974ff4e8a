import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../graphql/context';
import { CreateOrganizationInput } from './organization.inputs';
import { toOrganization } from './organization.mapper';
import { Organization } from './organization.type';
import type { OrganizationService } from './organization.service';

@Resolver(() => Organization)
export class OrganizationResolver {
  constructor(private readonly organizationService: OrganizationService) {}

  @Query(() => [Organization])
  async organizations(@Ctx() ctx: RequestContext): Promise<Organization[]> {
    return (await this.organizationService.list(ctx)).map(toOrganization);
  }

  @Mutation(() => Organization)
  async createOrganization(@Arg('input', () => CreateOrganizationInput) input: CreateOrganizationInput, @Ctx() ctx: RequestContext): Promise<Organization> {
    return toOrganization(await this.organizationService.create(ctx, input));
  }
}
