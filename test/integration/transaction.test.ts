import type { DataSource } from 'typeorm';
import { inTransaction, isRetryableError } from '../../src/db/transaction';
import { OrganizationEntity } from '../../src/modules/organization/organization.entity';
import { newId } from '../../src/db/ids';
import { createTestDataSource, TEST_DB } from '../support/db';
import { crossedUpdates } from '../support/deadlock';

describe(`inTransaction (${TEST_DB})`, () => {
  let db: DataSource;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ db, drop } = await createTestDataSource());
    await db.initialize();
    await db.runMigrations();
  });
  afterAll(() => drop());

  it('runs 20 concurrent read-modify-write transactions without losing or colliding', async () => {
    const id = newId();
    await db.getRepository(OrganizationEntity).insert({ id, code: 'CNT', name: '0', kind: 'BROKER', createdAt: new Date() });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () =>
        inTransaction(db, async (em) => {
          const repo = em.getRepository(OrganizationEntity);
          const row = await repo.createQueryBuilder('o').setLock(TEST_DB === 'mysql' ? 'pessimistic_write' : undefined as never).where('o.id = :id', { id }).getOneOrFail();
          await new Promise((resolve) => setImmediate(resolve));
          await repo.update({ id }, { name: String(Number(row.name) + 1) });
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect((await db.getRepository(OrganizationEntity).findOneByOrFail({ id })).name).toBe('20');
  });

  it('rolls back everything when the work throws', async () => {
    await expect(
      inTransaction(db, async (em) => {
        await em.getRepository(OrganizationEntity).insert({ id: newId(), code: 'ROLLED', name: 'x', kind: 'BROKER', createdAt: new Date() });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await db.getRepository(OrganizationEntity).findOneBy({ code: 'ROLLED' })).toBeNull();
  });

  it('recognises deadlock and lock-wait timeout as retryable, nothing else', () => {
    expect(isRetryableError({ errno: 1213 })).toBe(true);
    expect(isRetryableError({ driverError: { errno: 1205 } })).toBe(true);
    expect(isRetryableError({ errno: 1062 })).toBe(false);
    expect(isRetryableError(new Error('x'))).toBe(false);
  });

  (TEST_DB === 'mysql' ? it : it.skip)('retries the whole transaction after a real deadlock (MySQL)', async () => {
    const a = newId();
    const b = newId();
    const repo = db.getRepository(OrganizationEntity);
    await repo.insert([
      { id: a, code: 'DLA', name: '0', kind: 'BROKER', createdAt: new Date() },
      { id: b, code: 'DLB', name: '0', kind: 'BROKER', createdAt: new Date() },
    ]);
    let retries = 0;
    await crossedUpdates(db, a, b, { onRetry: () => (retries += 1), backoffMs: 5 });
    expect(retries).toBeGreaterThanOrEqual(1);
    const rows = await repo.findBy([{ id: a }, { id: b }]);
    expect(rows.map((r) => r.name)).toEqual(['2', '2']);
  });
});
