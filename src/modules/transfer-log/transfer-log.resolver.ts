import { Arg, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../graphql/context';
import { NotFoundError } from '../../graphql/errors';
import { toOrganization } from '../organization/organization.mapper';
import { Organization } from '../organization/organization.type';
import { toLogVerification, toTransferLogCheckpoint, toTransferLogConnection } from './transfer-log.mapper';
import { CheckpointInput, LogVerification, TransferLogCheckpoint, TransferLogConnection, TransferLogEntry } from './transfer-log.type';
import type { TransferLogCheckpoints } from './transfer-log.checkpoints';
import type { TransferLogReader } from './transfer-log.reader';
import type { TransferLogVerifier } from './transfer-log.verifier';

@Resolver(() => TransferLogEntry)
export class TransferLogResolver {
  constructor(
    private readonly reader: Pick<TransferLogReader, 'list'>,
    private readonly verifier: Pick<TransferLogVerifier, 'verify'>,
    private readonly checkpoints: Pick<TransferLogCheckpoints, 'latestCheckpoint' | 'createCheckpoint'>,
  ) {}

  @Query(() => TransferLogConnection, { description: 'An insurer\'s transfer log, newest first. insurerCode EXCHANGE is the exchange\'s own chain.' })
  async transferLog(
    @Arg('insurerCode', () => String) insurerCode: string,
    @Arg('policyNo', () => String, { nullable: true }) policyNo: string | null,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('operation', () => String, { nullable: true, description: 'Only entries of this operation, e.g. signAgreement.' }) operation: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<TransferLogConnection> {
    return toTransferLogConnection(await this.reader.list(ctx, { insurerCode, policyNo, first, after, operation }));
  }

  @Query(() => LogVerification)
  async verifyTransferLog(
    @Arg('insurerCode', () => String) insurerCode: string,
    @Arg('checkpoint', () => CheckpointInput, { nullable: true, description: 'A checkpoint kept earlier: also prove the chain extends it.' })
    checkpoint: CheckpointInput | null,
    @Ctx() ctx: RequestContext,
  ): Promise<LogVerification> {
    return toLogVerification(await this.verifier.verify(ctx, insurerCode, checkpoint));
  }

  @Query(() => TransferLogCheckpoint, { nullable: true, description: 'The latest signed checkpoint of a chain (null when none yet).' })
  async transferLogCheckpoint(@Arg('insurerCode', () => String) insurerCode: string, @Ctx() ctx: RequestContext): Promise<TransferLogCheckpoint | null> {
    const checkpoint = await this.checkpoints.latestCheckpoint(ctx, insurerCode);
    return checkpoint ? toTransferLogCheckpoint(checkpoint) : null;
  }

  @Mutation(() => TransferLogCheckpoint, { description: 'Signs a checkpoint of the chain\'s current head now.' })
  async createTransferLogCheckpoint(@Arg('insurerCode', () => String) insurerCode: string, @Ctx() ctx: RequestContext): Promise<TransferLogCheckpoint> {
    return toTransferLogCheckpoint(await this.checkpoints.createCheckpoint(ctx, insurerCode));
  }

  @FieldResolver(() => Organization)
  async actorOrganization(@Root() entry: TransferLogEntry, @Ctx() ctx: RequestContext): Promise<Organization> {
    const org = await ctx.loaders.organizationById.load(entry.actorOrganizationId);
    if (!org) throw new NotFoundError('Organization');
    return toOrganization(org);
  }

  @FieldResolver(() => Organization, { nullable: true })
  async counterparty(@Root() entry: TransferLogEntry, @Ctx() ctx: RequestContext): Promise<Organization | null> {
    if (!entry.counterpartyId) return null;
    const org = await ctx.loaders.organizationById.load(entry.counterpartyId);
    return org ? toOrganization(org) : null;
  }
}
