import { Table, TableIndex, type MigrationInterface, type QueryRunner, type TableColumnOptions } from 'typeorm';
import { id, instant } from './columns';

function hash(name: string): TableColumnOptions {
  return { name, type: 'varchar', length: '64' };
}

/** The hash-chained transfer log: entries, their policy-number index, chain heads and signed checkpoints. */
export class TransferLog1764000000003 implements MigrationInterface {
  name = 'TransferLog1764000000003';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'transfer_log',
        columns: [
          id('id', { isPrimary: true }),
          id('insurer_id'),
          { name: 'seq', type: 'integer' },
          instant('at'),
          { name: 'operation', type: 'varchar', length: '64' },
          { name: 'outcome', type: 'varchar', length: '16' },
          { name: 'error_code', type: 'varchar', length: '64', isNullable: true },
          id('actor_principal_id'),
          id('actor_organization_id'),
          id('counterparty_id', { isNullable: true }),
          id('agreement_id', { isNullable: true }),
          { name: 'policy_nos', type: 'text' },
          { name: 'fields', type: 'text' },
          hash('digest'),
          hash('prev_hash'),
          hash('hash'),
        ],
        indices: [
          new TableIndex({ name: 'uq_transfer_log_chain_seq', columnNames: ['insurer_id', 'seq'], isUnique: true }),
          new TableIndex({ name: 'ix_transfer_log_chain_operation', columnNames: ['insurer_id', 'operation', 'seq'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'transfer_log_policy',
        columns: [id('insurer_id', { isPrimary: true }), { name: 'policy_no', type: 'varchar', length: '64', isPrimary: true }, { name: 'seq', type: 'integer', isPrimary: true }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'transfer_log_head',
        columns: [id('insurer_id', { isPrimary: true }), { name: 'seq', type: 'integer' }, hash('hash'), instant('updated_at')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'transfer_log_checkpoint',
        columns: [
          id('id', { isPrimary: true }),
          id('insurer_id'),
          { name: 'insurer_code', type: 'varchar', length: '32' },
          { name: 'seq', type: 'integer' },
          hash('head_hash'),
          instant('signed_at'),
          { name: 'public_key', type: 'varchar', length: '200' },
          { name: 'signature', type: 'varchar', length: '200' },
        ],
        indices: [new TableIndex({ name: 'ix_transfer_log_checkpoint_chain', columnNames: ['insurer_id', 'seq'] })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('transfer_log_checkpoint');
    await q.dropTable('transfer_log_head');
    await q.dropTable('transfer_log_policy');
    await q.dropTable('transfer_log');
  }
}
