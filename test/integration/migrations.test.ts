import type { DataSource } from 'typeorm';
import { migrations } from '../../migrations';
import { startTestApp, type TestApp } from '../support/app';
import { newId } from '../../src/db/ids';
import { entryHash, GENESIS_HASH } from '../../src/domain/hash-chain';
import { changeDigest } from '../../src/modules/transfer-log/transfer-log.chain';
import { policyNosOfEntries } from '../../src/modules/transfer-log/transfer-log.policies';
import { scanChain } from '../../src/modules/transfer-log/transfer-log.verifier';
import { createTestDataSource, TEST_DB } from '../support/db';
import { person, salesRecord, salesSetup, submit } from '../support/sales';

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

/** Tables of the current database (the migrations' own bookkeeping left out). */
async function kexinTables(db: DataSource): Promise<string[]> {
  const rows = (await db.query("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME <> 'kexin_migrations' ORDER BY 1")) as Array<{ t: string }>;
  return rows.map((r) => r.t);
}

/** Every row of every table, as sorted JSON lines per table: equal snapshots mean no row changed. */
async function snapshot(db: DataSource): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of await kexinTables(db)) out[table] = ((await db.query(`SELECT * FROM \`${table}\``)) as unknown[]).map((r) => JSON.stringify(r)).sort();
  return out;
}

/** The collation of every VARCHAR(36) column, `table.column` → collation. */
async function idCollations(db: DataSource): Promise<Record<string, string>> {
  const rows = (await db.query(
    "SELECT TABLE_NAME AS t, COLUMN_NAME AS c, COLLATION_NAME AS co FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND DATA_TYPE = 'varchar' AND CHARACTER_MAXIMUM_LENGTH = 36 AND TABLE_NAME <> 'kexin_migrations'",
  )) as Array<{ t: string; c: string; co: string }>;
  return Object.fromEntries(rows.map((r) => [`${r.t}.${r.c}`, r.co]));
}

const onMysql = TEST_DB === 'mysql' ? describe : describe.skip;

onMysql('compact ids (0011, MySQL/MariaDB)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('leaves every id column ascii_bin, and only id columns (all are VARCHAR(36) named id, *_id, *_by or channel_key)', async () => {
    const collations = await idCollations(app.db);
    expect(Object.keys(collations).length).toBeGreaterThan(50);
    for (const [column, collation] of Object.entries(collations)) {
      expect([column, collation]).toEqual([column, 'ascii_bin']);
      expect(column).toMatch(/\.(id|.+_id|.+_by|channel_key)$/);
    }
    const others = (await app.db.query("SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND COLLATION_NAME = 'ascii_bin' AND NOT (DATA_TYPE = 'varchar' AND CHARACTER_MAXIMUM_LENGTH = 36)")) as Array<{ n: number | string }>;
    expect(Number(others[0]!.n)).toBe(0);
  });

  it('keeps every row of a book written before it, and down() restores the table collation', async () => {
    const executed = async () => ((await app.db.query('SELECT name FROM kexin_migrations')) as Array<{ name: string }>).map((r) => r.name);
    while ((await executed()).includes('CompactIds1764000000011')) await app.db.undoLastMigration({ transaction: 'each' });
    expect(new Set(Object.values(await idCollations(app.db)))).toEqual(new Set(['utf8mb4_unicode_ci']));

    const { insurer, bank } = await salesSetup(app);
    const beneficiary = person();
    const records = [salesRecord('CI-1'), salesRecord('CI-2', { beneficiaries: [{ order: 1, sharePercent: 100, relationshipToInsured: 'CHILD', person: beneficiary }] }), salesRecord('CI-3', { policyholder: person({ phone: null }) })];
    const submitted = await submit(app, bank.keys.SALES, insurer.code, 'compact-ids', records);
    expect(submitted.errors).toBeUndefined();
    const before = await snapshot(app.db);

    await app.db.runMigrations({ transaction: 'each' });
    expect(await snapshot(app.db)).toEqual(before);
    expect(new Set(Object.values(await idCollations(app.db)))).toEqual(new Set(['ascii_bin']));

    const read = await app.ok<{ policy: { policyNo: string; beneficiaries: Array<{ person: { name: string } }> } }>(
      insurer.keys.ADMIN,
      'query($c: String!) { policy(insurerCode: $c, policyNo: "CI-2") { policyNo beneficiaries { person { name } } } }',
      { c: insurer.code },
    );
    expect(read.policy).toEqual({ policyNo: 'CI-2', beneficiaries: [{ person: { name: beneficiary.name } }] });
    const chain = await app.services.transferLogVerifier.verifyChain({ id: insurer.id, code: insurer.code });
    expect(chain.valid).toBe(true);
  });

  it('keeps point reads and id joins on their indexes, with ids bound as string parameters (text and prepared)', async () => {
    // Reads the book the test before wrote (a plan needs rows to choose from).
    const [policy] = (await app.db.query('SELECT id, insurer_id FROM policy LIMIT 1')) as Array<{ id: string; insurer_id: string }>;
    const pool = (app.db.driver as unknown as { pool: { promise(): { execute(sql: string, values: unknown[]): Promise<[unknown[], unknown]> } } }).pool.promise();
    const plans = async (sql: string, values: unknown[]) => [
      (await app.db.query(`EXPLAIN ${sql}`, values)) as Array<{ table: string; type: string; key: string | null }>,
      (await pool.execute(`EXPLAIN ${sql}`, values))[0] as Array<{ table: string; type: string; key: string | null }>,
    ];
    for (const plan of await plans('SELECT * FROM policy WHERE id = ?', [policy!.id])) {
      expect(plan.map((p) => [p.type, p.key])).toEqual([['const', 'PRIMARY']]);
    }
    const join = 'SELECT p.policy_no, h.name FROM policy p JOIN person h ON h.id = p.policyholder_id WHERE p.insurer_id = ?';
    for (const plan of await plans(join, [policy!.insurer_id])) {
      const person = plan.find((p) => p.table === 'h')!;
      expect([person.type, person.key]).toEqual(['eq_ref', 'PRIMARY']);
    }
  });

  it('answers ids from the wire that are not ASCII as unknown, never with the SQL error ascii_bin would raise', async () => {
    // `ascii_col = 'é'` is ER 1267 (illegal mix of collations), where utf8mb4 found no row: every id
    // argument and id cursor must pass isId before SQL. This pins the ones the contract has.
    const { insurer } = await salesSetup(app);
    const admin = insurer.keys.ADMIN;
    const id = '0190aaaa-bbbb-7ccc-8ddd-测试é';
    const cursor = Buffer.from(`pol:${id}`, 'utf8').toString('base64url');
    const calls: Array<[string, Record<string, unknown>]> = [
      ['mutation($id: ID!) { revokePrincipal(id: $id) { id } }', { id }],
      ['mutation($id: ID!) { signAgreement(id: $id) { id } }', { id }],
      ['mutation($id: ID!) { terminateAgreement(id: $id, reason: "x") { id } }', { id }],
      ['query($id: ID!) { remediationCampaign(id: $id) { id } }', { id }],
      ['query($after: String) { policies(first: 1, after: $after) { edges { cursor } } }', { after: cursor }],
    ];
    for (const [query, variables] of calls) {
      const result = await app.gql(admin, query, variables);
      expect([query, result.errors?.[0]?.extensions?.code ?? 'OK']).not.toEqual([query, 'INTERNAL_SERVER_ERROR']);
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
    await downTo0008();
  });
  afterEach(() => drop());

  /** Back to the schema of 0008, with the JSON column: every later migration undone, 0009 last. */
  async function downTo0008(): Promise<void> {
    const at0009 = migrations.findIndex((m) => m.name.startsWith('TransferLogPolicyRows'));
    for (let n = migrations.length - at0009; n > 0; n -= 1) await db.undoLastMigration({ transaction: 'each' });
  }

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

    await downTo0008();
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
