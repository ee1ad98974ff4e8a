import type { DataSource } from 'typeorm';
import { migrations } from '../../migrations';
import { newId } from '../../src/db/ids';
import { entryHash, GENESIS_HASH } from '../../src/domain/hash-chain';
import { changeDigest } from '../../src/modules/transfer-log/transfer-log.chain';
import { policyNosOfEntries } from '../../src/modules/transfer-log/transfer-log.policies';
import { scanChain } from '../../src/modules/transfer-log/transfer-log.verifier';
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

describe(`migration 0009: an entry's policy numbers move from policy_nos into its rows (${TEST_DB})`, () => {
  let db: DataSource;
  let drop: () => Promise<void>;
  const AT = '2026-01-02 03:04:05.678';

  beforeEach(async () => {
    ({ db, drop } = await createTestDataSource());
    await db.initialize();
    await db.runMigrations({ transaction: 'each' });
    await db.undoLastMigration({ transaction: 'each' }); // the schema of 0008, with the JSON column
  });
  afterEach(() => drop());

  /** Appends entries the way the writer did before 0009: JSON policy_nos, index rows without ordinals. Returns the head hash. */
  async function appendOld(chainId: string, lists: string[][]): Promise<string> {
    let prevHash = GENESIS_HASH;
    for (const [i, policyNos] of lists.entries()) {
      const seq = i + 1;
      const content = { id: newId(), seq, insurerId: chainId, at: new Date(`${AT.replace(' ', 'T')}Z`), operation: 'submitSales', outcome: 'OK', errorCode: null, actorPrincipalId: chainId, actorOrganizationId: chainId, counterpartyId: null, agreementId: null, policyNos, fields: [], digest: changeDigest({ seq }) };
      const hash = entryHash(prevHash, content);
      await db.query(
        'INSERT INTO transfer_log (id, insurer_id, seq, at, operation, outcome, error_code, actor_principal_id, actor_organization_id, counterparty_id, agreement_id, policy_nos, fields, digest, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, NULL, NULL, ?, ?, ?, ?, ?)',
        [content.id, chainId, seq, AT, 'submitSales', 'OK', chainId, chainId, JSON.stringify(policyNos), '[]', content.digest, prevHash, hash],
      );
      for (const policyNo of policyNos) await db.query('INSERT INTO transfer_log_policy (insurer_id, policy_no, seq) VALUES (?, ?, ?)', [chainId, policyNo, seq]);
      prevHash = hash;
    }
    return prevHash;
  }

  const scan = (chainId: string) => scanChain(db, chainId, { afterSeq: 0, afterHash: GENESIS_HASH, untilSeq: null });

  it('keeps every hash: entries written before it verify after it, with their numbers in the hashed order; down restores the JSON', async () => {
    const chainId = newId();
    const lists = [['OLD-1', 'OLD-3', 'OLD-2'], [], ['OLD-4']];
    const head = await appendOld(chainId, lists);
    await db.runMigrations({ transaction: 'each' });
    expect(await scan(chainId)).toMatchObject({ verification: { valid: true, checked: 3, headHash: head }, policyIndexBadSeq: null, lastSeq: 3 });
    expect(await policyNosOfEntries(db, chainId, [1, 2, 3])).toEqual(new Map([[1, lists[0]], [2, []], [3, lists[2]]]));

    await db.undoLastMigration({ transaction: 'each' });
    const rows: Array<{ policy_nos: string }> = await db.query('SELECT policy_nos FROM transfer_log WHERE insurer_id = ? ORDER BY seq', [chainId]);
    expect(rows.map((r) => JSON.parse(r.policy_nos))).toEqual(lists);
  });

  it('an index row its entry did not name before it is still reported after it', async () => {
    const chainId = newId();
    await appendOld(chainId, [['OLD-1'], ['OLD-2', 'OLD-3']]);
    await db.query('INSERT INTO transfer_log_policy (insurer_id, policy_no, seq) VALUES (?, ?, ?)', [chainId, 'STRAY', 2]);
    await db.runMigrations({ transaction: 'each' });
    expect(await scan(chainId)).toMatchObject({ verification: { valid: false, firstInvalidSeq: 2 } });
  });

  it('refuses to carry over an entry whose policy_nos was edited into something that is not an array of strings', async () => {
    const chainId = newId();
    await appendOld(chainId, [['OLD-1']]);
    await db.query('UPDATE transfer_log SET policy_nos = ? WHERE insurer_id = ?', ['not json', chainId]);
    await expect(db.runMigrations({ transaction: 'each' })).rejects.toThrow(/entry 1 of chain .* not a JSON array of strings/);
  });
});
