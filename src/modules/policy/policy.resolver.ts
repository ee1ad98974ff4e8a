import type { FieldNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import { Arg, Ctx, FieldResolver, Info, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context';
import { NotFoundError } from '../../graphql/errors';
import { toOrganization } from '../organization/organization.mapper';
import { Organization } from '../organization/organization.type';
import { revealIdNumber, revealPhone, toBeneficiary, toPerson } from './person.mapper';
import { Beneficiary, Person } from './person.type';
import { PolicyFilter } from './policy.inputs';
import { toPolicy, toPolicyConnection } from './policy.mapper';
import { Policy, PolicyConnection } from './policy.type';
import type { PiiCipher } from '../person/pii';
import type { PolicyService } from './policy.service';
import type { PageJoins } from './policy-page.queries';

@Resolver(() => Policy)
export class PolicyResolver {
  constructor(private readonly policyService: PolicyService) {}

  @Query(() => Policy, { nullable: true, description: 'A policy the caller may see; null otherwise (whether or not it exists).' })
  async policy(@Arg('insurerCode', () => String) insurerCode: string, @Arg('policyNo', () => String) policyNo: string, @Ctx() ctx: RequestContext): Promise<Policy | null> {
    const found = await this.policyService.findOne(ctx, insurerCode, policyNo);
    return found ? toPolicy(found.entity, found.view) : null;
  }

  @Query(() => PolicyConnection, { description: 'Policies the caller may see, newest first.' })
  async policies(
    @Arg('filter', () => PolicyFilter, { nullable: true }) filter: PolicyFilter | null,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: RequestContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<PolicyConnection> {
    return toPolicyConnection(await this.policyService.page(ctx, { filter, first, after }, pageJoinsOf(info)));
  }

  @Mutation(() => Policy)
  async underwritePolicy(
    @Arg('insurerCode', () => String) insurerCode: string,
    @Arg('policyNo', () => String) policyNo: string,
    @Arg('overrideReason', () => String, { nullable: true }) overrideReason: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<Policy> {
    const done = await this.policyService.underwrite(ctx, insurerCode, policyNo, overrideReason);
    return toPolicy(done.entity, done.view);
  }

  @FieldResolver(() => Organization)
  async insurer(@Root() policy: Policy, @Ctx() ctx: RequestContext): Promise<Organization> {
    const org = await ctx.loaders.organizationById.load(policy.insurerId);
    if (!org) throw new NotFoundError('Organization');
    return toOrganization(org);
  }

  @FieldResolver(() => Organization, { nullable: true })
  async channel(@Root() policy: Policy, @Ctx() ctx: RequestContext): Promise<Organization | null> {
    if (policy.channelId === null) return null;
    const org = await ctx.loaders.organizationById.load(policy.channelId);
    return org ? toOrganization(org) : null;
  }

  @FieldResolver(() => Person)
  async policyholder(@Root() policy: Policy, @Ctx() ctx: RequestContext): Promise<Person> {
    const person = await ctx.loaders.personById.load(policy.policyholderId);
    if (!person) throw new NotFoundError('Person');
    return toPerson(person, policy.view, 'policyholder');
  }

  @FieldResolver(() => Person)
  async insured(@Root() policy: Policy, @Ctx() ctx: RequestContext): Promise<Person> {
    const person = await ctx.loaders.personById.load(policy.insuredId);
    if (!person) throw new NotFoundError('Person');
    return toPerson(person, policy.view, 'insured');
  }

  @FieldResolver(() => [Beneficiary])
  async beneficiaries(@Root() policy: Policy, @Ctx() ctx: RequestContext): Promise<Beneficiary[]> {
    const rows = await ctx.loaders.beneficiariesByPolicyId.load(policy.id);
    const people = await ctx.loaders.personById.loadMany(rows.map((row) => row.personId));
    return rows.map((row, i) => {
      const person = people[i];
      if (!person || person instanceof Error) throw new NotFoundError('Person');
      return toBeneficiary(row, person, policy.view, i);
    });
  }
}

/** Fields of a policy resolved from its people, and from its organizations. */
const PEOPLE_FIELDS = new Set(['policyholder', 'insured', 'beneficiaries']);
const ORGANIZATION_FIELDS = new Set(['insurer', 'channel']);

/**
 * What the `policies` selection reads of each node beyond the policy's own
 * columns (edges → node, through inline and named fragments), so the page
 * joins only that (issue 10: hydrating two people and two organizations per
 * policy that nobody asked for was most of the missing-field page's Node
 * time). Over-joining is only slower; a field not joined is loaded.
 */
function pageJoinsOf(info: GraphQLResolveInfo): PageJoins {
  const names = new Set<string>();
  for (const node of info.fieldNodes) {
    for (const edges of fieldsOf(info, node.selectionSet, 'edges')) for (const item of fieldsOf(info, edges, 'node')) for (const name of fieldNames(info, item)) names.add(name);
  }
  return { people: [...names].some((n) => PEOPLE_FIELDS.has(n)), organizations: [...names].some((n) => ORGANIZATION_FIELDS.has(n)) };
}

/** The selection sets of the fields named `name` in `set` (fragments followed). */
function fieldsOf(info: GraphQLResolveInfo, set: SelectionSetNode | undefined, name: string): SelectionSetNode[] {
  const found: SelectionSetNode[] = [];
  visitFields(info, set, (field) => {
    if (field.name.value === name && field.selectionSet) found.push(field.selectionSet);
  });
  return found;
}

/** The names of the fields selected in `set` (fragments followed). */
function fieldNames(info: GraphQLResolveInfo, set: SelectionSetNode): string[] {
  const names: string[] = [];
  visitFields(info, set, (field) => names.push(field.name.value));
  return names;
}

function visitFields(info: GraphQLResolveInfo, set: SelectionSetNode | undefined, visit: (field: FieldNode) => void, seen = new Set<string>()): void {
  for (const selection of set?.selections ?? []) {
    if (selection.kind === 'Field') visit(selection);
    else if (selection.kind === 'InlineFragment') visitFields(info, selection.selectionSet, visit, seen);
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      visitFields(info, info.fragments[selection.name.value]?.selectionSet, visit, seen);
    }
  }
}

@Resolver(() => Person)
export class PersonResolver {
  constructor(private readonly pii: PiiCipher) {}

  @FieldResolver(() => String, { nullable: true, description: 'Masked unless the caller may see full personal data.' })
  idNumber(@Root() person: Person, @Ctx() ctx: RequestContext): string | null {
    return revealIdNumber(person, this.pii, ctx.disclosures);
  }

  @FieldResolver(() => String, { nullable: true, description: 'Masked unless the caller may see full personal data.' })
  phone(@Root() person: Person, @Ctx() ctx: RequestContext): string | null {
    return revealPhone(person, this.pii, ctx.disclosures);
  }
}
