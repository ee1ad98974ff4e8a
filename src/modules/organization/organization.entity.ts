import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { idColumn, instantColumn } from '../../db/columns';

export const ORGANIZATION_KINDS = ['EXCHANGE', 'INSURER', 'BROKER', 'BANK_CHANNEL', 'REGULATOR'] as const;
export type OrganizationKind = (typeof ORGANIZATION_KINDS)[number];

@Entity('organization')
@Index('uq_organization_code', ['code'], { unique: true })
export class OrganizationEntity {
  @PrimaryColumn({ ...idColumn, name: 'id' })
  id!: string;

  @Column({ type: 'varchar', length: 32, name: 'code' })
  code!: string;

  @Column({ type: 'varchar', length: 200, name: 'name' })
  name!: string;

  @Column({ type: 'varchar', length: 16, name: 'kind' })
  kind!: OrganizationKind;

  @Column({ ...instantColumn, name: 'created_at' })
  createdAt!: Date;
}
