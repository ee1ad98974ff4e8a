import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { id, instant } from './columns';

/** Historical clean-up campaigns (startRemediation): the campaign and the policies its snapshot flagged. */
export class Remediation1764000000005 implements MigrationInterface {
  name = 'Remediation1764000000005';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'remediation_campaign',
        columns: [
          id('id', { isPrimary: true }),
          id('insurer_id'),
          { name: 'issued_before', type: 'date' },
          { name: 'deadline', type: 'date' },
          { name: 'checked', type: 'integer' },
          { name: 'flagged', type: 'integer' },
          { name: 'checked_by_channel', type: 'text' },
          id('created_by'),
          instant('created_at'),
        ],
        indices: [new TableIndex({ name: 'ix_remediation_campaign_insurer', columnNames: ['insurer_id', 'id'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'remediation_item',
        columns: [
          id('campaign_id', { isPrimary: true }),
          id('policy_id', { isPrimary: true }),
          id('insurer_id'),
          id('channel_id', { isNullable: true }),
          { name: 'reasons', type: 'varchar', length: '500' },
        ],
        indices: [new TableIndex({ name: 'ix_remediation_item_channel', columnNames: ['campaign_id', 'channel_id'] })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('remediation_item');
    await q.dropTable('remediation_campaign');
  }
}
