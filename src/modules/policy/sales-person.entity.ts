import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { idColumn, instantColumn } from '../../db/columns';

/**
 * A sales person registered by a channel (销售实名制): the code that goes on
 * every policy they sell, and their phone (encrypted, with a blind index) so
 * that `PHONE_IS_SALES_PERSON` can fire when a policyholder's phone is theirs.
 */
@Entity('sales_person')
@Index('uq_sales_person_code', ['organizationId', 'code'], { unique: true })
@Index('ix_sales_person_phone', ['phoneBidx'])
export class SalesPersonEntity {
  @PrimaryColumn({ ...idColumn, name: 'id' })
  id!: string;

  /** The channel (BROKER or BANK_CHANNEL) the person sells for. */
  @Column({ ...idColumn, name: 'organization_id' })
  organizationId!: string;

  @Column({ type: 'varchar', length: 64, name: 'code' })
  code!: string;

  @Column({ type: 'varchar', length: 100, name: 'name' })
  name!: string;

  @Column({ type: 'text', name: 'phone_enc' })
  phoneEnc!: string;

  @Column({ type: 'varchar', length: 64, name: 'phone_bidx' })
  phoneBidx!: string;

  @Column({ type: 'varchar', length: 16, name: 'key_id' })
  keyId!: string;

  @Column({ ...instantColumn, name: 'created_at' })
  createdAt!: Date;
}
