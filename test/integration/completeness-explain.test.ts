/**
 * The plans of the completeness views on MariaDB/MySQL (issue 10 (d)), on a
 * book of a few thousand policies after ANALYZE TABLE: the summaries read
 * the counter tables through their primary keys and never touch `policy`;
 * the missing-field page is a range of `ix_missing_field` read newest first,
 * joined to `policy` by primary key, with no filesort and no temporary
 * table. The statements EXPLAINed are the ones the API sent (recorded with
 * their parameters). SQLite has no such plans to pin: this file is skipped
 * there, and the MySQL run of the suite covers it.
 */
import { MAX_BATCH_RECORDS } from '../../src/modules/sales/sales.validation';
import { benchRecord } from '../bench/records';
import { startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty } from '../support/factories';
import { postGraphqlOk } from '../support/http';
import { recordStatements } from '../support/sql';

const POINT = 'query($i: String!, $p: String!) { policy(insurerCode: $i, policyNo: $p) { policyNo policyholder { name } insured { name } channel { code } beneficiaries { order person { name } } } }';
const SUMMARY = 'query($i: String!, $g: SummaryDimension!, $from: Date, $to: Date) { completenessSummary(insurerCode: $i, groupBy: $g, from: $from, to: $to) { key total missingByField { field count } } }';
const PAGE = 'query($i: String!, $after: String) { policies(filter: { insurerCode: $i, missingField: "policyholder.phone" }, first: 50, after: $after) { pageInfo { endCursor } edges { node { policyNo } } } }';

interface PlanRow {
  table: string | null;
  type: string | null;
  key: string | null;
  Extra: string | null;
}

const onMysql = TEST_DB === 'mysql' ? describe : describe.skip;

onMysql(`plans of the completeness views (MariaDB/MySQL only: SQLite runs skip this file, the MySQL run pins it) (${TEST_DB})`, () => {
  let app: TestApp;
  let insurerCode: string;
  let adminKey: string;
  /** The SALES key of each bank of the books, by the bank's id. */
  const bankKeys = new Map<string, string>();

  /** `size` policies of a new insurer in two bank channels, through the service's batch writer. */
  async function book(size: number, tag: string): Promise<{ code: string; adminKey: string }> {
    const insurer = await createParty(app, 'INSURER', ['ADMIN']);
    const channels = [];
    for (let c = 0; c < 2; c += 1) {
      const bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES'], { attested: true });
      await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['SUBMIT_SALES', 'READ_POLICIES'], proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN });
      bankKeys.set(bank.id, bank.keys.SALES);
      channels.push(await app.server.contextFor(bank.keys.SALES));
    }
    for (let start = 0, b = 0; start < size; start += MAX_BATCH_RECORDS, b += 1) {
      const records = Array.from({ length: Math.min(MAX_BATCH_RECORDS, size - start) }, (_, i) => benchRecord(`${tag}${b % 2}`, start + i, 3 * (start + i) + (tag === 'A' ? 0 : 50_000_000)));
      await app.services.sales.submit(channels[b % 2]!, insurer.code, `${tag}-${b}`, records as never);
    }
    return { code: insurer.code, adminKey: insurer.keys.ADMIN };
  }

  /** The plan of every statement `work` sent to `table` (a word of its SQL). */
  async function plansOf(table: string, work: () => Promise<unknown>): Promise<PlanRow[][]> {
    const recorder = recordStatements(app.db);
    try {
      await work();
    } finally {
      recorder.restore();
    }
    const sent = recorder.calls.filter((c) => /^\s*SELECT/i.test(c.query) && new RegExp(`\\b${table}\\b`).test(c.query));
    expect(sent.length).toBeGreaterThan(0);
    return Promise.all(sent.map(async (c) => (await app.db.query(`EXPLAIN ${c.query}`, c.parameters)) as PlanRow[]));
  }

  beforeAll(async () => {
    app = await startTestApp();
    ({ code: insurerCode, adminKey } = await book(3000, 'A'));
    await book(3000, 'B'); // another insurer's rows around it, as in any shared database
    await app.db.query('ANALYZE TABLE policy, policy_missing_field, completeness_count, missing_field_count');
  }, 120_000);
  afterAll(() => app.close());

  it.each([
    ['CHANNEL', {}],
    ['PRODUCT', {}],
    ['APPLICATION_MONTH', {}],
    ['CHANNEL', { from: '2026-03-01', to: '2026-06-30' }],
  ])('completenessSummary by %s %j reads the counters by primary key, not policy', async (groupBy, range) => {
    const plans = await plansOf('completeness_count|missing_field_count', () => app.ok(adminKey, SUMMARY, { i: insurerCode, g: groupBy, ...range }));
    expect(plans).toHaveLength(2);
    for (const plan of plans) {
      expect(plan.map((r) => r.table)).toEqual(['c']);
      expect(plan[0]).toMatchObject({ key: 'PRIMARY' });
      expect(['ref', 'range']).toContain(plan[0]!.type);
    }
  });

  it('the missing-field page is a backward range of ix_missing_field, each policy by primary key: no filesort, no temporary table', async () => {
    let after: string | null = null;
    for (let page = 0; page < 2; page += 1) {
      const plans = await plansOf('policy_missing_field', async () => {
        after = (await app.ok<{ policies: { pageInfo: { endCursor: string } } }>(adminKey, PAGE, { i: insurerCode, after })).policies.pageInfo.endCursor;
      });
      expect(plans).toHaveLength(1);
      const plan = plans[0]!;
      expect(plan[0]).toMatchObject({ table: 'm', key: 'ix_missing_field' });
      expect(['ref', 'range']).toContain(plan[0]!.type);
      expect(plan.find((r) => r.table === 'p')).toMatchObject({ type: 'eq_ref', key: 'PRIMARY' });
      for (const row of plan) expect(row.Extra ?? '').not.toMatch(/filesort|temporary/i);
    }
  });

  it.each([
    ['the insurer', false],
    ['the insurer, its key remembered (checked in the statement)', true],
    ['a bank that sold it', false],
    ['a bank that sold it, its key remembered (checked in the statement)', true],
  ])('a point read by %s is one row per table by unique key, the agreements joined last: no filesort, no temporary table', async (who, remembered) => {
    const [sold] = (await app.db.query('SELECT p.policy_no AS policyNo, p.channel_id AS channelId FROM policy p INNER JOIN organization o ON o.id = p.insurer_id WHERE o.code = ? AND p.channel_id IS NOT NULL LIMIT 1', [insurerCode])) as Array<{ policyNo: string; channelId: string }>;
    const key = who.startsWith('the insurer') ? adminKey : bankKeys.get(sold!.channelId)!;
    const url = await app.url();
    const read = () => postGraphqlOk(url, key, POINT, { i: insurerCode, p: sold!.policyNo });
    if (remembered) await read();
    const plans = await plansOf('policy_beneficiary', async () => {
      if (remembered) expect((await read()).data.policy.policyNo).toBe(sold!.policyNo);
      else expect((await app.ok<{ policy: { policyNo: string } }>(key, POINT, { i: insurerCode, p: sold!.policyNo })).policy.policyNo).toBe(sold!.policyNo);
    });
    expect(plans).toHaveLength(1);
    const plan = plans[0]!;
    for (const row of plan) expect(row.Extra ?? '').not.toMatch(/filesort|temporary/i);
    // The insurer, the policy, its people and its channel are constants (read once); the beneficiaries
    // and, for a bank, its agreements last, by index.
    for (const table of ['pn', 'p', 'ph', 'pi', 'pc', ...(remembered ? ['av'] : [])]) expect(plan.find((r) => r.table === table)).toMatchObject({ type: 'const' });
    for (const row of plan) expect(['const', 'eq_ref', 'ref']).toContain(row.type);
    if (who.startsWith('a bank')) expect(plan.at(-1)).toMatchObject({ table: 'a' });
  });

  it('over HTTP with a remembered key the same page also confirms the key: one const subquery on principal, the page plan unchanged', async () => {
    const url = await app.url();
    await postGraphqlOk(url, adminKey, PAGE, { i: insurerCode, after: null }); // remembers the key
    const plans = await plansOf('policy_missing_field', () => postGraphqlOk(url, adminKey, PAGE, { i: insurerCode, after: null }));
    expect(plans).toHaveLength(1);
    const plan = plans[0]!;
    expect(plan[0]).toMatchObject({ table: 'm', key: 'ix_missing_field' });
    expect(plan.find((r) => r.table === 'p')).toMatchObject({ type: 'eq_ref', key: 'PRIMARY' });
    const key = plan.find((r) => r.table === 'av');
    expect(key).toMatchObject({ type: 'const' }); // one row by a unique key (its id or its key hash), read once
    expect(['PRIMARY', 'uq_principal_key_hash']).toContain(key!.key);
    for (const row of plan) expect(row.Extra ?? '').not.toMatch(/filesort|temporary/i);
  });
});
