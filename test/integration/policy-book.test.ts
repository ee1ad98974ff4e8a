import { PolicyEntity } from '../../src/modules/policy/policy.entity';
import { WRITE_OWN_BOOK, writeOwnBook } from '../../src/modules/policy/policy-book';
import type { CleanRecord } from '../../src/modules/policy/policy.validation';
import { checkRecord } from '../../src/modules/sales/sales.validation';
import { startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty, createPrincipal } from '../support/factories';
import { adult, APPLICATION_DATE, seedPolicies } from '../support/seed';
import { loggedEntries } from '../support/log';

/** A record as it passed the sales record checks (what the own-book write takes). */
function clean(policyNo: string, holder = adult()): CleanRecord {
  const check = checkRecord({ policyNo, productCode: 'LIFE-20Y', termMonths: 240, applicationDate: APPLICATION_DATE, policyholder: holder, insured: holder, insuredRelationship: 'SELF' });
  if (!check.ok) throw new Error(JSON.stringify(check.errors));
  return check.record;
}

describe(`the insurer's own book: writeOwnBook (${TEST_DB})`, () => {
  let app: TestApp;
  let insurer: Awaited<ReturnType<typeof createParty>>;
  let adminKey: string;

  const write = async (key: string, records: CleanRecord[]) => writeOwnBook({ pii: app.services.pii, log: app.services.transferLog }, await app.server.contextFor(key), records);
  const chain = (operation: string) => loggedEntries(app.db, { where: { insurerId: insurer.id, operation } });
  const policyCount = () => app.db.getRepository(PolicyEntity).countBy({ insurerId: insurer.id });

  beforeAll(async () => {
    app = await startTestApp();
    insurer = await createParty(app, 'INSURER', ['ADMIN', 'SERVICE'], { attested: true });
    adminKey = insurer.keys.ADMIN;
  });
  afterAll(() => app.close());

  it('writes policies sold directly, with their verdicts, in one transaction with one log entry on the insurer chain', async () => {
    const results = await write(adminKey, [clean('OB-1'), clean('OB-2', adult({ phone: null }))]);
    expect(results.map((r) => [r.policyNo, r.accepted, r.completeness?.status, r.version])).toEqual([
      ['OB-1', true, 'COMPLETE', 1],
      ['OB-2', true, 'INCOMPLETE', 1],
    ]);
    const stored = await app.db.getRepository(PolicyEntity).find({ where: { insurerId: insurer.id }, order: { policyNo: 'ASC' } });
    expect(stored.map((p) => [p.policyNo, p.channelId, p.completeness, p.status])).toEqual([
      ['OB-1', null, 'COMPLETE', 'PENDING'],
      ['OB-2', null, 'INCOMPLETE', 'PENDING'],
    ]);
    const [entry, ...more] = await chain(WRITE_OWN_BOOK);
    expect(more).toHaveLength(0);
    expect(entry).toMatchObject({ outcome: 'OK', actorPrincipalId: insurer.principalIds.ADMIN, actorOrganizationId: insurer.id, counterpartyId: null, agreementId: null });
    expect(entry!.policyNos).toEqual(['OB-1', 'OB-2']);
  });

  it('rejects per record as submitSales does: a number held by a channel is DUPLICATE_POLICY and stays the channel\'s', async () => {
    const bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN']);
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['SUBMIT_SALES'], proposerKey: adminKey, signerKey: bank.keys.ADMIN });
    await seedPolicies(app, [{ insurerId: insurer.id, policyNo: 'OB-BANK', channelId: bank.id, policyholder: adult(), insured: adult(), insuredRelationship: 'OTHER' }]);
    const [result] = await write(adminKey, [clean('OB-BANK')]);
    expect(result).toMatchObject({ accepted: false, errors: [{ field: 'policyNo', code: 'DUPLICATE_POLICY' }] });
    expect(await app.db.getRepository(PolicyEntity).findOneByOrFail({ insurerId: insurer.id, policyNo: 'OB-BANK' })).toMatchObject({ channelId: bank.id, version: 1 });
  });

  it('refuses callers other than an attested ADMIN of an insurer, writing nothing; a missing attestation is logged as REFUSED', async () => {
    const before = await policyCount();
    const logged = (await chain(WRITE_OWN_BOOK)).length;
    await expect(write(insurer.keys.SERVICE, [clean('OB-X')])).rejects.toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    const broker = await createParty(app, 'BROKER', ['ADMIN'], { attested: true });
    await expect(write(broker.keys.ADMIN, [clean('OB-X')])).rejects.toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    await expect(write(adminKey, [clean('OB-X'), clean('OB-X')])).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    const unattested = await createPrincipal(app, insurer.code, ['ADMIN']);
    await expect(write(unattested.key, [clean('OB-X')])).rejects.toMatchObject({ extensions: { code: 'ATTESTATION_REQUIRED' } });
    expect(await policyCount()).toBe(before);
    const entries = await chain(WRITE_OWN_BOOK);
    expect(entries.slice(logged).map((e) => [e.outcome, e.errorCode, e.actorPrincipalId])).toEqual([['REFUSED', 'ATTESTATION_REQUIRED', unattested.id]]);
  });
});
