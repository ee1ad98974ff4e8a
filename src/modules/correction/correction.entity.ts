import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { idColumn, instantColumn, numberTransformer } from '../../db/columns';

/** Contract enum `PersonRole`: whose record a correction changes. */
export const PERSON_ROLES = ['POLICYHOLDER', 'INSURED', 'BENEFICIARY'] as const;
export type PersonRole = (typeof PERSON_ROLES)[number];

/** Contract enum `EvidenceMethod`: how the customer's request for the change was obtained. */
export const EVIDENCE_METHODS = ['SIGNED_FORM', 'E_SIGNATURE', 'CALLBACK_RECORDING', 'IN_PERSON_VERIFIED'] as const;
export type EvidenceMethod = (typeof EVIDENCE_METHODS)[number];

/**
 * One accepted correction of a policy's customer information
 * (`submitCorrection`; Art. 7 of the measures: phone and address are
 * corrected promptly, at the customer's request). Rows are never updated or
 * deleted: this table is the correction history, and the transfer log holds
 * the matching entry. The values before and after are in
 * `correction_change`; this row holds who, when, on which evidence, and the
 * policy version the correction produced.
 */
@Entity('correction')
@Index('ix_correction_policy', ['insurerId', 'policyId', 'id'])
@Index('uq_correction_key', ['submittedByOrganizationId', 'idempotencyKey'], { unique: true })
export class CorrectionEntity {
  @PrimaryColumn({ ...idColumn, name: 'id' })
  id!: string;

  @Column({ ...idColumn, name: 'insurer_id' })
  insurerId!: string;

  @Column({ ...idColumn, name: 'policy_id' })
  policyId!: string;

  /** The policy number at the time (upper-case, as stored on the policy). */
  @Column({ type: 'varchar', length: 64, name: 'policy_no' })
  policyNo!: string;

  /** {@link PersonRole}. */
  @Column({ type: 'varchar', length: 16, name: 'target' })
  target!: string;

  /** The beneficiary's `order`, when target is BENEFICIARY. */
  @Column({ type: 'int', name: 'beneficiary_order', nullable: true, transformer: numberTransformer })
  beneficiaryOrder!: number | null;

  /** The person row changed (shared by every policy naming that person at the insurer). */
  @Column({ ...idColumn, name: 'person_id' })
  personId!: string;

  /** JSON array of the field paths changed, e.g. ["policyholder.phone","insuredRelationship"]. */
  @Column({ type: 'text', name: 'changed_fields' })
  changedFields!: string;

  /** {@link EvidenceMethod}. */
  @Column({ type: 'varchar', length: 32, name: 'evidence_method' })
  evidenceMethod!: string;

  /** Where the evidence is kept (form number, recording id…), as given. */
  @Column({ type: 'varchar', length: 200, name: 'evidence_reference' })
  evidenceReference!: string;

  /** When the customer confirmed the request. */
  @Column({ ...instantColumn, name: 'evidence_confirmed_at' })
  evidenceConfirmedAt!: Date;

  @Column({ ...idColumn, name: 'submitted_by_organization_id' })
  submittedByOrganizationId!: string;

  @Column({ ...idColumn, name: 'submitted_by_principal_id' })
  submittedByPrincipalId!: string;

  /** The ACTIVE agreement granting CORRECT_RECORDS when a partner submitted; null for the insurer's own staff. */
  @Column({ ...idColumn, name: 'agreement_id', nullable: true })
  agreementId!: string | null;

  /** The policy version this correction produced. */
  @Column({ type: 'int', name: 'version', transformer: numberTransformer })
  version!: number;

  /** The caller's idempotency key, unique per submitting organization; null when sent without one. */
  @Column({ type: 'varchar', length: 128, name: 'idempotency_key', nullable: true })
  idempotencyKey!: string | null;

  /** SHA-256 of the request, for a replay with the key (sealed values only as their blind indexes); null without a key. */
  @Column({ type: 'varchar', length: 64, name: 'request_hash', nullable: true })
  requestHash!: string | null;

  @Column({ ...instantColumn, name: 'created_at' })
  createdAt!: Date;
}

/**
 * The value of one field before and after a correction. ID numbers and
 * phones are kept sealed exactly like on the person row (AES-256-GCM, with
 * the id of the key that sealed each side: the value before is the person
 * row's ciphertext as it was, never decrypted here); the other fields are
 * kept as the person row keeps them, in clear. Opened only by
 * correction.mapper, which masks them for a partner without VIEW_FULL_PII.
 */
@Entity('correction_change')
@Index('ix_correction_change_correction', ['correctionId', 'ord'])
export class CorrectionChangeEntity {
  @PrimaryColumn({ ...idColumn, name: 'id' })
  id!: string;

  @Column({ ...idColumn, name: 'correction_id' })
  correctionId!: string;

  @Column({ ...idColumn, name: 'insurer_id' })
  insurerId!: string;

  /** Position in the correction (field order of PersonInput, then insuredRelationship). */
  @Column({ type: 'int', name: 'ord', transformer: numberTransformer })
  ord!: number;

  /** Field path, e.g. `policyholder.phone`, `beneficiaries[0].name`, `insuredRelationship`. */
  @Column({ type: 'varchar', length: 64, name: 'field' })
  field!: string;

  @Column({ type: 'text', name: 'before_value', nullable: true })
  beforeValue!: string | null;

  /** Key id of a sealed `before_value` (null for values kept in clear). */
  @Column({ type: 'varchar', length: 16, name: 'before_key_id', nullable: true })
  beforeKeyId!: string | null;

  @Column({ type: 'text', name: 'after_value', nullable: true })
  afterValue!: string | null;

  /** Key id of a sealed `after_value` (null for values kept in clear). */
  @Column({ type: 'varchar', length: 16, name: 'after_key_id', nullable: true })
  afterKeyId!: string | null;
}
