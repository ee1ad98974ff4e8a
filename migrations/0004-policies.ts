import { Table, TableIndex, type MigrationInterface, type QueryRunner, type TableColumnOptions } from 'typeorm';
import { id, instant } from './columns';

function varchar(name: string, length: number, extra: Partial<TableColumnOptions> = {}): TableColumnOptions {
  return { name, type: 'varchar', length: String(length), ...extra };
}

function text(name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions {
  return { name, type: 'text', ...extra };
}

/**
 * Policies, the people on them (ID numbers and phones encrypted, found by
 * blind index), beneficiaries, the stored completeness (status + missing
 * paths), channels' sales people and applied sales batches.
 */
export class Policies1764000000004 implements MigrationInterface {
  name = 'Policies1764000000004';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'person',
        columns: [
          id('id', { isPrimary: true }),
          id('insurer_id'),
          varchar('name', 100, { isNullable: true }),
          varchar('gender', 8, { isNullable: true }),
          { name: 'birth_date', type: 'date', isNullable: true },
          varchar('id_type', 40, { isNullable: true }),
          text('id_number_enc', { isNullable: true }),
          varchar('id_number_bidx', 64, { isNullable: true }),
          text('phone_enc', { isNullable: true }),
          varchar('phone_bidx', 64, { isNullable: true }),
          varchar('address', 500, { isNullable: true }),
          varchar('key_id', 16, { isNullable: true }),
          text('facts'),
          instant('created_at'),
          instant('updated_at'),
        ],
        indices: [
          new TableIndex({ name: 'uq_person_identity', columnNames: ['insurer_id', 'id_number_bidx'], isUnique: true }),
          new TableIndex({ name: 'ix_person_phone', columnNames: ['insurer_id', 'phone_bidx'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'policy',
        columns: [
          id('id', { isPrimary: true }),
          id('insurer_id'),
          varchar('policy_no', 64),
          id('channel_id', { isNullable: true }),
          varchar('sales_person_code', 64, { isNullable: true }),
          varchar('product_code', 64),
          { name: 'term_months', type: 'integer' },
          { name: 'application_date', type: 'date' },
          varchar('status', 16),
          id('policyholder_id'),
          id('insured_id'),
          varchar('insured_relationship', 16, { isNullable: true }),
          varchar('completeness', 16),
          text('issues'),
          { name: 'version', type: 'integer' },
          instant('underwritten_at', { isNullable: true }),
          id('underwritten_by', { isNullable: true }),
          varchar('underwriting_override', 500, { isNullable: true }),
          id('batch_id', { isNullable: true }),
          instant('created_at'),
          instant('updated_at'),
        ],
        indices: [
          new TableIndex({ name: 'uq_policy_no', columnNames: ['insurer_id', 'policy_no'], isUnique: true }),
          new TableIndex({ name: 'ix_policy_completeness', columnNames: ['insurer_id', 'completeness', 'id'] }),
          new TableIndex({ name: 'ix_policy_channel', columnNames: ['insurer_id', 'channel_id', 'completeness'] }),
          new TableIndex({ name: 'ix_policy_status', columnNames: ['insurer_id', 'status'] }),
          new TableIndex({ name: 'ix_policy_holder', columnNames: ['insurer_id', 'policyholder_id'] }),
          new TableIndex({ name: 'ix_policy_insured', columnNames: ['insurer_id', 'insured_id'] }),
          new TableIndex({ name: 'ix_policy_seller', columnNames: ['channel_id', 'sales_person_code'] }),
          new TableIndex({ name: 'ix_policy_app_date', columnNames: ['insurer_id', 'application_date'] }),
          // Newest-first pages (ORDER BY id DESC) of a whole book and of one channel's book.
          new TableIndex({ name: 'ix_policy_recent', columnNames: ['insurer_id', 'id'] }),
          new TableIndex({ name: 'ix_policy_channel_recent', columnNames: ['insurer_id', 'channel_id', 'id'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'policy_beneficiary',
        columns: [
          id('id', { isPrimary: true }),
          id('insurer_id'),
          id('policy_id'),
          id('person_id'),
          { name: 'ord', type: 'integer', isNullable: true },
          varchar('relationship_to_insured', 16, { isNullable: true }),
          varchar('share_percent', 16, { isNullable: true }),
        ],
        indices: [
          new TableIndex({ name: 'ix_beneficiary_policy', columnNames: ['policy_id'] }),
          new TableIndex({ name: 'ix_beneficiary_person', columnNames: ['person_id'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'policy_missing_field',
        columns: [id('policy_id', { isPrimary: true }), varchar('field', 64, { isPrimary: true }), id('insurer_id')],
        indices: [new TableIndex({ name: 'ix_missing_field', columnNames: ['insurer_id', 'field', 'policy_id'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'sales_person',
        columns: [
          id('id', { isPrimary: true }),
          id('organization_id'),
          varchar('code', 64),
          varchar('name', 100),
          text('phone_enc'),
          varchar('phone_bidx', 64),
          varchar('key_id', 16),
          instant('created_at'),
        ],
        indices: [
          new TableIndex({ name: 'uq_sales_person_code', columnNames: ['organization_id', 'code'], isUnique: true }),
          new TableIndex({ name: 'ix_sales_person_phone', columnNames: ['phone_bidx'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'sales_batch',
        columns: [
          id('id', { isPrimary: true }),
          id('insurer_id'),
          id('organization_id'),
          varchar('idempotency_key', 128),
          varchar('payload_hash', 64),
          { name: 'response', type: 'json' },
          instant('created_at'),
        ],
        indices: [new TableIndex({ name: 'uq_sales_batch_key', columnNames: ['organization_id', 'idempotency_key'], isUnique: true })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('sales_batch');
    await q.dropTable('sales_person');
    await q.dropTable('policy_missing_field');
    await q.dropTable('policy_beneficiary');
    await q.dropTable('policy');
    await q.dropTable('person');
  }
}
