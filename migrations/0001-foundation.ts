import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { id, instant } from './columns';

/** Organizations and principals (API keys stored as hashes only). */
export class Foundation1764000000001 implements MigrationInterface {
  name = 'Foundation1764000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'organization',
        columns: [
          id('id', { isPrimary: true }),
          { name: 'code', type: 'varchar', length: '32' },
          { name: 'name', type: 'varchar', length: '200' },
          { name: 'kind', type: 'varchar', length: '16' },
          instant('created_at'),
        ],
        indices: [new TableIndex({ name: 'uq_organization_code', columnNames: ['code'], isUnique: true })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'principal',
        columns: [
          id('id', { isPrimary: true }),
          id('organization_id'),
          { name: 'name', type: 'varchar', length: '200' },
          { name: 'roles', type: 'varchar', length: '100' },
          { name: 'key_hash', type: 'varchar', length: '64' },
          { name: 'is_bootstrap', type: 'boolean' },
          instant('attested_at', { isNullable: true }),
          instant('revoked_at', { isNullable: true }),
          instant('created_at'),
        ],
        indices: [
          new TableIndex({ name: 'uq_principal_key_hash', columnNames: ['key_hash'], isUnique: true }),
          new TableIndex({ name: 'ix_principal_organization', columnNames: ['organization_id'] }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('principal');
    await q.dropTable('organization');
  }
}
