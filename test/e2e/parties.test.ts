import { hashApiKey } from '../../src/auth/api-keys';
import { PrincipalEntity } from '../../src/modules/principal/principal.entity';
import { ADMIN_TOKEN, errorCode, startTestApp, type TestApp } from '../support/app';
import { createOrg, createParty, createPrincipal } from '../support/factories';
import { TEST_DB } from '../support/db';

const ME = '{ me { id name roles attestedAt organization { code kind } } }';
const CREATE_ORG = 'mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id code name kind } }';
const CREATE_PRINCIPAL = 'mutation($input: CreatePrincipalInput!) { createPrincipal(input: $input) { principal { id name roles organization { code } } apiKey } }';

describe(`parties and credentials (${TEST_DB})`, () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('the bootstrap token acts as ADMIN of the EXCHANGE organization', async () => {
    const data = await app.ok(ADMIN_TOKEN, ME);
    expect(data.me).toMatchObject({ roles: ['ADMIN'], organization: { code: 'EXCHANGE', kind: 'EXCHANGE' } });
  });

  it('anonymous and unknown keys get UNAUTHENTICATED, with no stack trace', async () => {
    for (const token of [null, 'kx_not-a-key', '']) {
      const result = await app.gql(token, ME);
      expect(errorCode(result)).toBe('UNAUTHENTICATED');
      expect(result.data).toBeNull();
      expect(JSON.stringify(result)).not.toMatch(/stacktrace|at .*\.ts:\d+/);
    }
  });

  it('the exchange admin creates organizations; codes are unique and validated', async () => {
    const data = await app.ok(ADMIN_TOKEN, CREATE_ORG, { input: { code: 'ins-one', name: 'Insurer One', kind: 'INSURER' } });
    expect(data.createOrganization).toMatchObject({ code: 'INS-ONE', name: 'Insurer One', kind: 'INSURER' });
    const again = await app.gql(ADMIN_TOKEN, CREATE_ORG, { input: { code: 'INS-ONE', name: 'Dup', kind: 'BROKER' } });
    expect(errorCode(again)).toBe('BAD_USER_INPUT');
    for (const input of [
      { code: 'x', name: 'short code', kind: 'BROKER' },
      { code: 'BAD CODE', name: 'space', kind: 'BROKER' },
      { code: 'OKCODE', name: '   ', kind: 'BROKER' },
      { code: 'EX2', name: 'second exchange', kind: 'EXCHANGE' },
      { code: 'direct', name: 'reserved for direct sales', kind: 'BROKER' },
    ]) {
      expect(errorCode(await app.gql(ADMIN_TOKEN, CREATE_ORG, { input }))).toBe('BAD_USER_INPUT');
    }
    const bad = await app.gql(ADMIN_TOKEN, CREATE_ORG, { input: { code: 'ZZ', name: 'z', kind: 'NOT_A_KIND' } });
    expect(errorCode(bad)).toBe('BAD_USER_INPUT');
    const orgs = await app.ok<{ organizations: Array<{ code: string }> }>(ADMIN_TOKEN, '{ organizations { code } }');
    expect(orgs.organizations.map((o) => o.code)).toEqual(expect.arrayContaining(['EXCHANGE', 'INS-ONE']));
    expect(orgs.organizations.map((o) => o.code)).not.toContain('OKCODE');
  });

  it("a bank's ADMIN may not create organizations nor principals of an insurer", async () => {
    const bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN']);
    const insurer = await createOrg(app, 'INSURER');
    const before = await app.db.getRepository(PrincipalEntity).count();
    const org = await app.gql(bank.keys.ADMIN, CREATE_ORG, { input: { code: 'SNEAKY', name: 'x', kind: 'INSURER' } });
    expect(errorCode(org)).toBe('FORBIDDEN');
    expect(org.data).toBeNull();
    expect(JSON.stringify(org)).not.toMatch(/stacktrace/);
    const principal = await app.gql(bank.keys.ADMIN, CREATE_PRINCIPAL, { input: { organizationCode: insurer.code, name: 'mole', roles: ['UNDERWRITER'] } });
    expect(errorCode(principal)).toBe('FORBIDDEN');
    expect(await app.db.getRepository(PrincipalEntity).count()).toBe(before);
  });

  it('an ADMIN creates principals of its own organization; non-admins may not', async () => {
    const broker = await createParty(app, 'BROKER', ['ADMIN', 'SALES']);
    const data = await app.ok(broker.keys.ADMIN, CREATE_PRINCIPAL, { input: { organizationCode: broker.code, name: 'agent-1', roles: ['SALES', 'SERVICE', 'SALES'] } });
    expect(data.createPrincipal.principal).toMatchObject({ name: 'agent-1', roles: ['SALES', 'SERVICE'], organization: { code: broker.code } });
    const me = await app.ok(data.createPrincipal.apiKey, ME);
    expect(me.me.name).toBe('agent-1');
    const bySales = await app.gql(broker.keys.SALES, CREATE_PRINCIPAL, { input: { organizationCode: broker.code, name: 'x', roles: ['ADMIN'] } });
    expect(errorCode(bySales)).toBe('FORBIDDEN');
    const noRoles = await app.gql(broker.keys.ADMIN, CREATE_PRINCIPAL, { input: { organizationCode: broker.code, name: 'x', roles: [] } });
    expect(errorCode(noRoles)).toBe('BAD_USER_INPUT');
    const unknown = await app.gql(ADMIN_TOKEN, CREATE_PRINCIPAL, { input: { organizationCode: 'NO_SUCH_ORG', name: 'x', roles: ['ADMIN'] } });
    expect(errorCode(unknown)).toBe('NOT_FOUND');
  });

  it('API keys are 32 random bytes shown once and stored only as a hash', async () => {
    const broker = await createOrg(app, 'BROKER');
    const { id, key } = await createPrincipal(app, broker.code, ['SALES']);
    expect(Buffer.from(key.replace(/^kx_/, ''), 'base64url')).toHaveLength(32);
    const row = await app.db.getRepository(PrincipalEntity).findOneByOrFail({ id });
    expect(row.keyHash).toBe(hashApiKey(key));
    const dump = JSON.stringify(await app.db.query('SELECT * FROM principal'));
    expect(dump).not.toContain(key);
    expect(dump).not.toContain(key.slice(3, 20));
  });

  it('revoking a principal makes its key fail on the very next request', async () => {
    const bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES']);
    expect((await app.ok(bank.keys.SALES, ME)).me.roles).toEqual(['SALES']);
    const revoked = await app.ok(bank.keys.ADMIN, 'mutation($id: ID!) { revokePrincipal(id: $id) { id revokedAt } }', { id: bank.principalIds.SALES });
    expect(revoked.revokePrincipal.revokedAt).toEqual(expect.any(String));
    expect(errorCode(await app.gql(bank.keys.SALES, ME))).toBe('UNAUTHENTICATED');
  });

  it('an ADMIN may not revoke principals of another organization (NOT_FOUND, as for a missing id), nor the bootstrap admin', async () => {
    const a = await createParty(app, 'BROKER', ['ADMIN']);
    const b = await createParty(app, 'BROKER', ['ADMIN', 'SALES']);
    const other = await app.gql(a.keys.ADMIN, 'mutation($id: ID!) { revokePrincipal(id: $id) { id } }', { id: b.principalIds.SALES });
    expect(errorCode(other)).toBe('NOT_FOUND');
    expect((await app.ok(b.keys.SALES, ME)).me).toBeTruthy();
    const missing = await app.gql(ADMIN_TOKEN, 'mutation($id: ID!) { revokePrincipal(id: $id) { id } }', { id: 'nope' });
    expect(errorCode(missing)).toBe('NOT_FOUND');
    const me = await app.ok(ADMIN_TOKEN, ME);
    const self = await app.gql(ADMIN_TOKEN, 'mutation($id: ID!) { revokePrincipal(id: $id) { id } }', { id: me.me.id });
    expect(errorCode(self)).toBe('BAD_USER_INPUT');
    expect((await app.ok(ADMIN_TOKEN, ME)).me.id).toBe(me.me.id);
  });

  it('signAttestation records the time for the caller itself', async () => {
    const bank = await createParty(app, 'BANK_CHANNEL', ['SALES']);
    expect((await app.ok(bank.keys.SALES, ME)).me.attestedAt).toBeNull();
    const signed = await app.ok(bank.keys.SALES, 'mutation { signAttestation { id attestedAt } }');
    expect(signed.signAttestation.id).toBe(bank.principalIds.SALES);
    expect(new Date(signed.signAttestation.attestedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect((await app.ok(bank.keys.SALES, ME)).me.attestedAt).toBe(signed.signAttestation.attestedAt);
  });

  it('parallel writes through the API all land (SQLite writes are queued, MySQL retries)', async () => {
    const broker = await createOrg(app, 'BROKER');
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) => app.gql(ADMIN_TOKEN, CREATE_PRINCIPAL, { input: { organizationCode: broker.code, name: `p-${i}`, roles: ['SALES'] } })),
    );
    expect(results.filter((r) => r.errors)).toEqual([]);
    const count = await app.db.getRepository(PrincipalEntity).countBy({ organizationId: (await app.services.organizations.findByCode(broker.code))!.id });
    expect(count).toBe(16);
  });
});
