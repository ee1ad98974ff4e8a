import { Table, TableIndex, type MigrationInterface, type QueryRunner, type TableColumnOptions } from 'typeorm';
import { id, instant } from './columns';

function varchar(name: string, length: number, extra: Partial<TableColumnOptions> = {}): TableColumnOptions {
  return { name, type: 'varchar', length: String(length), ...extra };
}

/** The correction history (submitCorrection): one row per correction, one per changed field (ID numbers and phones sealed). */
export class Corrections1764000000006 implements MigrationInterface {
  name = 'Corrections1764000000006';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'correction',
        columns: [
          id('id', { isPrimary: true }),
          id('insurer_id'),
          id('policy_id'),
          varchar('policy_no', 64),
          varchar('target', 16),
          { name: 'beneficiary_order', type: 'integer', isNullable: true },
          id('person_id'),
          { name: 'changed_fields', type: 'text' },
          varchar('evidence_method', 32),
          varchar('evidence_reference', 200),
          instant('evidence_confirmed_at'),
          id('submitted_by_organization_id'),
          id('submitted_by_principal_id'),
          id('agreement_id', { isNullable: true }),
          { name: 'version', type: 'integer' },
          instant('created_at'),
        ],
        indices: [new TableIndex({ name: 'ix_correction_policy', columnNames: ['insurer_id', 'policy_id', 'id'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'correction_change',
        columns: [
          id('id', { isPrimary: true }),
          id('correction_id'),
          id('insurer_id'),
          { name: 'ord', type: 'integer' },
          varchar('field', 64),
          { name: 'before_value', type: 'text', isNullable: true },
          varchar('before_key_id', 16, { isNullable: true }),
          { name: 'after_value', type: 'text', isNullable: true },
          varchar('after_key_id', 16, { isNullable: true }),
        ],
        indices: [new TableIndex({ name: 'ix_correction_change_correction', columnNames: ['correction_id', 'ord'] })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('correction_change');
    await q.dropTable('correction');
  }
}
