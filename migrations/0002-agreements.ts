import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { id, instant } from './columns';

/** Data-sharing agreements between an insurer and a partner (status is computed, never stored). */
export class Agreements1764000000002 implements MigrationInterface {
  name = 'Agreements1764000000002';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'agreement',
        columns: [
          id('id', { isPrimary: true }),
          id('insurer_id'),
          id('partner_id'),
          { name: 'scopes', type: 'varchar', length: '100' },
          instant('valid_from'),
          instant('valid_to'),
          id('proposed_by_organization_id'),
          id('proposed_by_principal_id'),
          instant('insurer_signed_at', { isNullable: true }),
          id('insurer_signed_by', { isNullable: true }),
          instant('partner_signed_at', { isNullable: true }),
          id('partner_signed_by', { isNullable: true }),
          instant('terminated_at', { isNullable: true }),
          id('terminated_by_principal_id', { isNullable: true }),
          id('terminated_by_organization_id', { isNullable: true }),
          { name: 'termination_reason', type: 'varchar', length: '500', isNullable: true },
          instant('created_at'),
        ],
        indices: [
          new TableIndex({ name: 'ix_agreement_insurer_partner', columnNames: ['insurer_id', 'partner_id'] }),
          new TableIndex({ name: 'ix_agreement_partner', columnNames: ['partner_id'] }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('agreement');
  }
}
