import type { DataSource } from 'typeorm';
import { OrganizationEntity } from '../../src/modules/organization/organization.entity';
import { newId } from '../../src/db/ids';
import { createTestDataSource, TEST_DB } from '../support/db';

/**
 * The biggest scoping risk of this stack: TypeORM 0.3 turns `where: { id: undefined }`
 * into "no condition" and matches every row. Kexin's data source must throw instead.
 */
describe(`a where with null/undefined (${TEST_DB})`, () => {
  let db: DataSource;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ db, drop } = await createTestDataSource());
    await db.initialize();
    await db.runMigrations();
    const repo = db.getRepository(OrganizationEntity);
    for (const code of ['A1', 'B2']) await repo.insert({ id: newId(), code, name: code, kind: 'INSURER', createdAt: new Date() });
  });
  afterAll(() => drop());

  it('throws on undefined instead of matching every row', async () => {
    const repo = db.getRepository(OrganizationEntity);
    await expect(repo.findOneBy({ id: undefined as unknown as string })).rejects.toThrow();
    await expect(repo.findBy({ code: undefined as unknown as string })).rejects.toThrow();
  });

  it('throws on null in find, update and delete', async () => {
    const repo = db.getRepository(OrganizationEntity);
    await expect(repo.findOneBy({ id: null as unknown as string })).rejects.toThrow();
    await expect(repo.update({ id: undefined as unknown as string }, { name: 'x' })).rejects.toThrow();
    await expect(repo.delete({ id: null as unknown as string })).rejects.toThrow();
    expect(await repo.count()).toBe(2);
    expect((await repo.find()).map((o) => o.name).sort()).toEqual(['A1', 'B2']);
  });
});
