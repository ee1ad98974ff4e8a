/**
 * Issue 8, defect 6: `agreements` answers every principal of a party with its
 * own organization's agreements, whatever its roles (contract "Who may do
 * what"); a third party and the REGULATOR see none; the EXCHANGE ADMIN sees
 * all. Changing an agreement stays with the parties' ADMINs.
 */
import { AgreementEntity } from '../../src/modules/agreement/agreement.entity';
import { ROLES, type Role } from '../../src/modules/principal/principal.entity';
import { TransferLogEntryEntity } from '../../src/modules/transfer-log/transfer-log.entity';
import { ADMIN_TOKEN, errorCode, startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty, createPrincipal } from '../support/factories';

type Party = Awaited<ReturnType<typeof createParty>>;

const LIST = '{ agreements { id status insurer { code } partner { code } } }';
const SIGN = 'mutation($id: ID!) { signAgreement(id: $id) { id } }';
const TERMINATE = 'mutation($id: ID!, $reason: String!) { terminateAgreement(id: $id, reason: $reason) { id } }';
const PROPOSE = 'mutation($input: ProposeAgreementInput!) { proposeAgreement(input: $input) { id } }';
const DAY = 24 * 60 * 60 * 1000;
const NON_ADMIN: Role[] = ROLES.filter((r) => r !== 'ADMIN');

describe(`agreements: every principal of a party sees its organization's (${TEST_DB})`, () => {
  let app: TestApp;
  let insurer: Party;
  let bank: Party;
  let broker: Party;
  let thirdInsurer: Party;
  let regulator: Party;
  let ids: { insurerBank: string; insurerBroker: string; proposed: string };

  beforeAll(async () => {
    app = await startTestApp();
    insurer = await createParty(app, 'INSURER', [...ROLES]);
    bank = await createParty(app, 'BANK_CHANNEL', [...ROLES]);
    broker = await createParty(app, 'BROKER', [...ROLES]);
    thirdInsurer = await createParty(app, 'INSURER', [...ROLES]);
    regulator = await createParty(app, 'REGULATOR', [...ROLES]);
    ids = {
      insurerBank: (await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['SUBMIT_SALES'], proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN })).id,
      insurerBroker: (await createAgreement(app, { insurerCode: insurer.code, partnerCode: broker.code, scopes: ['READ_POLICIES'], proposerKey: insurer.keys.ADMIN, signerKey: broker.keys.ADMIN })).id,
      proposed: (await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['CORRECT_RECORDS'], proposerKey: insurer.keys.ADMIN })).id,
    };
  });
  afterAll(() => app.close());

  const listed = async (key: string) => (await app.ok<{ agreements: Array<{ id: string }> }>(key, LIST)).agreements.map((a) => a.id);

  it.each([...ROLES])('role %s: each party\'s principal sees exactly its organization\'s agreements, newest first', async (role) => {
    expect(await listed(insurer.keys[role])).toEqual([ids.proposed, ids.insurerBroker, ids.insurerBank]);
    expect(await listed(bank.keys[role])).toEqual([ids.proposed, ids.insurerBank]);
    expect(await listed(broker.keys[role])).toEqual([ids.insurerBroker]);
  });

  it.each([...ROLES])('role %s: a third party\'s or the regulator\'s principal sees none', async (role) => {
    expect(await listed(thirdInsurer.keys[role])).toEqual([]);
    expect(await listed(regulator.keys[role])).toEqual([]);
  });

  it('the EXCHANGE ADMIN sees all; another EXCHANGE principal sees only its own organization\'s, i.e. none', async () => {
    expect((await listed(ADMIN_TOKEN)).sort()).toEqual(Object.values(ids).sort());
    const exchangeCompliance = await createPrincipal(app, 'EXCHANGE', ['COMPLIANCE']);
    expect(await listed(exchangeCompliance.key)).toEqual([]);
  });

  it.each(NON_ADMIN)('role %s: a party\'s principal still may not propose, sign or terminate (FORBIDDEN, nothing changes)', async (role) => {
    const before = { rows: await app.db.getRepository(AgreementEntity).find({ order: { id: 'ASC' } }), log: await app.db.getRepository(TransferLogEntryEntity).count() };
    const proposal = { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['READ_POLICIES'], validFrom: new Date(Date.now() - DAY).toISOString(), validTo: new Date(Date.now() + DAY).toISOString() };
    expect(errorCode(await app.gql(bank.keys[role], PROPOSE, { input: proposal }))).toBe('FORBIDDEN');
    expect(errorCode(await app.gql(bank.keys[role], SIGN, { id: ids.proposed }))).toBe('FORBIDDEN');
    expect(errorCode(await app.gql(insurer.keys[role], TERMINATE, { id: ids.insurerBank, reason: 'not mine to end' }))).toBe('FORBIDDEN');
    expect(await app.db.getRepository(AgreementEntity).find({ order: { id: 'ASC' } })).toEqual(before.rows);
    expect(await app.db.getRepository(TransferLogEntryEntity).count()).toBe(before.log);
  });
});
