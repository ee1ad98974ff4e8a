import { AgreementEntity } from '../../src/modules/agreement/agreement.entity';
import { TransferLogEntryEntity } from '../../src/modules/transfer-log/transfer-log.entity';
import { ADMIN_TOKEN, errorCode, startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { AGREEMENT_FIELDS, createAgreement, createParty } from '../support/factories';

const DAY = 24 * 60 * 60 * 1000;
const PROPOSE = `mutation($input: ProposeAgreementInput!) { proposeAgreement(input: $input) { ${AGREEMENT_FIELDS} } }`;
const SIGN = `mutation($id: ID!) { signAgreement(id: $id) { ${AGREEMENT_FIELDS} } }`;
const TERMINATE = `mutation($id: ID!, $reason: String!) { terminateAgreement(id: $id, reason: $reason) { ${AGREEMENT_FIELDS} } }`;
const LIST = `{ agreements { ${AGREEMENT_FIELDS} } }`;

type Party = Awaited<ReturnType<typeof createParty>>;

describe(`agreements (${TEST_DB})`, () => {
  let app: TestApp;
  let insurer: Party;
  let bank: Party;
  let broker: Party;
  let otherInsurer: Party;
  let regulator: Party;

  beforeAll(async () => {
    app = await startTestApp();
    insurer = await createParty(app, 'INSURER', ['ADMIN', 'SALES']);
    bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES']);
    broker = await createParty(app, 'BROKER', ['ADMIN']);
    otherInsurer = await createParty(app, 'INSURER', ['ADMIN']);
    regulator = await createParty(app, 'REGULATOR', ['ADMIN']);
  });
  afterAll(() => app.close());

  const input = (over: Record<string, unknown> = {}) => ({
    insurerCode: insurer.code,
    partnerCode: bank.code,
    scopes: ['READ_POLICIES', 'SUBMIT_SALES', 'READ_POLICIES'],
    validFrom: new Date(Date.now() - DAY).toISOString(),
    validTo: new Date(Date.now() + 365 * DAY).toISOString(),
    ...over,
  });
  const row = (id: string) => app.db.getRepository(AgreementEntity).findOneByOrFail({ id });
  const agreementCount = () => app.db.getRepository(AgreementEntity).count();
  const logCount = () => app.db.getRepository(TransferLogEntryEntity).count();
  const logOf = (agreementId: string) => app.db.getRepository(TransferLogEntryEntity).find({ where: { agreementId }, order: { seq: 'ASC' } });

  /** Runs `attempt`, expects `code`, and proves that no agreement row and no log entry changed. */
  async function expectRefusal(code: string, attempt: () => Promise<unknown>, agreementId?: string): Promise<void> {
    const before = { agreements: await agreementCount(), log: await logCount(), row: agreementId ? await row(agreementId) : null };
    const result = (await attempt()) as Parameters<typeof errorCode>[0];
    expect(errorCode(result)).toBe(code);
    expect((result.data as Record<string, unknown> | null | undefined) ?? null).toBeNull();
    expect(await agreementCount()).toBe(before.agreements);
    expect(await logCount()).toBe(before.log);
    if (agreementId) expect(await row(agreementId)).toEqual(before.row);
  }

  describe('proposeAgreement', () => {
    it('by the insurer\'s ADMIN: PROPOSED, the insurer\'s side signed, scopes deduplicated, one log entry', async () => {
      const { proposeAgreement: a } = await app.ok(insurer.keys.ADMIN, PROPOSE, { input: input() });
      expect(a).toMatchObject({
        status: 'PROPOSED',
        scopes: ['SUBMIT_SALES', 'READ_POLICIES'],
        insurer: { code: insurer.code },
        partner: { code: bank.code },
        proposedBy: { code: insurer.code },
        partnerSignedAt: null,
        terminatedAt: null,
        terminationReason: null,
      });
      expect(a.insurerSignedAt).toEqual(expect.any(String));
      const stored = await row(a.id);
      expect(stored.insurerSignedBy).toBe(insurer.principalIds.ADMIN);
      expect(stored.proposedByPrincipalId).toBe(insurer.principalIds.ADMIN);

      const log = await logOf(a.id);
      expect(log).toHaveLength(1);
      expect(log[0]).toMatchObject({
        insurerId: insurer.id,
        operation: 'proposeAgreement',
        outcome: 'OK',
        actorPrincipalId: insurer.principalIds.ADMIN,
        actorOrganizationId: insurer.id,
        counterpartyId: bank.id,
        agreementId: a.id,
      });
      expect(JSON.parse(log[0]!.fields)).toEqual(expect.arrayContaining(['agreement.scopes', 'agreement.validFrom', 'agreement.validTo', 'agreement.insurerSignedAt']));
    });

    it('by the partner\'s ADMIN: the partner\'s side signed', async () => {
      const { proposeAgreement: a } = await app.ok(bank.keys.ADMIN, PROPOSE, { input: input() });
      expect(a).toMatchObject({ status: 'PROPOSED', insurerSignedAt: null, proposedBy: { code: bank.code } });
      expect(a.partnerSignedAt).toEqual(expect.any(String));
      expect((await logOf(a.id)).map((e) => [e.operation, e.actorOrganizationId, e.counterpartyId])).toEqual([['proposeAgreement', bank.id, insurer.id]]);
    });

    it.each([
      ['an insurerCode that is not an INSURER', () => ({ insurerCode: bank.code, partnerCode: insurer.code })],
      ['a partnerCode that is an INSURER', () => ({ partnerCode: otherInsurer.code })],
      ['a partnerCode that is a REGULATOR', () => ({ partnerCode: regulator.code })],
      ['an unknown partnerCode', () => ({ partnerCode: 'NO_SUCH_ORG' })],
      ['no scope', () => ({ scopes: [] })],
      ['validFrom = validTo', () => ({ validFrom: '2030-01-01T00:00:00.000Z', validTo: '2030-01-01T00:00:00.000Z' })],
      ['validFrom after validTo', () => ({ validFrom: '2030-02-01T00:00:00.000Z', validTo: '2030-01-01T00:00:00.000Z' })],
      ['validTo in the past', () => ({ validFrom: '2020-01-01T00:00:00.000Z', validTo: '2021-01-01T00:00:00.000Z' })],
    ])('refuses %s with BAD_USER_INPUT and writes nothing', async (_name, over) => {
      await expectRefusal('BAD_USER_INPUT', () => app.gql(insurer.keys.ADMIN, PROPOSE, { input: input(over()) }));
    });

    it('refuses an ADMIN of neither party with FORBIDDEN', async () => {
      await expectRefusal('FORBIDDEN', () => app.gql(broker.keys.ADMIN, PROPOSE, { input: input() }));
      await expectRefusal('FORBIDDEN', () => app.gql(otherInsurer.keys.ADMIN, PROPOSE, { input: input() }));
    });

    it('refuses the EXCHANGE ADMIN (it only reads agreements), a REGULATOR and a non-ADMIN with FORBIDDEN', async () => {
      await expectRefusal('FORBIDDEN', () => app.gql(ADMIN_TOKEN, PROPOSE, { input: input() }));
      await expectRefusal('FORBIDDEN', () => app.gql(regulator.keys.ADMIN, PROPOSE, { input: input() }));
      await expectRefusal('FORBIDDEN', () => app.gql(insurer.keys.SALES, PROPOSE, { input: input() }));
    });
  });

  describe('signAgreement', () => {
    it('by the other party\'s ADMIN makes it ACTIVE and logs it; signing again changes nothing', async () => {
      const { id } = await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['READ_POLICIES'], proposerKey: insurer.keys.ADMIN });
      const { signAgreement: a } = await app.ok(bank.keys.ADMIN, SIGN, { id });
      expect(a.status).toBe('ACTIVE');
      expect(a.partnerSignedAt).toEqual(expect.any(String));
      expect((await row(id)).partnerSignedBy).toBe(bank.principalIds.ADMIN);
      const log = await logOf(id);
      expect(log.map((e) => [e.operation, e.actorPrincipalId, e.counterpartyId])).toEqual([
        ['proposeAgreement', insurer.principalIds.ADMIN, bank.id],
        ['signAgreement', bank.principalIds.ADMIN, insurer.id],
      ]);
      expect(JSON.parse(log[1]!.fields)).toEqual(['agreement.partnerSignedAt']);

      const before = await row(id);
      const again = await app.ok(bank.keys.ADMIN, SIGN, { id });
      expect(again.signAgreement).toEqual(a);
      expect(await row(id)).toEqual(before);
      expect(await logOf(id)).toHaveLength(2);
    });

    it('by the insurer\'s ADMIN when the partner proposed', async () => {
      const { id } = await createAgreement(app, { insurerCode: insurer.code, partnerCode: broker.code, scopes: ['SUBMIT_SALES'], proposerKey: broker.keys.ADMIN });
      const { signAgreement: a } = await app.ok(insurer.keys.ADMIN, SIGN, { id });
      expect(a).toMatchObject({ status: 'ACTIVE', proposedBy: { code: broker.code } });
      expect((await logOf(id)).map((e) => [e.operation, e.actorOrganizationId, e.counterpartyId])).toEqual([
        ['proposeAgreement', broker.id, insurer.id],
        ['signAgreement', insurer.id, broker.id],
      ]);
    });

    it('the proposer\'s own side cannot countersign for the other: FORBIDDEN, unchanged', async () => {
      const { id } = await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['READ_POLICIES'], proposerKey: insurer.keys.ADMIN });
      await expectRefusal('FORBIDDEN', () => app.gql(insurer.keys.ADMIN, SIGN, { id }), id);
      expect((await row(id)).partnerSignedAt).toBeNull();
      expect((await logOf(id)).map((e) => e.operation)).toEqual(['proposeAgreement']);
    });

    it('a third party cannot sign: NOT_FOUND, as for an agreement that does not exist (its existence does not leak)', async () => {
      const { id } = await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['READ_POLICIES'], proposerKey: insurer.keys.ADMIN });
      await expectRefusal('NOT_FOUND', () => app.gql(broker.keys.ADMIN, SIGN, { id }), id);
      await expectRefusal('NOT_FOUND', () => app.gql(otherInsurer.keys.ADMIN, SIGN, { id }), id);
      await expectRefusal('NOT_FOUND', () => app.gql(bank.keys.ADMIN, SIGN, { id: '01890000-0000-7000-8000-000000000000' }));
      await expectRefusal('NOT_FOUND', () => app.gql(bank.keys.ADMIN, SIGN, { id: 'not-an-id' }));
      expect((await row(id)).partnerSignedAt).toBeNull();
    });

    it('the EXCHANGE ADMIN and the parties\' non-ADMINs cannot sign: FORBIDDEN, unchanged', async () => {
      const { id } = await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['READ_POLICIES'], proposerKey: insurer.keys.ADMIN });
      await expectRefusal('FORBIDDEN', () => app.gql(ADMIN_TOKEN, SIGN, { id }), id);
      await expectRefusal('FORBIDDEN', () => app.gql(bank.keys.SALES, SIGN, { id }), id);
    });

    it('refuses a TERMINATED agreement with BAD_USER_INPUT', async () => {
      const { id } = await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['READ_POLICIES'], proposerKey: insurer.keys.ADMIN });
      await app.ok(insurer.keys.ADMIN, TERMINATE, { id, reason: 'withdrawn before signature' });
      await expectRefusal('BAD_USER_INPUT', () => app.gql(bank.keys.ADMIN, SIGN, { id }), id);
    });

    it('refuses an agreement whose window has ended (EXPIRED) with BAD_USER_INPUT', async () => {
      const { id } = await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['READ_POLICIES'], proposerKey: insurer.keys.ADMIN });
      await app.db.getRepository(AgreementEntity).update({ id }, { validFrom: new Date(Date.now() - 10 * DAY), validTo: new Date(Date.now() - DAY) });
      await expectRefusal('BAD_USER_INPUT', () => app.gql(bank.keys.ADMIN, SIGN, { id }), id);
    });
  });

  describe('terminateAgreement', () => {
    it('by either party\'s ADMIN: TERMINATED with who, why and when, logged; a second time is BAD_USER_INPUT', async () => {
      const { id } = await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['READ_POLICIES'], proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN });
      const { terminateAgreement: a } = await app.ok(bank.keys.ADMIN, TERMINATE, { id, reason: '  branch network closed  ' });
      expect(a).toMatchObject({ status: 'TERMINATED', terminationReason: 'branch network closed' });
      expect(a.terminatedAt).toEqual(expect.any(String));
      expect(await row(id)).toMatchObject({ terminatedByPrincipalId: bank.principalIds.ADMIN, terminatedByOrganizationId: bank.id, terminationReason: 'branch network closed' });
      const log = await logOf(id);
      expect(log.map((e) => e.operation)).toEqual(['proposeAgreement', 'signAgreement', 'terminateAgreement']);
      expect(log[2]).toMatchObject({ actorPrincipalId: bank.principalIds.ADMIN, actorOrganizationId: bank.id, counterpartyId: insurer.id, insurerId: insurer.id });
      expect(JSON.parse(log[2]!.fields)).toEqual(['agreement.terminatedAt', 'agreement.terminationReason']);

      await expectRefusal('BAD_USER_INPUT', () => app.gql(insurer.keys.ADMIN, TERMINATE, { id, reason: 'again' }), id);
    });

    it.each([
      ['an empty reason', ''],
      ['a blank reason', '   '],
      ['a reason over 500 characters', 'x'.repeat(501)],
    ])('refuses %s with BAD_USER_INPUT and leaves the agreement ACTIVE', async (_name, reason) => {
      const { id } = await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['READ_POLICIES'], proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN });
      await expectRefusal('BAD_USER_INPUT', () => app.gql(insurer.keys.ADMIN, TERMINATE, { id, reason }), id);
      expect((await row(id)).terminatedAt).toBeNull();
    });

    it('refuses a third party (NOT_FOUND), the EXCHANGE ADMIN and non-ADMINs (FORBIDDEN)', async () => {
      const { id } = await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['READ_POLICIES'], proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN });
      await expectRefusal('NOT_FOUND', () => app.gql(broker.keys.ADMIN, TERMINATE, { id, reason: 'not mine' }), id);
      await expectRefusal('FORBIDDEN', () => app.gql(ADMIN_TOKEN, TERMINATE, { id, reason: 'exchange' }), id);
      await expectRefusal('FORBIDDEN', () => app.gql(insurer.keys.SALES, TERMINATE, { id, reason: 'sales' }), id);
    });

    it('takes effect on the very next request, and within the terminating request too', async () => {
      const { id } = await createAgreement(app, { insurerCode: insurer.code, partnerCode: broker.code, scopes: ['READ_POLICIES', 'VIEW_FULL_PII'], proposerKey: insurer.keys.ADMIN, signerKey: broker.keys.ADMIN });
      const grants = app.services.grants;
      const before = await app.server.contextFor(broker.keys.ADMIN);
      expect(await grants.has(before, insurer.id, 'VIEW_FULL_PII')).toBe(true);

      await app.ok(insurer.keys.ADMIN, TERMINATE, { id, reason: 'audit finding' });

      const next = await app.server.contextFor(broker.keys.ADMIN);
      expect(await grants.has(next, insurer.id, 'VIEW_FULL_PII')).toBe(false);
      expect((await grants.of(next, broker.id, insurer.id)).agreementIds).not.toContain(id);

      // The same request: a grant read before the termination is not reused after it.
      const { id: second } = await createAgreement(app, { insurerCode: insurer.code, partnerCode: broker.code, scopes: ['READ_COMPLETENESS'], proposerKey: insurer.keys.ADMIN, signerKey: broker.keys.ADMIN });
      const ctx = await app.server.contextFor(broker.keys.ADMIN);
      expect(await grants.has(ctx, insurer.id, 'READ_COMPLETENESS')).toBe(true);
      await app.services.agreements.terminate(ctx, second, 'ended by the broker');
      expect(await grants.has(ctx, insurer.id, 'READ_COMPLETENESS')).toBe(false);
    });
  });

  describe('agreements (visibility)', () => {
    let ids: { insurerBank: string; insurerBroker: string; otherBroker: string };
    beforeAll(async () => {
      ids = {
        insurerBank: (await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['SUBMIT_SALES'], proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN })).id,
        insurerBroker: (await createAgreement(app, { insurerCode: insurer.code, partnerCode: broker.code, scopes: ['SUBMIT_SALES'], proposerKey: insurer.keys.ADMIN })).id,
        otherBroker: (await createAgreement(app, { insurerCode: otherInsurer.code, partnerCode: broker.code, scopes: ['READ_POLICIES'], proposerKey: otherInsurer.keys.ADMIN })).id,
      };
    });
    const list = async (key: string) => (await app.ok<{ agreements: Array<{ id: string; insurer: { code: string }; partner: { code: string } }> }>(key, LIST)).agreements;

    it('each party\'s ADMIN sees its own organization\'s agreements, as insurer or as partner, newest first', async () => {
      const insurers = await list(insurer.keys.ADMIN);
      expect(insurers.map((a) => a.id)).toEqual(expect.arrayContaining([ids.insurerBank, ids.insurerBroker]));
      expect(insurers.map((a) => a.id)).not.toContain(ids.otherBroker);
      expect(insurers.every((a) => a.insurer.code === insurer.code)).toBe(true);
      const ordered = insurers.map((a) => a.id);
      expect(ordered).toEqual([...ordered].sort().reverse());

      const banks = await list(bank.keys.ADMIN);
      expect(banks.map((a) => a.id)).toContain(ids.insurerBank);
      expect(banks.every((a) => a.partner.code === bank.code)).toBe(true);

      const brokers = (await list(broker.keys.ADMIN)).map((a) => a.id);
      expect(brokers).toEqual(expect.arrayContaining([ids.insurerBroker, ids.otherBroker]));
      expect(brokers).not.toContain(ids.insurerBank);
    });

    it('a third party\'s ADMIN sees none of them; non-ADMIN principals see their organization\'s; the regulator sees none', async () => {
      expect((await list(otherInsurer.keys.ADMIN)).map((a) => a.id)).toEqual([ids.otherBroker]);
      expect((await list(insurer.keys.SALES)).map((a) => a.id)).toEqual((await list(insurer.keys.ADMIN)).map((a) => a.id));
      expect((await list(bank.keys.SALES)).map((a) => a.id)).toEqual((await list(bank.keys.ADMIN)).map((a) => a.id));
      expect(await list(regulator.keys.ADMIN)).toEqual([]);
    });

    it('the EXCHANGE ADMIN sees all of them', async () => {
      const all = (await list(ADMIN_TOKEN)).map((a) => a.id);
      expect(all).toEqual(expect.arrayContaining(Object.values(ids)));
      expect(all).toHaveLength(await agreementCount());
    });

    it('an anonymous caller is UNAUTHENTICATED', async () => {
      expect(errorCode(await app.gql(null, LIST))).toBe('UNAUTHENTICATED');
    });

    it('shows the status as of the request: an ACTIVE agreement past its validTo reads EXPIRED and grants nothing', async () => {
      const { id } = await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['CORRECT_RECORDS'], proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN });
      await app.db.getRepository(AgreementEntity).update({ id }, { validFrom: new Date(Date.now() - 10 * DAY), validTo: new Date(Date.now() - DAY) });
      expect((await list(bank.keys.ADMIN)).find((a) => a.id === id)).toMatchObject({ status: 'EXPIRED' });
      expect(await app.services.grants.has(await app.server.contextFor(bank.keys.ADMIN), insurer.id, 'CORRECT_RECORDS')).toBe(false);
    });
  });
});
