import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { idColumn, instantColumn } from '../../db/columns';

/** Contract enum `AgreementScope`, in contract order: what a partner may do with an insurer's data. */
export const AGREEMENT_SCOPES = ['SUBMIT_SALES', 'READ_POLICIES', 'CORRECT_RECORDS', 'READ_COMPLETENESS', 'VIEW_FULL_PII'] as const;
export type AgreementScope = (typeof AGREEMENT_SCOPES)[number];

/** Contract enum `AgreementStatus`: computed at request time (never stored), see `agreementStatus`. */
export const AGREEMENT_STATUSES = ['PROPOSED', 'ACTIVE', 'TERMINATED', 'EXPIRED'] as const;
export type AgreementStatus = (typeof AGREEMENT_STATUSES)[number];

/**
 * A data-sharing agreement between one INSURER and one partner (BROKER or
 * BANK_CHANNEL). Its status is derived from the signatures, the termination
 * and the validity window at the time of each request, so no job has to flip
 * it when `valid_to` passes. Rows are never deleted: a termination is a new
 * state of the same row, and the transfer log keeps every change.
 */
@Entity('agreement')
@Index('ix_agreement_insurer_partner', ['insurerId', 'partnerId'])
@Index('ix_agreement_partner', ['partnerId'])
export class AgreementEntity {
  @PrimaryColumn({ ...idColumn, name: 'id' })
  id!: string;

  @Column({ ...idColumn, name: 'insurer_id' })
  insurerId!: string;

  @Column({ ...idColumn, name: 'partner_id' })
  partnerId!: string;

  /** Comma-separated {@link AgreementScope} values, deduplicated, in contract order. */
  @Column({ type: 'varchar', length: 100, name: 'scopes' })
  scopes!: string;

  @Column({ ...instantColumn, name: 'valid_from' })
  validFrom!: Date;

  /** Exclusive end: the agreement is ACTIVE while `validFrom <= now < validTo`. */
  @Column({ ...instantColumn, name: 'valid_to' })
  validTo!: Date;

  /** The party whose ADMIN proposed it; that side counts as signed, the other side signs. */
  @Column({ ...idColumn, name: 'proposed_by_organization_id' })
  proposedByOrganizationId!: string;

  @Column({ ...idColumn, name: 'proposed_by_principal_id' })
  proposedByPrincipalId!: string;

  @Column({ ...instantColumn, name: 'insurer_signed_at', nullable: true })
  insurerSignedAt!: Date | null;

  /** Principal id of the insurer's ADMIN who signed. */
  @Column({ ...idColumn, name: 'insurer_signed_by', nullable: true })
  insurerSignedBy!: string | null;

  @Column({ ...instantColumn, name: 'partner_signed_at', nullable: true })
  partnerSignedAt!: Date | null;

  /** Principal id of the partner's ADMIN who signed. */
  @Column({ ...idColumn, name: 'partner_signed_by', nullable: true })
  partnerSignedBy!: string | null;

  @Column({ ...instantColumn, name: 'terminated_at', nullable: true })
  terminatedAt!: Date | null;

  @Column({ ...idColumn, name: 'terminated_by_principal_id', nullable: true })
  terminatedByPrincipalId!: string | null;

  @Column({ ...idColumn, name: 'terminated_by_organization_id', nullable: true })
  terminatedByOrganizationId!: string | null;

  @Column({ type: 'varchar', length: 500, name: 'termination_reason', nullable: true })
  terminationReason!: string | null;

  @Column({ ...instantColumn, name: 'created_at' })
  createdAt!: Date;
}
