import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { idColumn, instantColumn, numberTransformer } from '../../db/columns';

/** 64 lower-case hex characters (SHA-256). VARCHAR, not CHAR: TypeORM's SQLite driver has no CHAR. */
export const hashColumn = { type: 'varchar', length: 64 } as const;

/**
 * One entry of an insurer's hash chain (contract README "Writes"). Holds ids,
 * codes, field paths and a digest only (its policy numbers are rows of
 * `transfer_log_policy`): never a person's data.
 * Rows are only ever inserted (TransferLogWriter.append); nothing updates or
 * deletes them. `insurerId` is the chain: the insurer's organization id, or
 * the EXCHANGE organization's id for the exchange's own chain.
 */
@Entity('transfer_log')
@Index('uq_transfer_log_chain_seq', ['insurerId', 'seq'], { unique: true })
@Index('ix_transfer_log_chain_operation', ['insurerId', 'operation', 'seq'])
export class TransferLogEntryEntity {
  @PrimaryColumn({ ...idColumn, name: 'id' })
  id!: string;

  @Column({ ...idColumn, name: 'insurer_id' })
  insurerId!: string;

  /** 1, 2, 3 … without gaps per chain. */
  @Column({ type: 'integer', name: 'seq', transformer: numberTransformer })
  seq!: number;

  @Column({ ...instantColumn, name: 'at' })
  at!: Date;

  @Column({ type: 'varchar', length: 64, name: 'operation' })
  operation!: string;

  /** 'OK' or 'REFUSED'. */
  @Column({ type: 'varchar', length: 16, name: 'outcome' })
  outcome!: string;

  @Column({ type: 'varchar', length: 64, name: 'error_code', nullable: true })
  errorCode!: string | null;

  @Column({ ...idColumn, name: 'actor_principal_id' })
  actorPrincipalId!: string;

  @Column({ ...idColumn, name: 'actor_organization_id' })
  actorOrganizationId!: string;

  @Column({ ...idColumn, name: 'counterparty_id', nullable: true })
  counterpartyId!: string | null;

  @Column({ ...idColumn, name: 'agreement_id', nullable: true })
  agreementId!: string | null;

  /** JSON text array of field paths, exactly as hashed. */
  @Column({ type: 'text', name: 'fields' })
  fields!: string;

  /** SHA-256 (hex) of the canonical JSON of the change; the change itself is not stored. */
  @Column({ ...hashColumn, name: 'digest' })
  digest!: string;

  @Column({ ...hashColumn, name: 'prev_hash' })
  prevHash!: string;

  @Column({ ...hashColumn, name: 'hash' })
  hash!: string;
}

/**
 * The policy numbers an entry names, one row each: `ord` is the number's
 * position in the entry's hashed `policyNos` array (transfer-log.policies.ts
 * rebuilds the array from the rows, so an edited row breaks the hash). The
 * primary key serves `transferLog(policyNo:)`; (insurer_id, seq, ord) reads
 * a page of entries' numbers in order.
 */
@Entity('transfer_log_policy')
@Index('uq_transfer_log_policy_entry', ['insurerId', 'seq', 'ord'], { unique: true })
export class TransferLogPolicyEntity {
  @PrimaryColumn({ ...idColumn, name: 'insurer_id' })
  insurerId!: string;

  @PrimaryColumn({ type: 'varchar', length: 64, name: 'policy_no' })
  policyNo!: string;

  @PrimaryColumn({ type: 'integer', name: 'seq', transformer: numberTransformer })
  seq!: number;

  /** Position in the entry's `policyNos` (0-based). */
  @Column({ type: 'integer', name: 'ord', transformer: numberTransformer })
  ord!: number;
}

/**
 * The head of each chain: the row append locks (SELECT … FOR UPDATE on MySQL)
 * so that concurrent appends to one chain are serialized while different
 * chains never wait on each other.
 */
@Entity('transfer_log_head')
export class TransferLogHeadEntity {
  @PrimaryColumn({ ...idColumn, name: 'insurer_id' })
  insurerId!: string;

  /** seq of the newest entry (0 while the chain is empty). */
  @Column({ type: 'integer', name: 'seq', transformer: numberTransformer })
  seq!: number;

  /** hash of the newest entry (GENESIS_HASH while empty). */
  @Column({ ...hashColumn, name: 'hash' })
  hash!: string;

  @Column({ ...instantColumn, name: 'updated_at' })
  updatedAt!: Date;
}

/**
 * A signed statement "chain `insurerId` had head `headHash` at `seq`", signed
 * with the exchange's Ed25519 key. A copy kept outside the database (a
 * partner's receipt) shows later whether the chain still extends it.
 */
@Entity('transfer_log_checkpoint')
@Index('ix_transfer_log_checkpoint_chain', ['insurerId', 'seq'])
export class TransferLogCheckpointEntity {
  @PrimaryColumn({ ...idColumn, name: 'id' })
  id!: string;

  @Column({ ...idColumn, name: 'insurer_id' })
  insurerId!: string;

  /** The chain's organization code at signing time (it is part of the signed payload). */
  @Column({ type: 'varchar', length: 32, name: 'insurer_code' })
  insurerCode!: string;

  @Column({ type: 'integer', name: 'seq', transformer: numberTransformer })
  seq!: number;

  @Column({ ...hashColumn, name: 'head_hash' })
  headHash!: string;

  @Column({ ...instantColumn, name: 'signed_at' })
  signedAt!: Date;

  /** base64 of the DER SubjectPublicKeyInfo of the Ed25519 signing key. */
  @Column({ type: 'varchar', length: 200, name: 'public_key' })
  publicKey!: string;

  /** base64 Ed25519 signature over the canonical JSON of {insurerId, insurerCode, seq, headHash, signedAt}. */
  @Column({ type: 'varchar', length: 200, name: 'signature' })
  signature!: string;
}
