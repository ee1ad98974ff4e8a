import { startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { hashApiKey } from '../../src/auth/api-keys';
import { PrincipalEntity } from '../../src/modules/principal/principal.entity';
import { createAgreement, createParty, createPrincipal } from '../support/factories';
import { postGraphql } from '../support/http';
import { adult, seedPolicies, type PolicySeed } from '../support/seed';
import { recordStatements } from '../support/sql';

const POINT = `query($insurerCode: String!, $policyNo: String!) {
  policy(insurerCode: $insurerCode, policyNo: $policyNo) {
    policyNo completeness { status missing } channel { code }
    policyholder { id name idNumber phone } insured { id idNumber }
    beneficiaries { order person { id idNumber } }
  }
}`;
const PAGE = `query($insurerCode: String, $missing: String) {
  policies(filter: { insurerCode: $insurerCode, missingField: $missing }, first: 5) { pageInfo { hasNextPage } edges { node { policyNo completeness { status missing } } } }
}`;
const ME = '{ me { id } }';

/**
 * Issue 10 (a): the HTTP handler remembers the actor of a key that
 * authenticated, and a request that reads one policy or one page with it
 * sends no statement of its own for the key: the read's statement confirms
 * that the principal still holds the key unrevoked. Everything else still
 * looks the key up, and a revoked key is refused at once, whatever the
 * request and whichever process revoked it.
 */
describe(`remembered keys: the read confirms the key (${TEST_DB})`, () => {
  let app: TestApp;
  let url: string;
  let insurer: Awaited<ReturnType<typeof createParty>>;
  let broker: Awaited<ReturnType<typeof createParty>>;
  let recorder: ReturnType<typeof recordStatements>;

  beforeAll(async () => {
    app = await startTestApp();
    url = await app.url();
    insurer = await createParty(app, 'INSURER', ['ADMIN', 'COMPLIANCE']);
    broker = await createParty(app, 'BROKER', ['ADMIN', 'SALES']);
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: broker.code, scopes: ['READ_POLICIES', 'VIEW_FULL_PII'], proposerKey: insurer.keys.ADMIN, signerKey: broker.keys.ADMIN });
    const seeds: PolicySeed[] = Array.from({ length: 8 }, (_, i) => ({
      insurerId: insurer.id,
      policyNo: `RK-${i}`,
      channelId: broker.id,
      policyholder: i % 2 ? adult() : adult({ phone: null }),
      insured: adult(),
      insuredRelationship: 'OTHER',
      beneficiaries: [{ person: adult(), relationshipToInsured: 'CHILD', sharePercent: 100, order: 1 }],
    }));
    await seedPolicies(app, seeds);
    recorder = recordStatements(app.db);
  });
  afterAll(async () => {
    recorder.restore();
    await app.close();
  });

  async function send(key: string, query: string, variables: Record<string, unknown> = {}) {
    recorder.reset();
    const { status, json } = await postGraphql(url, query, { variables, headers: { authorization: `Bearer ${key}` } });
    // The READ_PII entry of a whole view is a write of its own after the read: counted apart.
    const reads = recorder.statements.filter((q) => !/^\s*(START TRANSACTION|BEGIN|COMMIT|ROLLBACK|SET TRANSACTION|INSERT|UPDATE|SELECT .* FOR UPDATE)/is.test(q) && !/transfer_log/i.test(q));
    return { status, json, reads };
  }

  const readPiiEntries = async () => Number(((await app.db.query("SELECT COUNT(*) AS n FROM transfer_log WHERE operation = 'READ_PII'")) as Array<{ n: number | string }>)[0]!.n);

  it('a point read and a page with a remembered key are one statement each, and answer what a looked-up key gets', async () => {
    const vars = { insurerCode: insurer.code, policyNo: 'RK-3' };
    const first = await send(broker.keys.SALES, POINT, vars);
    const second = await send(broker.keys.SALES, POINT, vars);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.json).toEqual(first.json);
    expect(second.json.data.policy.policyNo).toBe('RK-3');
    expect(second.json.data.policy.policyholder.idNumber).not.toMatch(/\*/); // VIEW_FULL_PII: whole
    expect(second.reads).toHaveLength(1);

    const page = await send(insurer.keys.ADMIN, PAGE, { insurerCode: insurer.code, missing: 'policyholder.phone' });
    const again = await send(insurer.keys.ADMIN, PAGE, { insurerCode: insurer.code, missing: 'policyholder.phone' });
    expect(again.json).toEqual(page.json);
    expect(again.json.data.policies.edges.map((e: { node: { policyNo: string } }) => e.node.policyNo)).toEqual(['RK-6', 'RK-4', 'RK-2', 'RK-0']);
    expect(again.reads).toHaveLength(1);
  });

  it('a page with no rows confirms nothing: the handler looks the key up after it (2 statements), the answer unchanged', async () => {
    await send(insurer.keys.COMPLIANCE, ME);
    const empty = await send(insurer.keys.COMPLIANCE, PAGE, { insurerCode: insurer.code, missing: 'insured.name' });
    expect(empty.status).toBe(200);
    expect(empty.json.data.policies.edges).toEqual([]);
    expect(empty.reads).toHaveLength(2);
    expect(empty.reads.filter((q) => /key_hash/.test(q))).toHaveLength(2); // the page's own check, then the lookup
  });

  it('any other operation with a remembered key looks the key up as before', async () => {
    await send(insurer.keys.COMPLIANCE, POINT, { insurerCode: insurer.code, policyNo: 'RK-1' });
    const me = await send(insurer.keys.COMPLIANCE, ME);
    expect(me.json.data.me.id).toBe(insurer.principalIds.COMPLIANCE);
    expect(me.reads.filter((q) => /FROM principal p INNER JOIN organization/.test(q))).toHaveLength(1);
    const both = await send(insurer.keys.COMPLIANCE, `query($i: String!) { policy(insurerCode: $i, policyNo: "RK-1") { policyNo } me { id } }`, { i: insurer.code });
    expect(both.json.data.policy.policyNo).toBe('RK-1');
    expect(both.reads.filter((q) => /FROM principal p INNER JOIN organization/.test(q))).toHaveLength(1);
  });

  it.each([
    ['the policy exists (whole view: no READ_PII entry written)', POINT, { policyNo: 'RK-5' }, 1],
    ['the policy does not exist', POINT, { policyNo: 'RK-NONE' }, 1],
    ['a page with rows', PAGE, {}, 2],
    ['a page with no rows', PAGE, { missing: 'insured.name' }, 3],
    ['the variables do not coerce (refused before any resolver)', POINT, { policyNo: 5 }, 1],
    ['the document does not validate', '{ policy(insurerCode: "X") { policyNo } }', {}, 1],
    ['another operation', ME, {}, 1],
  ])('a remembered key revoked by another process is refused on the very next request: 401 UNAUTHENTICATED when %s', async (_case, query, extra, statements) => {
    const { key } = await createPrincipal(app, broker.code, ['SALES']); // a reader of the broker's, with VIEW_FULL_PII
    const warm = await send(key, POINT, { insurerCode: insurer.code, policyNo: 'RK-1' });
    expect(warm.status).toBe(200);
    expect(warm.json.data.policy.policyNo).toBe('RK-1');
    // Another instance revokes it: this process is told nothing and still remembers the key.
    await app.db.getRepository(PrincipalEntity).update({ keyHash: hashApiKey(key) }, { revokedAt: new Date() });
    const before = await readPiiEntries();
    const refused = await send(key, query, { insurerCode: insurer.code, ...extra });
    expect(refused.status).toBe(401);
    expect(refused.json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(refused.json.data).toBeUndefined();
    expect(await readPiiEntries()).toBe(before);
    // The read's own check refused it (a partner's page reads its grant first, no data), or with no read or an
    // empty page (which confirms nothing) the handler's lookup after it.
    expect(refused.reads).toHaveLength(statements);
  });

  it('revokePrincipal refuses the key at once on the read path too', async () => {
    const { key, id } = await createPrincipal(app, broker.code, ['SALES']);
    expect((await send(key, POINT, { insurerCode: insurer.code, policyNo: 'RK-1' })).json.data.policy.policyNo).toBe('RK-1');
    const revoked = await send(broker.keys.ADMIN, 'mutation($id: ID!) { revokePrincipal(id: $id) { id revokedAt } }', { id });
    expect(revoked.json.data.revokePrincipal.revokedAt).toEqual(expect.any(String));
    const refused = await send(key, POINT, { insurerCode: insurer.code, policyNo: 'RK-1' });
    expect(refused.status).toBe(401);
    expect(refused.json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

});
