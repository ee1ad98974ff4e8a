import type { DataSource } from 'typeorm';
import { PersonEntity } from '../../src/modules/policy/person.entity';
import { PolicyEntity } from '../../src/modules/policy/policy.entity';
import { SalesBatchEntity } from '../../src/modules/sales/sales.entity';
import { MAX_BATCH_RECORDS } from '../../src/modules/sales/sales.validation';
import { TransferLogEntryEntity } from '../../src/modules/transfer-log/transfer-log.entity';
import { startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { person, salesRecord, salesSetup } from '../support/sales';
import { failStatements } from '../support/sql';

/** Counts every SQL statement any query runner of `db` sends (wraps the runner class's `query`). */
function statementCounter(db: DataSource) {
  const runner = db.createQueryRunner();
  const proto = Object.getPrototypeOf(runner) as { query: (...args: unknown[]) => Promise<unknown> };
  if (db.options.type !== 'better-sqlite3') void runner.release();
  const original = proto.query;
  const statements: string[] = [];
  proto.query = function (this: unknown, ...args: unknown[]) {
    statements.push(String(args[0]));
    return original.apply(this, args);
  };
  return {
    statements,
    reset: () => statements.splice(0),
    restore: () => {
      proto.query = original;
    },
  };
}

/** N complete records, each with a (new) beneficiary: 2N people. */
function batch(prefix: string, n: number, overrides: (i: number) => Record<string, unknown> = () => ({})) {
  return Array.from({ length: n }, (_, i) => salesRecord(`${prefix}-${i}`, { beneficiaries: [{ person: person(), relationshipToInsured: 'OTHER', sharePercent: 100, order: 1 }], ...overrides(i) }));
}

describe(`sales write path is built for batches (${TEST_DB})`, () => {
  let app: TestApp;
  let s: Awaited<ReturnType<typeof salesSetup>>;
  let counter: ReturnType<typeof statementCounter>;

  beforeAll(async () => {
    app = await startTestApp();
    s = await salesSetup(app);
    counter = statementCounter(app.db);
  });
  afterAll(async () => {
    counter.restore();
    await app.close();
  });

  async function statementsFor(key: string, records: unknown[]): Promise<number> {
    const ctx = await app.server.contextFor(s.bank.keys.SALES);
    counter.reset();
    const result = await app.services.sales.submit(ctx, s.insurer.code, key, records as never);
    const n = counter.statements.length;
    expect(result.rejected).toBe(0);
    return n;
  }

  it('sends the same number of statements for 10 and for 100 new records, and for the MAX_BATCH_RECORDS of a full batch only what chunking adds', async () => {
    const ten = await statementsFor('n-10', batch('TEN', 10));
    const hundred = await statementsFor('n-100', batch('HUNDRED', 100));
    expect(hundred).toBe(ten);
    if (process.env.SHOW_SQL) console.log(counter.statements.map((q) => q.slice(0, 120)).join('\n'));
    const full = await statementsFor('n-full', batch('FULL', MAX_BATCH_RECORDS));
    // Each table is written in one multi-row statement at any batch size; only the
    // lookups by IN lists of CHUNK_IN (1000) values grow past 1000 people or policies.
    expect(full).toBeLessThanOrEqual(ten + 3);
    expect(ten).toBeLessThan(40);
  });

  it('also when the records replace pending ones (new versions, people re-matched, beneficiaries replaced)', async () => {
    const ten = await statementsFor('r-10', batch('TEN', 10, () => ({ productCode: 'LIFE-30Y' })));
    const hundred = await statementsFor('r-100', batch('HUNDRED', 100, () => ({ productCode: 'LIFE-30Y' })));
    expect(hundred).toBe(ten);
    const versions = await app.db.getRepository(PolicyEntity).findBy({ insurerId: s.insurer.id, productCode: 'LIFE-30Y' });
    expect(versions).toHaveLength(110);
    expect(versions.every((p) => p.version === 2)).toBe(true);
  });

  it('a failure in the middle of a batch rolls everything back: no policy, person, batch or log entry survives', async () => {
    const before = {
      policies: await app.db.getRepository(PolicyEntity).count(),
      people: await app.db.getRepository(PersonEntity).count(),
      batches: await app.db.getRepository(SalesBatchEntity).count(),
      log: await app.db.getRepository(TransferLogEntryEntity).count(),
    };
    // Fail the statement that writes the missing-field rows, after people and policies were written.
    const restore = failStatements(app.db, /INSERT INTO [`"]policy_missing_field[`"]/);
    try {
      const ctx = await app.server.contextFor(s.bank.keys.SALES);
      await expect(app.services.sales.submit(ctx, s.insurer.code, 'fails-midway', batch('FAIL', 5, () => ({ policyholder: person({ phone: null }) })))).rejects.toThrow('simulated failure');
    } finally {
      restore();
    }
    expect({
      policies: await app.db.getRepository(PolicyEntity).count(),
      people: await app.db.getRepository(PersonEntity).count(),
      batches: await app.db.getRepository(SalesBatchEntity).count(),
      log: await app.db.getRepository(TransferLogEntryEntity).count(),
    }).toEqual(before);
    // The same key then applies normally: nothing of the failed attempt was kept.
    const ctx = await app.server.contextFor(s.bank.keys.SALES);
    const retried = await app.services.sales.submit(ctx, s.insurer.code, 'fails-midway', batch('FAIL2', 2));
    expect(retried).toMatchObject({ replayed: false, accepted: 2 });
  });
});
