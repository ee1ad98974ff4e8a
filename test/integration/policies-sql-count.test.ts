import { startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty } from '../support/factories';
import { adult, seedPolicies, type PolicySeed } from '../support/seed';
import { recordStatements } from '../support/sql';

/** A page with every relation selected: people, beneficiaries with their people, channel and insurer. */
const PAGE = `query($first: Int) {
  policies(first: $first) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node {
      policyNo insurer { code } channel { code name }
      policyholder { id name idNumber phone address }
      insured { id name idNumber phone }
      beneficiaries { order sharePercent person { id name idNumber phone } }
      completeness { status missing }
    } }
  }
}`;

/**
 * STYLE 7: people, beneficiaries and channels of a page load through
 * per-request DataLoaders, so a page costs a constant number of SQL
 * statements whatever its size (counted with a wrapper around the data
 * source's TypeORM logger, which every driver calls once per statement).
 */
describe(`policies: constant SQL statements per page (${TEST_DB})`, () => {
  let app: TestApp;
  let insurer: Awaited<ReturnType<typeof createParty>>;
  let broker: Awaited<ReturnType<typeof createParty>>;
  let bank: Awaited<ReturnType<typeof createParty>>;
  let recorder: ReturnType<typeof recordStatements>;

  beforeAll(async () => {
    app = await startTestApp();
    insurer = await createParty(app, 'INSURER', ['ADMIN']);
    broker = await createParty(app, 'BROKER', ['ADMIN']);
    bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN']);
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: broker.code, scopes: ['READ_POLICIES', 'VIEW_FULL_PII'], proposerKey: insurer.keys.ADMIN, signerKey: broker.keys.ADMIN });
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['READ_POLICIES'], proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN });
    const seeds: PolicySeed[] = [];
    for (let i = 0; i < 60; i += 1) {
      seeds.push({
        insurerId: insurer.id,
        policyNo: `SQL-${i}`,
        channelId: i % 2 ? broker.id : bank.id,
        policyholder: adult(),
        insured: adult(),
        insuredRelationship: 'OTHER',
        beneficiaries: [
          { person: adult(), relationshipToInsured: 'CHILD', sharePercent: 60, order: 1 },
          { person: adult(), relationshipToInsured: 'PARENT', sharePercent: 40, order: 2 },
        ],
      });
    }
    // Half of the broker's and the bank's pages: give each 60 more so both reach 50.
    for (let i = 60; i < 110; i += 1) {
      seeds.push({ insurerId: insurer.id, policyNo: `SQL-${i}`, channelId: i % 2 ? broker.id : bank.id, policyholder: adult(), insured: adult(), insuredRelationship: 'OTHER', beneficiaries: [{ person: adult(), order: 1 }] });
    }
    await seedPolicies(app, seeds);

    recorder = recordStatements(app.db);
  });
  afterAll(async () => {
    recorder.restore();
    await app.close();
  });

  async function countFor(key: string, first: number): Promise<{ count: number; edges: number; sql: string[] }> {
    recorder.reset();
    const data = await app.ok<{ policies: { edges: Array<{ node: { beneficiaries: unknown[] } }> } }>(key, PAGE, { first });
    const sql = [...recorder.statements];
    return { count: sql.length, edges: data.policies.edges.length, sql };
  }

  it.each([
    ['the insurer (whole values)', () => insurer.keys.ADMIN],
    ['a broker with VIEW_FULL_PII (whole values, READ_PII appended)', () => broker.keys.ADMIN],
    ['a bank without it (masked)', () => bank.keys.ADMIN],
  ])('%s: a page of 50 costs the same statements as a page of 5', async (_who, key) => {
    await countFor(key(), 1); // warm-up: nothing cached across requests, but keep first-use effects out
    const small = await countFor(key(), 5);
    const large = await countFor(key(), 50);
    expect(small.edges).toBe(5);
    expect(large.edges).toBe(50);
    if (large.count !== small.count) throw new Error(`5: ${small.count} statements, 50: ${large.count}\n${large.sql.join('\n')}`);
    expect(large.count).toBeLessThanOrEqual(20);
    if (process.env.KEXIN_SHOW_SQL) console.log(`${_who}: ${large.count} statements\n${large.sql.join("\n")}`);
  });
});
