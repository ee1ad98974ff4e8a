import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { toIdConnection } from '../../graphql/pagination';
import type { RequestContext } from '../../graphql/context';
import { PRINCIPAL_CURSOR, type PrincipalService } from './principal.service';
import { NotFoundError } from '../../graphql/errors';
import { toOrganization } from '../organization/organization.mapper';
import { Organization } from '../organization/organization.type';
import { CreatePrincipalInput } from './principal.inputs';
import { toPrincipal } from './principal.mapper';
import { requireActor } from '../../auth/actor';
import { Principal, PrincipalConnection, PrincipalEdge, PrincipalWithKey } from './principal.type';

@Resolver(() => Principal)
export class PrincipalResolver {
  constructor(private readonly principalService: PrincipalService) {}

  @Query(() => Principal)
  async me(@Ctx() ctx: RequestContext): Promise<Principal> {
    const principal = await this.principalService.findById(requireActor(ctx).principalId);
    if (!principal) throw new NotFoundError('Principal');
    return toPrincipal(principal);
  }

  @Query(() => PrincipalConnection, {
    description: 'ADMIN only: the principals of the caller\'s own organization, revoked ones included, newest first (never a key or its hash), so a leaked key\'s principal can be found and revoked.',
  })
  async principals(
    @Arg('first', () => Int, { nullable: true, description: 'Page size: 50 when absent, at most 500.' }) first: number | null,
    @Arg('after', () => String, { nullable: true, description: 'The endCursor of the page before.' }) after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<PrincipalConnection> {
    return toIdConnection({ Edge: PrincipalEdge, Connection: PrincipalConnection }, PRINCIPAL_CURSOR, await this.principalService.page(ctx, { first, after }), toPrincipal);
  }

  @Mutation(() => PrincipalWithKey)
  async createPrincipal(@Arg('input', () => CreatePrincipalInput) input: CreatePrincipalInput, @Ctx() ctx: RequestContext): Promise<PrincipalWithKey> {
    const { principal, apiKey } = await this.principalService.create(ctx, input);
    return Object.assign(new PrincipalWithKey(), { principal: toPrincipal(principal), apiKey });
  }

  @Mutation(() => Principal)
  async revokePrincipal(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<Principal> {
    return toPrincipal(await this.principalService.revoke(ctx, id));
  }

  @Mutation(() => Principal)
  async signAttestation(@Ctx() ctx: RequestContext): Promise<Principal> {
    return toPrincipal(await this.principalService.signAttestation(ctx));
  }

  @FieldResolver(() => Organization)
  async organization(@Root() principal: Principal, @Ctx() ctx: RequestContext): Promise<Organization> {
    const org = await ctx.loaders.organizationById.load(principal.organizationId);
    if (!org) throw new NotFoundError('Organization');
    return toOrganization(org);
  }
}
