import type { DataSource } from 'typeorm';
import { migrations } from '../../migrations';
import { startTestApp, type TestApp } from '../support/app';
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
