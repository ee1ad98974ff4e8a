import { DEMO_AGREEMENTS, seedDemo, type DemoKey } from '../../src/cli/demo-seed';
import { AGREEMENT_SCOPES, AgreementEntity } from '../../src/modules/agreement/agreement.entity';
import { agreementStatus, parseScopes } from '../../src/modules/agreement/agreement.status';
import { TransferLogEntryEntity } from '../../src/modules/transfer-log/transfer-log.entity';
import { startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';

describe(`demo seed: agreements (${TEST_DB})`, () => {
  let app: TestApp;
  let keys: DemoKey[];
  const key = (principal: string) => keys.find((k) => k.principal === principal)!.apiKey;

  beforeAll(async () => {
    app = await startTestApp();
    keys = (await seedDemo(app.services))!;
  });
  afterAll(() => app.close());

  it('makes DEMO_LIFE\'s agreements with its bank (four scopes) and its broker (all five) ACTIVE for a year', async () => {
    const orgs = new Map<string, string>();
    for (const code of ['DEMO_LIFE', 'DEMO_BANK', 'DEMO_BROKER']) orgs.set(code, (await app.services.organizations.findByCode(code))!.id);
    const rows = await app.db.getRepository(AgreementEntity).find();
    expect(rows).toHaveLength(DEMO_AGREEMENTS.length);
    const now = new Date();
    const byPartner = new Map(rows.map((r) => [r.partnerId, r]));
    const bank = byPartner.get(orgs.get('DEMO_BANK')!)!;
    const broker = byPartner.get(orgs.get('DEMO_BROKER')!)!;
    expect(parseScopes(bank.scopes)).toEqual(['SUBMIT_SALES', 'READ_POLICIES', 'CORRECT_RECORDS', 'READ_COMPLETENESS']);
    expect(parseScopes(broker.scopes)).toEqual([...AGREEMENT_SCOPES]);
    for (const row of rows) {
      expect(row.insurerId).toBe(orgs.get('DEMO_LIFE'));
      expect(agreementStatus(row, now)).toBe('ACTIVE');
      expect(row.validFrom.getTime()).toBeLessThan(now.getTime() - 23 * 3600_000);
      expect(row.validTo.getTime()).toBeGreaterThan(now.getTime() + 364 * 24 * 3600_000);
    }
  });

  it('the demo keys can act at once: the bank may submit sales but sees masked personal data, the broker sees it whole', async () => {
    const life = (await app.services.organizations.findByCode('DEMO_LIFE'))!.id;
    const bank = await app.server.contextFor(key('demo-bank-sales'));
    expect(await app.services.grants.has(bank, life, 'SUBMIT_SALES')).toBe(true);
    expect(await app.services.grants.has(bank, life, 'VIEW_FULL_PII')).toBe(false);
    const broker = await app.server.contextFor(key('demo-broker-service'));
    expect(await app.services.grants.has(broker, life, 'VIEW_FULL_PII')).toBe(true);
    const { agreements } = await app.ok<{ agreements: Array<{ status: string; partner: { code: string } }> }>(key('demo-life-admin'), '{ agreements { status partner { code } } }');
    expect(agreements.map((a) => [a.partner.code, a.status]).sort()).toEqual([
      ['DEMO_BANK', 'ACTIVE'],
      ['DEMO_BROKER', 'ACTIVE'],
    ]);
  });

  it('went through the service path: each agreement was proposed by DEMO_LIFE\'s ADMIN and signed by the partner\'s, on a valid chain', async () => {
    const life = (await app.services.organizations.findByCode('DEMO_LIFE'))!;
    const entries = await app.db.getRepository(TransferLogEntryEntity).find({ where: { insurerId: life.id }, order: { seq: 'ASC' } });
    // The demo's sales batches name the agreement they used too: only the agreement's own lifecycle here.
    const agreementEntries = entries.filter((e) => e.agreementId !== null && e.operation.endsWith('Agreement'));
    const rows = await app.db.getRepository(AgreementEntity).find();
    for (const row of rows) {
      const mine = agreementEntries.filter((e) => e.agreementId === row.id);
      expect(mine.map((e) => [e.operation, e.actorOrganizationId, e.counterpartyId])).toEqual([
        ['proposeAgreement', life.id, row.partnerId],
        ['signAgreement', row.partnerId, life.id],
      ]);
    }
    const verification = await app.services.transferLogVerifier.verifyChain(life);
    expect(verification).toMatchObject({ valid: true, firstInvalidSeq: null });
    expect(verification.checked).toBe(entries.length);
  });

  it('seeding again changes nothing', async () => {
    const before = { agreements: await app.db.getRepository(AgreementEntity).count(), log: await app.db.getRepository(TransferLogEntryEntity).count() };
    expect(await seedDemo(app.services)).toBeNull();
    expect(await app.db.getRepository(AgreementEntity).count()).toBe(before.agreements);
    expect(await app.db.getRepository(TransferLogEntryEntity).count()).toBe(before.log);
  });
});
