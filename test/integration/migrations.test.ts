import type { DataSource } from 'typeorm';
import { migrations } from '../../migrations';
import { createTestDataSource, TEST_DB } from '../support/db';

describe(`migrations (${TEST_DB})`, () => {
  let db: DataSource;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ db, drop } = await createTestDataSource());
    await db.initialize();
  });
  afterAll(() => drop());

  it('run up in order, leave no drift against the entities, and run all the way down', async () => {
    const applied = await db.runMigrations({ transaction: 'each' });
    expect(applied.map((m) => m.name)).toEqual(migrations.map((m) => new m().name));

    const drift = await db.driver.createSchemaBuilder().log();
    expect(drift.upQueries.map((q) => q.query)).toEqual([]);

    for (let i = 0; i < migrations.length; i += 1) await db.undoLastMigration({ transaction: 'each' });
    const runner = db.createQueryRunner();
    try {
      const tables = db.entityMetadatas.map((m) => m.tableName);
      expect(tables.length).toBeGreaterThan(0);
      const left = [];
      for (const table of tables) if (await runner.hasTable(table)) left.push(table);
      expect(left).toEqual([]);
    } finally {
      await runner.release();
    }
    expect(await db.showMigrations()).toBe(true);
  });
});

describe(`openDatabase (${TEST_DB})`, () => {
  it('with KEXIN_MIGRATE=false refuses to start while migrations are pending, and applies them otherwise', async () => {
    const { createTestDatabase } = await import('../support/db');
    const { openDatabase } = await import('../../src/db/data-source');
    const test = await createTestDatabase();
    try {
      if (test.config.type === 'sqlite') return void (await expect(openDatabase(test.config, { migrate: false })).rejects.toThrow(/pending migrations/));
      await expect(openDatabase(test.config, { migrate: false })).rejects.toThrow(/pending migrations/);
      const db = await openDatabase(test.config, { migrate: true });
      expect(await db.showMigrations()).toBe(false);
      await db.destroy();
      const again = await openDatabase(test.config, { migrate: false });
      await again.destroy();
    } finally {
      await test.drop();
    }
  });
});
