import { Arg, Ctx, Int, Mutation, Query, Resolver } from 'type-graphql';
import { toIdConnection } from '../../graphql/pagination';
import type { RequestContext } from '../../graphql/context';
import { CreateOrganizationInput } from './organization.inputs';
import type { OrganizationRegistry } from './organization-registry';
import { toOrganization } from './organization.mapper';
import { Organization, OrganizationConnection, OrganizationEdge } from './organization.type';
import { ORGANIZATION_CURSOR, type OrganizationService } from './organization.service';

@Resolver(() => Organization)
export class OrganizationResolver {
  constructor(
    private readonly organizationService: OrganizationService,
    private readonly registry: OrganizationRegistry,
  ) {}

  @Query(() => [Organization])
  async organizations(@Ctx() ctx: RequestContext): Promise<Organization[]> {
    return (await this.organizationService.list(ctx)).map(toOrganization);
  }

  @Query(() => OrganizationConnection, { description: 'The directory of organizations as pages, newest first (codes, names, kinds: no personal data).' })
  async organizationsConnection(
    @Arg('first', () => Int, { nullable: true, description: 'Page size: 50 when absent, at most 500.' }) first: number | null,
    @Arg('after', () => String, { nullable: true, description: 'The endCursor of the page before.' }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<OrganizationConnection> {
    return toIdConnection({ Edge: OrganizationEdge, Connection: OrganizationConnection }, ORGANIZATION_CURSOR, await this.organizationService.page(ctx, { first, after }), toOrganization);
  }

  @Mutation(() => Organization)
  async createOrganization(@Arg('input', () => CreateOrganizationInput) input: CreateOrganizationInput, @Ctx() ctx: RequestContext): Promise<Organization> {
    return toOrganization(await this.registry.create(ctx, input));
  }
}
