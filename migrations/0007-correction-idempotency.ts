import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * submitCorrection's optional idempotency key (issue 8, defect 9): stored on
 * the correction it produced, with the hash of the request, unique per
 * submitting organization (NULLs, corrections sent without a key, never collide).
 */
export class CorrectionIdempotency1764000000007 implements MigrationInterface {
  name = 'CorrectionIdempotency1764000000007';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('correction', [
      new TableColumn({ name: 'idempotency_key', type: 'varchar', length: '128', isNullable: true }),
      new TableColumn({ name: 'request_hash', type: 'varchar', length: '64', isNullable: true }),
    ]);
    await q.createIndex('correction', new TableIndex({ name: 'uq_correction_key', columnNames: ['submitted_by_organization_id', 'idempotency_key'], isUnique: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('correction', 'uq_correction_key');
    await q.dropColumns('correction', ['request_hash', 'idempotency_key']);
  }
}
