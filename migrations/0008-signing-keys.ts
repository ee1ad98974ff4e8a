import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { id, instant } from './columns';

/**
 * `exchange_key`: the public identity of every key used with this database
 * (the PII key id, the checkpoint signing public keys), so checkpoints signed
 * before a restart with another key keep verifying and a wrong data key is
 * refused at start.
 */
export class SigningKeys1764000000008 implements MigrationInterface {
  name = 'SigningKeys1764000000008';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'exchange_key',
        columns: [
          id('id', { isPrimary: true }),
          { name: 'purpose', type: 'varchar', length: '16' },
          { name: 'key_id', type: 'varchar', length: '200' },
          instant('first_used_at'),
        ],
        indices: [new TableIndex({ name: 'uq_exchange_key_purpose_key', columnNames: ['purpose', 'key_id'], isUnique: true })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('exchange_key');
  }
}
