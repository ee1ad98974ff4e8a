import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { idColumn, instantColumn } from '../../db/columns';

/**
 * A `submitSales` call that was applied: its idempotency key, a SHA-256 of
 * its canonical records, and the payload returned, replayed as is when the
 * same key comes again. The payload holds policy numbers, codes and field
 * paths only, never a person's data. `json` (LONGTEXT on MariaDB) because a
 * batch of 1000 verdicts outgrows a 64 KiB TEXT.
 */
@Entity('sales_batch')
@Index('uq_sales_batch_key', ['organizationId', 'idempotencyKey'], { unique: true })
export class SalesBatchEntity {
  @PrimaryColumn({ ...idColumn, name: 'id' })
  id!: string;

  @Column({ ...idColumn, name: 'insurer_id' })
  insurerId!: string;

  /** The submitting channel. */
  @Column({ ...idColumn, name: 'organization_id' })
  organizationId!: string;

  @Column({ type: 'varchar', length: 128, name: 'idempotency_key' })
  idempotencyKey!: string;

  @Column({ type: 'varchar', length: 64, name: 'payload_hash' })
  payloadHash!: string;

  @Column({ type: 'json', name: 'response' })
  response!: unknown;

  @Column({ ...instantColumn, name: 'created_at' })
  createdAt!: Date;
}

/** The stored answer of a batch: a JSON column, handed back parsed by MySQL and as text by SQLite. */
export function storedResponse<T>(batch: SalesBatchEntity): T {
  return (typeof batch.response === 'string' ? JSON.parse(batch.response) : batch.response) as T;
}
