/**
 * The completeness counters of migration 0010 (`completeness_count`,
 * `missing_field_count`, kept by triggers) against a GROUP BY over the base
 * tables after every kind of write: sales batches (new policies and
 * re-submitted, changed ones: the upsert's UPDATE path), re-flags by a phone
 * that becomes shared, corrections, underwriting, the own-book write, and
 * plain deletes. And the missing-field page, driven from
 * `policy_missing_field`, against the same rows read from `policy`. Made-up
 * people only.
 */
import { startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty } from '../support/factories';
import { person, submit, type PersonIn } from '../support/sales';
import { completeSeed, seedPolicies } from '../support/seed';
import { failStatements } from '../support/sql';

const CORRECT = `mutation($input: CorrectionInput!) { submitCorrection(input: $input) { id policy { completeness { status } } } }`;
const UNDERWRITE = 'mutation($i: String!, $no: String!) { underwritePolicy(insurerCode: $i, policyNo: $no) { status } }';
const PAGE = `query($filter: PolicyFilter, $after: String) {
  policies(filter: $filter, first: 4, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { policyNo } } }
}`;

type Row = Record<string, unknown>;

describe(`completeness counters kept by triggers (${TEST_DB})`, () => {
  let app: TestApp;
  let insurer: Awaited<ReturnType<typeof createParty>>;
  let broker: Awaited<ReturnType<typeof createParty>>;
  let bank: Awaited<ReturnType<typeof createParty>>;
  let batch = 0;

  /** Rows as comparable text: MySQL hands back DATEs as Date objects and SUMs as strings. */
  const normalized = (rows: Row[]) =>
    rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Date ? v.toISOString().slice(0, 10) : v === null ? null : String(v)]))).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  const query = async (sql: string) => normalized((await app.db.query(sql)) as Row[]);

  /** The counters (rows at 0 left out: they may stay) equal the GROUP BY over `policy` and `policy_missing_field`. */
  async function expectCountersExact(): Promise<void> {
    const bucket = "p.insurer_id AS i, COALESCE(p.channel_id, '') AS ch, p.product_code AS pr, p.application_date AS d";
    expect(await query('SELECT insurer_id AS i, channel_key AS ch, product_code AS pr, application_date AS d, completeness AS s, policies AS n FROM completeness_count WHERE policies <> 0')).toEqual(
      await query(`SELECT ${bucket}, p.completeness AS s, COUNT(*) AS n FROM policy p GROUP BY p.insurer_id, COALESCE(p.channel_id, ''), p.product_code, p.application_date, p.completeness`),
    );
    expect(await query('SELECT insurer_id AS i, channel_key AS ch, product_code AS pr, application_date AS d, field AS f, policies AS n FROM missing_field_count WHERE policies <> 0')).toEqual(
      await query(
        `SELECT ${bucket.replace('p.insurer_id', 'm.insurer_id')}, m.field AS f, COUNT(*) AS n FROM policy_missing_field m JOIN policy p ON p.id = m.policy_id GROUP BY m.insurer_id, COALESCE(p.channel_id, ''), p.product_code, p.application_date, m.field`,
      ),
    );
    const negative = await query('SELECT policies FROM completeness_count WHERE policies < 0 UNION ALL SELECT policies FROM missing_field_count WHERE policies < 0');
    expect(negative).toEqual([]);
  }

  async function sell(salesKey: string, records: Array<Record<string, unknown>>) {
    batch += 1;
    const result = await submit(app, salesKey, insurer.code, `cnt-${batch}`, records);
    expect(result.errors).toBeUndefined();
    return result.data!.submitSales;
  }

  function record(policyNo: string, holder: PersonIn, overrides: Record<string, unknown> = {}) {
    return { policyNo, productCode: 'LIFE-20Y', termMonths: 240, applicationDate: '2026-01-15', policyholder: holder, insured: holder, insuredRelationship: 'SELF', ...overrides };
  }

  beforeAll(async () => {
    app = await startTestApp();
    insurer = await createParty(app, 'INSURER', ['ADMIN', 'UNDERWRITER'], { attested: true });
    broker = await createParty(app, 'BROKER', ['ADMIN', 'SALES', 'SERVICE'], { attested: true });
    bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES'], { attested: true });
    const sign = { proposerKey: insurer.keys.ADMIN, insurerCode: insurer.code };
    await createAgreement(app, { ...sign, partnerCode: broker.code, scopes: ['SUBMIT_SALES', 'READ_POLICIES', 'CORRECT_RECORDS'], signerKey: broker.keys.ADMIN });
    await createAgreement(app, { ...sign, partnerCode: bank.code, scopes: ['SUBMIT_SALES', 'READ_POLICIES'], signerKey: bank.keys.ADMIN });
  });
  afterAll(() => app.close());

  const shared = '13900001111';
  const holders = new Map<string, PersonIn>();
  const holderOf = (no: string, overrides: PersonIn = {}) => {
    const p = holders.get(no) ?? person(overrides);
    holders.set(no, p);
    return p;
  };

  it('every counter trigger is in place after all migrations (a later migration that rebuilds policy on SQLite would drop them)', async () => {
    const sql =
      TEST_DB === 'mysql'
        ? 'SELECT trigger_name AS name FROM information_schema.triggers WHERE trigger_schema = DATABASE()'
        : "SELECT name FROM sqlite_master WHERE type = 'trigger'";
    const names = ((await app.db.query(sql)) as Array<{ name: string }>).map((r) => r.name).sort();
    expect(names).toEqual(['trg_missing_count_del', 'trg_missing_count_ins', 'trg_missing_count_upd', 'trg_policy_count_del', 'trg_policy_count_ins', 'trg_policy_count_upd']);
  });

  it('new policies of two channels: counted per channel, product, day and status, with their missing fields', async () => {
    const products = ['LIFE-20Y', 'WL-30'];
    const dates = ['2026-01-15', '2026-02-03', '2026-03-28'];
    const records = Array.from({ length: 12 }, (_, i) =>
      record(`K-${i}`, holderOf(`K-${i}`, i % 4 === 1 ? { phone: null } : i % 4 === 2 ? { phone: null, address: null } : {}), { productCode: products[i % 2], applicationDate: dates[i % 3] }),
    );
    expect((await sell(broker.keys.SALES, records)).accepted).toBe(12);
    expect((await sell(bank.keys.SALES, [record('B-0', holderOf('B-0', { phone: null })), record('B-1', holderOf('B-1', { phone: shared }))])).accepted).toBe(2);
    await expectCountersExact();
  });

  it('re-submitted policies that change product, date, phone and channel-side data (the upsert path) move between counters', async () => {
    const records = [
      record('K-0', holderOf('K-0'), { productCode: 'HEALTH-LT' }),
      record('K-1', { ...holderOf('K-1'), phone: '13900002222' }, { applicationDate: '2026-04-01' }),
      record('K-2', holderOf('K-2'), { applicationDate: '2026-05-05', productCode: 'ANNUITY-10' }),
      record('K-3', { ...holderOf('K-3'), phone: null }),
    ];
    expect((await sell(broker.keys.SALES, records)).accepted).toBe(4);
    await expectCountersExact();
  });

  it('a phone that becomes shared re-flags other policies (recomputed in the same batch): counted under their new status', async () => {
    const result = await sell(broker.keys.SALES, [record('K-20', person({ phone: shared })), record('K-21', person({ phone: shared }))]);
    expect(result.accepted).toBe(2);
    expect(result.results.every((r) => r.completeness!.status === 'SUSPECT')).toBe(true);
    await expectCountersExact();
  });

  it('a correction, underwriting and the own-book write (channel null: the direct key)', async () => {
    const rows = (await app.db.query("SELECT version FROM policy WHERE policy_no = 'K-5'")) as Array<{ version: number | string }>;
    const corrected = await app.gql(broker.keys.SERVICE, CORRECT, {
      input: {
        insurerCode: insurer.code,
        policyNo: 'K-5',
        target: 'POLICYHOLDER',
        changes: { phone: '13900003333' },
        evidence: { method: 'CALLBACK_RECORDING', reference: 'REC-1', confirmedAt: new Date(Date.now() - 3_600_000).toISOString() },
        expectedVersion: Number(rows[0]!.version),
      },
    });
    expect(corrected.errors).toBeUndefined();
    expect((await app.gql(insurer.keys.UNDERWRITER, UNDERWRITE, { i: insurer.code, no: 'K-4' })).errors).toBeUndefined();
    await seedPolicies(app, [completeSeed(insurer.id, 'D-0'), completeSeed(insurer.id, 'D-1', { policyholder: { ...completeSeed(insurer.id, 'x').policyholder, phone: null } })]);
    await expectCountersExact();
  });

  it('a batch that fails midway (after its policies were written) rolls its counter changes back with it', async () => {
    const restore = failStatements(app.db, /INSERT INTO [`"]policy_missing_field[`"]/);
    try {
      const ctx = await app.server.contextFor(bank.keys.SALES);
      const records = [record('F-0', person({ phone: null })), record('B-0', { ...holderOf('B-0'), phone: null }, { productCode: 'WL-30' })];
      await expect(app.services.sales.submit(ctx, insurer.code, 'cnt-fails', records as never)).rejects.toThrow('simulated failure');
    } finally {
      restore();
    }
    await expectCountersExact();
  });

  it('plain SQL writes too: a policy moved to another channel carries its missing fields; deletes uncount', async () => {
    await app.db.query("UPDATE policy SET channel_id = NULL, application_date = '2026-06-30' WHERE policy_no = 'B-0'");
    await expectCountersExact();
    await app.db.query("UPDATE policy_missing_field SET field = 'policyholder.other' WHERE field = 'policyholder.address'");
    await expectCountersExact();
    await app.db.query("DELETE FROM policy_missing_field WHERE policy_id IN (SELECT id FROM policy WHERE policy_no = 'K-3')");
    await app.db.query("DELETE FROM policy WHERE policy_no IN ('K-3', 'K-6')");
    await expectCountersExact();
  });

  it('the missing-field page lists exactly the policies missing that field, newest first, through every filter and scope', async () => {
    const walk = async (key: string, filter: Record<string, unknown>) => {
      const nos: string[] = [];
      let total = -1;
      for (let after: string | null = null, more = true; more; ) {
        const page: { policies: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Array<{ node: { policyNo: string } }> } } = await app.ok(key, PAGE, { filter, after });
        nos.push(...page.policies.edges.map((e) => e.node.policyNo));
        total = page.policies.totalCount;
        more = page.policies.pageInfo.hasNextPage;
        after = page.policies.pageInfo.endCursor;
      }
      return { nos, total };
    };
    const expected = async (where: string) =>
      ((await app.db.query(
        `SELECT p.policy_no AS no FROM policy p WHERE p.insurer_id = ? AND ${where} AND EXISTS (SELECT 1 FROM policy_missing_field m WHERE m.policy_id = p.id AND m.field = 'policyholder.phone') ORDER BY p.id DESC`,
        [insurer.id],
      )) as Array<{ no: string }>).map((r) => r.no);
    const phone = 'policyholder.phone';
    const all = await expected('1 = 1');
    expect(all.length).toBeGreaterThan(4);
    expect(await walk(insurer.keys.ADMIN, { insurerCode: insurer.code, missingField: phone })).toEqual({ nos: all, total: all.length });
    const brokers = await expected(`p.channel_id = '${broker.id}'`);
    expect(await walk(broker.keys.SALES, { insurerCode: insurer.code, missingField: phone })).toEqual({ nos: brokers, total: brokers.length });
    expect(await walk(bank.keys.SALES, { insurerCode: insurer.code, missingField: phone, channelCode: broker.code })).toEqual({ nos: [], total: 0 });
    const direct = await expected("p.channel_id IS NULL AND p.completeness = 'INCOMPLETE' AND p.status = 'PENDING'");
    expect(direct.length).toBeGreaterThan(0);
    expect(await walk(insurer.keys.ADMIN, { insurerCode: insurer.code, missingField: phone, channelCode: 'DIRECT', completeness: 'INCOMPLETE', status: 'PENDING' })).toEqual({ nos: direct, total: direct.length });
  });
});
