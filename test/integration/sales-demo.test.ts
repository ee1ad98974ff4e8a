import { DEMO_POLICY_COUNTS, DEMO_SELLER, demoRecords } from '../../src/cli/demo-policies';
import { seedDemo } from '../../src/cli/demo-seed';
import { PolicyEntity } from '../../src/modules/policy/policy.entity';
import { SalesPersonEntity } from '../../src/modules/policy/sales-person.entity';
import { startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { loggedEntries } from '../support/log';

describe(`demo seed: DEMO_LIFE's book of policies (${TEST_DB})`, () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
    await seedDemo(app.services);
  });
  afterAll(() => app.close());

  it('pushes a few hundred policies from the bank and the broker with a realistic mix of complete, incomplete and suspect records', async () => {
    const life = (await app.services.organizations.findByCode('DEMO_LIFE'))!;
    const policies = await app.db.getRepository(PolicyEntity).findBy({ insurerId: life.id });
    expect(policies).toHaveLength(DEMO_POLICY_COUNTS.DEMO_BANK + DEMO_POLICY_COUNTS.DEMO_BROKER);
    const byStatus = (status: string) => policies.filter((p) => p.completeness === status).length;
    expect(byStatus('COMPLETE')).toBeGreaterThan(policies.length * 0.6);
    expect(byStatus('INCOMPLETE')).toBeGreaterThan(20);
    expect(byStatus('SUSPECT')).toBeGreaterThan(20);
    const codes = new Set(policies.flatMap((p) => (JSON.parse(p.issues) as Array<{ code: string }>).map((i) => i.code)));
    for (const code of ['MISSING', 'ID_CHECKSUM', 'ID_GENDER_MISMATCH', 'ADDRESS_PLACEHOLDER', 'PHONE_SHARED', 'PHONE_IS_SALES_PERSON']) expect(codes).toContain(code);
    const bank = (await app.services.organizations.findByCode('DEMO_BANK'))!;
    expect(policies.filter((p) => p.channelId === bank.id)).toHaveLength(DEMO_POLICY_COUNTS.DEMO_BANK);
    expect(policies.every((p) => p.salesPersonCode !== null)).toBe(true);
    expect(await app.db.getRepository(SalesPersonEntity).countBy({ code: DEMO_SELLER.code })).toBe(1);
  });

  it('went through the submitSales path: one log entry per batch on a chain that verifies', async () => {
    const life = (await app.services.organizations.findByCode('DEMO_LIFE'))!;
    const entries = await loggedEntries(app.db, { where: { insurerId: life.id, operation: 'submitSales' } });
    expect(entries.map((e) => e.policyNos.length).sort((a, b) => a - b)).toEqual([DEMO_POLICY_COUNTS.DEMO_BROKER, DEMO_POLICY_COUNTS.DEMO_BANK]);
    expect(await app.services.transferLogVerifier.verifyChain(life)).toMatchObject({ valid: true });
  });

  it('is deterministic', () => {
    expect(JSON.stringify(demoRecords('BANK', 30, 0))).toBe(JSON.stringify(demoRecords('BANK', 30, 0)));
  });
});
