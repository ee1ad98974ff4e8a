import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context';
import { NotFoundError } from '../../graphql/errors';
import { toOrganization } from '../organization/organization.mapper';
import { Organization } from '../organization/organization.type';
import { RegisterSalesPersonInput, SalesRecordInput } from './sales.inputs';
import { toSalesPerson, toSubmitSalesPayload } from './sales.mapper';
import { SalesPerson, SubmitSalesPayload } from './sales.type';
import type { SalesService } from './sales.service';
import type { SalesPeopleService } from './sales-people.service';
import type { PiiCipher } from '../person/pii';

@Resolver(() => SalesPerson)
export class SalesResolver {
  constructor(
    private readonly salesService: SalesService,
    private readonly salesPeople: SalesPeopleService,
    private readonly pii: PiiCipher,
  ) {}

  @Mutation(() => SubmitSalesPayload, {
    description: 'A channel pushes up to 1000 sold policies; each record is judged on its own (see SalesRecordResult). The same idempotencyKey replays the stored result.',
  })
  async submitSales(
    @Arg('insurerCode', () => String) insurerCode: string,
    @Arg('idempotencyKey', () => String) idempotencyKey: string,
    @Arg('records', () => [SalesRecordInput]) records: SalesRecordInput[],
    @Ctx() ctx: RequestContext,
  ): Promise<SubmitSalesPayload> {
    return toSubmitSalesPayload(await this.salesService.submit(ctx, insurerCode, idempotencyKey, records));
  }

  @Mutation(() => SalesPerson, { description: 'Registers (or re-registers) a channel\'s sales person code with a name and a phone (销售实名制).' })
  async registerSalesPerson(@Arg('input', () => RegisterSalesPersonInput) input: RegisterSalesPersonInput, @Ctx() ctx: RequestContext): Promise<SalesPerson> {
    return toSalesPerson(await this.salesPeople.registerSalesPerson(ctx, input), this.pii);
  }

  @FieldResolver(() => Organization)
  async organization(@Root() person: SalesPerson, @Ctx() ctx: RequestContext): Promise<Organization> {
    const org = await ctx.loaders.organizationById.load(person.organizationId);
    if (!org) throw new NotFoundError('Organization');
    return toOrganization(org);
  }
}
