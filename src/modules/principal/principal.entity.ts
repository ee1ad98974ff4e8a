import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { idColumn, instantColumn } from '../../db/columns';

export const ROLES = ['ADMIN', 'SALES', 'SERVICE', 'UNDERWRITER', 'COMPLIANCE'] as const;
export type Role = (typeof ROLES)[number];

@Entity('principal')
@Index('uq_principal_key_hash', ['keyHash'], { unique: true })
@Index('ix_principal_organization', ['organizationId'])
export class PrincipalEntity {
  @PrimaryColumn({ ...idColumn, name: 'id' })
  id!: string;

  @Column({ ...idColumn, name: 'organization_id' })
  organizationId!: string;


  @Column({ type: 'varchar', length: 200, name: 'name' })
  name!: string;

  /** Comma-separated {@link Role} values. */
  @Column({ type: 'varchar', length: 100, name: 'roles' })
  roles!: string;

  /** SHA-256 (hex) of the API key; the key itself is shown once and never stored. */
  @Column({ type: 'varchar', length: 64, name: 'key_hash' })
  keyHash!: string;

  /** The bootstrap principal answers to KEXIN_ADMIN_TOKEN. */
  @Column({ type: 'boolean', name: 'is_bootstrap' })
  isBootstrap!: boolean;

  /** When the principal signed the staff attestation (no change without the customer's request). */
  @Column({ ...instantColumn, name: 'attested_at', nullable: true })
  attestedAt!: Date | null;

  @Column({ ...instantColumn, name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;

  @Column({ ...instantColumn, name: 'created_at' })
  createdAt!: Date;
}

export function parseRoles(stored: string): Role[] {
  return stored.split(',').filter((r): r is Role => (ROLES as readonly string[]).includes(r));
}
