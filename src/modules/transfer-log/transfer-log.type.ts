import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { PageInfo } from '../../graphql/pagination';
import { Organization } from '../organization/organization.type';

@ObjectType('TransferLogEntry', { description: 'One entry of an insurer\'s hash-chained transfer log. Ids, codes, policy numbers, field paths and a digest only.' })
export class TransferLogEntry {
  @Field(() => Int)
  seq!: number;

  @Field(() => Date)
  at!: Date;

  @Field(() => String)
  operation!: string;

  @Field(() => String, { description: 'OK, or REFUSED for a refused attempt (see errorCode).' })
  outcome!: string;

  @Field(() => String, { nullable: true, description: 'The error code of a REFUSED attempt.' })
  errorCode!: string | null;

  /** Resolved through the organization loader. */
  actorOrganizationId!: string;

  @Field(() => Organization)
  actorOrganization!: Organization;

  @Field(() => ID)
  actorPrincipalId!: string;

  /** Resolved through the organization loader. */
  counterpartyId!: string | null;

  @Field(() => Organization, { nullable: true })
  counterparty!: Organization | null;

  @Field(() => ID, { nullable: true })
  agreementId!: string | null;

  @Field(() => [String])
  policyNos!: string[];

  @Field(() => [String], { description: 'Field paths touched, e.g. policyholder.phone.' })
  fields!: string[];

  @Field(() => String, { description: 'SHA-256 (hex) of the canonical JSON of the change; the change itself is not kept.' })
  digest!: string;

  @Field(() => String)
  prevHash!: string;

  @Field(() => String, { description: 'sha256(prevHash || canonical JSON of the entry), see verify-log --export.' })
  hash!: string;
}

@ObjectType('TransferLogEdge')
export class TransferLogEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => TransferLogEntry)
  node!: TransferLogEntry;
}

@ObjectType('TransferLogConnection')
export class TransferLogConnection {
  @Field(() => [TransferLogEdge])
  edges!: TransferLogEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'Entries matching the same insurerCode, policyNo and operation, on every page (counted only when selected).' })
  totalCount!: number;
}

@ObjectType('LogVerification')
export class LogVerification {
  @Field(() => Boolean, { description: 'True when every entry, the head and the checkpoint checked (if any) agree.' })
  valid!: boolean;

  @Field(() => Int, { description: 'Entries examined.' })
  checked!: number;

  @Field(() => Int, { nullable: true, description: 'seq of the first entry that is wrong or missing.' })
  firstInvalidSeq!: number | null;

  @Field(() => String, { nullable: true, description: 'Recomputed hash of the newest entry that verified.' })
  headHash!: string | null;

  @Field(() => Int, { description: 'seq of the newest entry that verified (0 for an empty chain).' })
  headSeq!: number;

  @Field(() => String, {
    nullable: true,
    description:
      'Why it is not valid: SEQ, PREV_HASH, HASH, HEAD_MISSING, HEAD_MISMATCH, POLICY_INDEX, CHECKPOINT_INSURER, CHECKPOINT_KEY, CHECKPOINT_SIGNATURE or CHECKPOINT_NOT_EXTENDED.',
  })
  reason!: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Whether the chain extends the checkpoint checked (the one given, else the latest stored one); null when there was none.',
  })
  checkpointValid!: boolean | null;

  @Field(() => Int, { nullable: true, description: 'seq of the checkpoint checked.' })
  checkpointSeq!: number | null;
}

@ObjectType('TransferLogCheckpoint', {
  description:
    'A signed statement of a chain\'s head. Keep it as a receipt: verifyTransferLog(checkpoint:) later proves the chain still extends it.',
})
export class TransferLogCheckpoint {
  @Field(() => String)
  insurerCode!: string;

  @Field(() => Int)
  seq!: number;

  @Field(() => String)
  headHash!: string;

  @Field(() => Date)
  signedAt!: Date;

  @Field(() => String, { description: 'The Ed25519 public key, base64 of its DER SubjectPublicKeyInfo.' })
  publicKey!: string;

  @Field(() => String, { description: 'base64 Ed25519 signature over signedPayload.' })
  signature!: string;

  @Field(() => String, { description: 'The exact UTF-8 text signed: canonical JSON of {headHash, insurerCode, insurerId, seq, signedAt}.' })
  signedPayload!: string;
}

@InputType('CheckpointInput', { description: 'A checkpoint received earlier from createTransferLogCheckpoint or transferLogCheckpoint.' })
export class CheckpointInput {
  @Field(() => String)
  insurerCode!: string;

  @Field(() => Int)
  seq!: number;

  @Field(() => String)
  headHash!: string;

  @Field(() => Date)
  signedAt!: Date;

  @Field(() => String)
  publicKey!: string;

  @Field(() => String)
  signature!: string;
}
