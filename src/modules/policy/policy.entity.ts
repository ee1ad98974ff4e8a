import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { dateColumn, idColumn, instantColumn, numberTransformer } from '../../db/columns';

export const POLICY_STATUSES = ['PENDING', 'UNDERWRITTEN'] as const;
export type PolicyStatusValue = (typeof POLICY_STATUSES)[number];

/**
 * A policy of one insurer, with the channel that sold it and the real sales
 * person's code (销售实名制). Its completeness verdict is stored with it
 * (`completeness`, `issues`, and one `policy_missing_field` row per missing
 * path) and rewritten in the same transaction as every change, so lists and
 * summaries filter through indexes.
 */
@Entity('policy')
@Index('uq_policy_no', ['insurerId', 'policyNo'], { unique: true })
@Index('ix_policy_completeness', ['insurerId', 'completeness', 'id'])
@Index('ix_policy_channel', ['insurerId', 'channelId', 'completeness'])
@Index('ix_policy_status', ['insurerId', 'status'])
@Index('ix_policy_holder', ['insurerId', 'policyholderId'])
@Index('ix_policy_insured', ['insurerId', 'insuredId'])
@Index('ix_policy_seller', ['channelId', 'salesPersonCode'])
@Index('ix_policy_app_date', ['insurerId', 'applicationDate'])
@Index('ix_policy_recent', ['insurerId', 'id'])
@Index('ix_policy_channel_recent', ['insurerId', 'channelId', 'id'])
export class PolicyEntity {
  @PrimaryColumn({ ...idColumn, name: 'id' })
  id!: string;

  @Column({ ...idColumn, name: 'insurer_id' })
  insurerId!: string;

  @Column({ type: 'varchar', length: 64, name: 'policy_no' })
  policyNo!: string;

  /** The selling organization (BROKER or BANK_CHANNEL); null = sold directly. */
  @Column({ ...idColumn, name: 'channel_id', nullable: true })
  channelId!: string | null;

  @Column({ type: 'varchar', length: 64, name: 'sales_person_code', nullable: true })
  salesPersonCode!: string | null;

  @Column({ type: 'varchar', length: 64, name: 'product_code' })
  productCode!: string;

  @Column({ type: 'int', name: 'term_months', transformer: numberTransformer })
  termMonths!: number;

  /** 'YYYY-MM-DD'. */
  @Column({ ...dateColumn, name: 'application_date' })
  applicationDate!: string;

  /** {@link PolicyStatusValue}. */
  @Column({ type: 'varchar', length: 16, name: 'status' })
  status!: string;

  @Column({ ...idColumn, name: 'policyholder_id' })
  policyholderId!: string;

  @Column({ ...idColumn, name: 'insured_id' })
  insuredId!: string;

  /** Relationship of the insured to the policyholder. */
  @Column({ type: 'varchar', length: 16, name: 'insured_relationship', nullable: true })
  insuredRelationship!: string | null;

  /** 'COMPLETE' | 'INCOMPLETE' | 'SUSPECT'. */
  @Column({ type: 'varchar', length: 16, name: 'completeness' })
  completeness!: string;

  /** JSON array of {field, code, message}: field paths and codes only, never a person's data. */
  @Column({ type: 'text', name: 'issues' })
  issues!: string;

  /** Edit version of the record: 1 at creation, +1 per replacement or correction. */
  @Column({ type: 'int', name: 'version', transformer: numberTransformer })
  version!: number;

  @Column({ ...instantColumn, name: 'underwritten_at', nullable: true })
  underwrittenAt!: Date | null;

  /** Principal id of the underwriter. */
  @Column({ ...idColumn, name: 'underwritten_by', nullable: true })
  underwrittenBy!: string | null;

  /** The reason given to underwrite a SUSPECT record (only its digest goes to the log). */
  @Column({ type: 'varchar', length: 500, name: 'underwriting_override', nullable: true })
  underwritingOverride!: string | null;

  /** The sales batch that last wrote the record. */
  @Column({ ...idColumn, name: 'batch_id', nullable: true })
  batchId!: string | null;

  @Column({ ...instantColumn, name: 'created_at' })
  createdAt!: Date;

  @Column({ ...instantColumn, name: 'updated_at' })
  updatedAt!: Date;
}

/** A designated beneficiary of a policy (rows are replaced with each new version). */
@Entity('policy_beneficiary')
@Index('ix_beneficiary_policy', ['policyId'])
@Index('ix_beneficiary_person', ['personId'])
export class PolicyBeneficiaryEntity {
  @PrimaryColumn({ ...idColumn, name: 'id' })
  id!: string;

  @Column({ ...idColumn, name: 'insurer_id' })
  insurerId!: string;

  @Column({ ...idColumn, name: 'policy_id' })
  policyId!: string;

  @Column({ ...idColumn, name: 'person_id' })
  personId!: string;

  @Column({ type: 'int', name: 'ord', nullable: true, transformer: numberTransformer })
  ord!: number | null;

  /** Relationship of the beneficiary to the insured. */
  @Column({ type: 'varchar', length: 16, name: 'relationship_to_insured', nullable: true })
  relationshipToInsured!: string | null;

  /** Decimal kept as text (no float drift between databases); the API gives a Float. */
  @Column({ type: 'varchar', length: 16, name: 'share_percent', nullable: true })
  sharePercent!: string | null;
}

/**
 * One row per required field path missing on a policy (`completeness.missing`),
 * so `policies(filter: {missingField})` and the summaries use an index.
 */
@Entity('policy_missing_field')
@Index('ix_missing_field', ['insurerId', 'field', 'policyId'])
export class PolicyMissingFieldEntity {
  @PrimaryColumn({ ...idColumn, name: 'policy_id' })
  policyId!: string;

  @PrimaryColumn({ type: 'varchar', length: 64, name: 'field' })
  field!: string;

  @Column({ ...idColumn, name: 'insurer_id' })
  insurerId!: string;
}
