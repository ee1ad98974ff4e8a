import { PolicyEntity } from '../../src/modules/policy/policy.entity';
import { ADMIN_TOKEN, errorCode, startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty } from '../support/factories';
import { loggedEntries } from '../support/log';
import { adult, completeSeed, seedPolicies } from '../support/seed';

const UNDERWRITE = `mutation($insurerCode: String!, $policyNo: String!, $overrideReason: String) {
  underwritePolicy(insurerCode: $insurerCode, policyNo: $policyNo, overrideReason: $overrideReason) {
    policyNo status version underwrittenAt completeness { status missing }
    policyholder { idNumber }
  }
}`;

describe(`underwritePolicy (${TEST_DB})`, () => {
  let app: TestApp;
  let insurer: Awaited<ReturnType<typeof createParty>>;
  let otherInsurer: Awaited<ReturnType<typeof createParty>>;
  let bank: Awaited<ReturnType<typeof createParty>>;
  const holders = new Map<string, string>();

  const row = (policyNo: string) => app.db.getRepository(PolicyEntity).findOneByOrFail({ insurerId: insurer.id, policyNo });
  const entries = (operation = 'underwritePolicy') =>
    loggedEntries(app.db, { where: { insurerId: insurer.id, operation } });
  const underwrite = (key: string | null, policyNo: string, overrideReason?: string | null, insurerCode = insurer.code) =>
    app.gql<{ underwritePolicy: { policyNo: string; status: string; version: number; underwrittenAt: string | null; policyholder: { idNumber: string } } }>(key, UNDERWRITE, {
      insurerCode,
      policyNo,
      overrideReason,
    });

  /** A refusal leaves the row exactly as it was. */
  async function expectUnchanged(policyNo: string, before: PolicyEntity): Promise<void> {
    const after = await row(policyNo);
    expect(after).toEqual(before);
    expect(after.status).toBe('PENDING');
  }

  beforeAll(async () => {
    app = await startTestApp();
    insurer = await createParty(app, 'INSURER', ['ADMIN', 'UNDERWRITER', 'SERVICE', 'COMPLIANCE']);
    otherInsurer = await createParty(app, 'INSURER', ['UNDERWRITER']);
    bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES', 'UNDERWRITER']);
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['SUBMIT_SALES', 'READ_POLICIES', 'VIEW_FULL_PII'], proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN });
    const seeds = [
      completeSeed(insurer.id, 'UW-COMPLETE', { channelId: bank.id }),
      completeSeed(insurer.id, 'UW-INCOMPLETE', { channelId: bank.id, policyholder: adult({ phone: null, address: '  ' }), insured: adult(), insuredRelationship: null }),
      completeSeed(insurer.id, 'UW-SUSPECT', { channelId: bank.id, policyholder: adult({ idNumber: '110105198001011235', address: '不详' }), insured: adult(), insuredRelationship: 'OTHER' }),
      completeSeed(insurer.id, 'UW-SUSPECT-2', { channelId: bank.id, policyholder: adult({ phone: '12345' }), insured: adult(), insuredRelationship: 'OTHER' }),
      completeSeed(insurer.id, 'UW-OTHER-CASES'),
    ];
    for (const s of seeds) holders.set(s.policyNo, s.policyholder.idNumber!);
    await seedPolicies(app, seeds);
  });
  afterAll(() => app.close());

  it('INCOMPLETE is refused with INCOMPLETE_CUSTOMER_INFO and the missing paths; nothing changes; the refusal is logged', async () => {
    const before = await row('UW-INCOMPLETE');
    const logged = (await entries()).length;
    const result = await underwrite(insurer.keys.UNDERWRITER, 'UW-INCOMPLETE', null);
    expect(errorCode(result)).toBe('INCOMPLETE_CUSTOMER_INFO');
    expect(result.errors![0]!.extensions!.missing).toEqual(['policyholder.phone', 'policyholder.address', 'insuredRelationship']);
    expect(result.data).toBeNull();
    await expectUnchanged('UW-INCOMPLETE', before);
    // An override does not help an incomplete record (Art. 6(3): underwriting may not pass).
    expect(errorCode(await underwrite(insurer.keys.UNDERWRITER, 'UW-INCOMPLETE', 'the customer confirmed by phone'))).toBe('INCOMPLETE_CUSTOMER_INFO');
    await expectUnchanged('UW-INCOMPLETE', before);

    const log = await entries();
    expect(log).toHaveLength(logged + 2);
    expect(log[log.length - 1]).toMatchObject({ outcome: 'REFUSED', errorCode: 'INCOMPLETE_CUSTOMER_INFO', actorPrincipalId: insurer.principalIds.UNDERWRITER, policyNos: ['UW-INCOMPLETE'] });
  });

  it('SUSPECT is refused with SUSPECT_CUSTOMER_INFO and the issue codes unless an override reason is given; nothing changes', async () => {
    const before = await row('UW-SUSPECT');
    const logged = (await entries()).length;
    const result = await underwrite(insurer.keys.UNDERWRITER, 'UW-SUSPECT');
    expect(errorCode(result)).toBe('SUSPECT_CUSTOMER_INFO');
    expect(result.errors![0]!.extensions!.issues).toEqual(expect.arrayContaining(['ID_CHECKSUM', 'ADDRESS_PLACEHOLDER']));
    expect(JSON.stringify(result.errors)).not.toContain(holders.get('UW-SUSPECT')!);
    await expectUnchanged('UW-SUSPECT', before);
    for (const reason of ['', '   ', 'x'.repeat(501)]) {
      expect(errorCode(await underwrite(insurer.keys.UNDERWRITER, 'UW-SUSPECT', reason))).toBe('BAD_USER_INPUT');
    }
    await expectUnchanged('UW-SUSPECT', before);
    const log = await entries();
    expect(log).toHaveLength(logged + 1);
    expect(log[log.length - 1]).toMatchObject({ outcome: 'REFUSED', errorCode: 'SUSPECT_CUSTOMER_INFO' });
  });

  it('SUSPECT with an override reason is underwritten; the override is stored on the policy and logged (as a digest only)', async () => {
    const before = await row('UW-SUSPECT');
    const reason = 'Customer came to the branch with the ID card; the system copy has a typo (case REF-8841)';
    const data = await app.ok<{ underwritePolicy: { status: string; version: number; underwrittenAt: string | null; policyholder: { idNumber: string } } }>(
      insurer.keys.UNDERWRITER,
      UNDERWRITE,
      { insurerCode: insurer.code, policyNo: 'UW-SUSPECT', overrideReason: ` ${reason} ` },
    );
    expect(data.underwritePolicy).toMatchObject({ status: 'UNDERWRITTEN', version: before.version + 1, underwrittenAt: expect.any(String) });
    expect(data.underwritePolicy.policyholder.idNumber).toBe(holders.get('UW-SUSPECT'));
    const after = await row('UW-SUSPECT');
    expect(after).toMatchObject({ status: 'UNDERWRITTEN', version: before.version + 1, underwritingOverride: reason, underwrittenBy: insurer.principalIds.UNDERWRITER, completeness: 'SUSPECT' });

    const entry = (await entries()).pop()!;
    expect(entry).toMatchObject({ outcome: 'OK', errorCode: null, actorPrincipalId: insurer.principalIds.UNDERWRITER, actorOrganizationId: insurer.id, policyNos: ['UW-SUSPECT'] });
    expect(JSON.parse(entry.fields)).toEqual(['status', 'underwritingOverride']);
    expect(JSON.stringify(entry)).not.toContain('REF-8841');
    expect((await app.services.transferLogVerifier.verifyChain({ id: insurer.id, code: insurer.code })).valid).toBe(true);
  });

  it('COMPLETE is underwritten (version + 1, no override); a second attempt is BAD_USER_INPUT and changes nothing', async () => {
    const before = await row('UW-COMPLETE');
    const data = await app.ok<{ underwritePolicy: { status: string; version: number } }>(insurer.keys.UNDERWRITER, UNDERWRITE, { insurerCode: insurer.code, policyNo: 'UW-COMPLETE' });
    expect(data.underwritePolicy).toMatchObject({ status: 'UNDERWRITTEN', version: before.version + 1 });
    const done = await row('UW-COMPLETE');
    expect(done).toMatchObject({ status: 'UNDERWRITTEN', underwritingOverride: null, underwrittenBy: insurer.principalIds.UNDERWRITER });
    const entry = (await entries()).pop()!;
    expect(entry).toMatchObject({ outcome: 'OK', policyNos: ['UW-COMPLETE'], fields: JSON.stringify(['status']) });

    const logged = (await entries()).length;
    const again = await underwrite(insurer.keys.UNDERWRITER, 'UW-COMPLETE');
    expect(errorCode(again)).toBe('BAD_USER_INPUT');
    expect(await row('UW-COMPLETE')).toEqual(done);
    expect(await entries()).toHaveLength(logged);
  });

  it('only an UNDERWRITER of an insurer may call it (FORBIDDEN), and only on its own insurer\'s policies (NOT_FOUND); nothing changes', async () => {
    const before = await row('UW-SUSPECT-2');
    const logged = (await entries()).length;
    for (const key of [insurer.keys.ADMIN, insurer.keys.SERVICE, insurer.keys.COMPLIANCE, bank.keys.SALES, bank.keys.UNDERWRITER, bank.keys.ADMIN, ADMIN_TOKEN]) {
      const result = await underwrite(key, 'UW-SUSPECT-2', 'an override');
      expect(errorCode(result)).toBe('FORBIDDEN');
      expect(result.data).toBeNull();
    }
    // Another insurer's UNDERWRITER: the policy is not visible to it, whether named by its insurer or its own code.
    expect(errorCode(await underwrite(otherInsurer.keys.UNDERWRITER, 'UW-SUSPECT-2', 'an override'))).toBe('NOT_FOUND');
    expect(errorCode(await underwrite(otherInsurer.keys.UNDERWRITER, 'UW-SUSPECT-2', 'an override', otherInsurer.code))).toBe('NOT_FOUND');
    // Unknown policy numbers and insurers answer the same.
    expect(errorCode(await underwrite(insurer.keys.UNDERWRITER, 'NO-SUCH-POLICY'))).toBe('NOT_FOUND');
    expect(errorCode(await underwrite(insurer.keys.UNDERWRITER, 'UW-SUSPECT-2', null, 'NO_SUCH_INSURER'))).toBe('NOT_FOUND');
    expect(errorCode(await underwrite(null, 'UW-SUSPECT-2'))).toBe('UNAUTHENTICATED');
    await expectUnchanged('UW-SUSPECT-2', before);
    expect(await entries()).toHaveLength(logged);
  });
});
