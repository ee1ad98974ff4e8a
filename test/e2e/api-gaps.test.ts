/**
 * Issue 12, item 7: the small API gaps users asked for while trying Kexin.
 * (a) `totalCount` on the transfer-log connection: the same rows as the
 *     pages (filter and permission), counted only when selected;
 * (b) Relay connections beside the lists that grow without bound
 *     (organizations, agreements, corrections, remediation campaigns): the
 *     walk of every page is exactly the list, newest first, no overlap;
 * (c) `principals`: an ADMIN lists its own organization's principals (no key,
 *     no hash), paged, so a leaked key's principal can be found and revoked;
 * (d) a `missingField` that is no required field path is BAD_USER_INPUT
 *     naming the allowed paths (it answered 0 rows before).
 * Every refusal asserts its code, that no data came with it and, where the
 * call could change something, that nothing changed.
 */
import type { GraphQLObjectType } from 'graphql';
import { hashApiKey } from '../../src/auth/api-keys';
import { inTransaction } from '../../src/db/transaction';
import { MISSING_FIELD_PATHS } from '../../src/domain/completeness';
import { AgreementEntity } from '../../src/modules/agreement/agreement.entity';
import { PolicyEntity } from '../../src/modules/policy/policy.entity';
import { PrincipalEntity } from '../../src/modules/principal/principal.entity';
import { TransferLogEntryEntity } from '../../src/modules/transfer-log/transfer-log.entity';
import { ADMIN_TOKEN, errorCode, startTestApp, type GqlResult, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty, createPrincipal } from '../support/factories';
import { postGraphql } from '../support/http';
import { completeSeed, seedPolicies } from '../support/seed';
import { recordStatements } from '../support/sql';

type Party = Awaited<ReturnType<typeof createParty>>;
interface Page<N> {
  edges: Array<{ cursor: string; node: N }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const DAY = 24 * 60 * 60 * 1000;
const LOG = `query($i: String!, $first: Int, $after: String, $p: String, $op: String) {
  transferLog(insurerCode: $i, first: $first, after: $after, policyNo: $p, operation: $op) { totalCount edges { node { seq } } pageInfo { hasNextPage endCursor } }
}`;
const LOG_NO_COUNT = 'query($i: String!) { transferLog(insurerCode: $i, first: 5) { edges { node { seq } } } }';
const PRINCIPALS = 'query($first: Int, $after: String) { principals(first: $first, after: $after) { edges { cursor node { id name roles createdAt revokedAt attestedAt organization { code } } } pageInfo { hasNextPage endCursor } } }';
const POLICIES = 'query($f: PolicyFilter) { policies(filter: $f, first: 5) { totalCount edges { node { policyNo } } } }';

describe(`issue 12 API gaps: transferLog totalCount, connections, principals, missingField (${TEST_DB})`, () => {
  let app: TestApp;
  let insurer: Party;
  let other: Party;
  let bank: Party;
  let broker: Party;
  const policyNo = 'GAP-CORR-1';

  beforeAll(async () => {
    app = await startTestApp();
    insurer = await createParty(app, 'INSURER', ['ADMIN', 'COMPLIANCE', 'SERVICE', 'SALES'], { attested: true });
    other = await createParty(app, 'INSURER', ['ADMIN', 'COMPLIANCE']);
    bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SERVICE']);
    broker = await createParty(app, 'BROKER', ['ADMIN']);
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: bank.code, scopes: ['READ_POLICIES'], proposerKey: insurer.keys.ADMIN, signerKey: bank.keys.ADMIN });
    await createAgreement(app, { insurerCode: insurer.code, partnerCode: broker.code, scopes: ['SUBMIT_SALES'], proposerKey: broker.keys.ADMIN, signerKey: insurer.keys.ADMIN });
    await createAgreement(app, { insurerCode: other.code, partnerCode: broker.code, scopes: ['READ_POLICIES'], proposerKey: other.keys.ADMIN });
    // 21 entries of the insurer's chain naming policies, 7 of them READ_PII, 3 per policy number GAP-0 … GAP-6.
    for (let i = 0; i < 21; i += 1) {
      await inTransaction(app.db, (em) =>
        app.services.transferLog.append(em, {
          insurerId: insurer.id,
          operation: i % 3 === 0 ? 'READ_PII' : 'submitSales',
          actorPrincipalId: bank.principalIds.ADMIN,
          actorOrganizationId: bank.id,
          counterpartyId: insurer.id,
          policyNos: [`GAP-${i % 7}`],
          fields: ['policyholder.phone'],
          change: { i },
        }),
      );
    }
  });
  afterAll(() => app.close());

  /** Every page of a connection, `first` at a time, checking that cursors and pages follow each other. */
  async function walk<N>(key: string, query: string, field: string, variables: Record<string, unknown>, first: number): Promise<N[]> {
    const nodes: N[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 1000; pages += 1) {
      const data: Record<string, Page<N>> = await app.ok(key, query, { ...variables, first, after });
      const page = data[field]!;
      expect(page.edges.length).toBeLessThanOrEqual(first);
      nodes.push(...page.edges.map((e) => e.node));
      expect(page.pageInfo.endCursor).toBe(page.edges.length ? page.edges[page.edges.length - 1]!.cursor : null);
      if (!page.pageInfo.hasNextPage) return nodes;
      after = page.pageInfo.endCursor;
    }
    throw new Error('more than 1000 pages');
  }

  const descending = (ids: string[]) => [...ids].sort().reverse();

  describe('(a) transferLog totalCount', () => {
    it('counts the rows of the same filter on every page, whichever page is read', async () => {
      const chainRows = await app.db.getRepository(TransferLogEntryEntity).countBy({ insurerId: insurer.id });
      for (const [filter, expected] of [
        [{}, chainRows],
        [{ op: 'READ_PII' }, 7],
        [{ p: 'GAP-3' }, 3],
        [{ p: 'GAP-3', op: 'READ_PII' }, 1],
        [{ p: 'GAP-NONE' }, 0],
        [{ op: 'noSuchOperation' }, 0],
      ] as const) {
        let after: string | null = null;
        let walked = 0;
        for (;;) {
          const data: { transferLog: Page<{ seq: number }> & { totalCount: number } } = await app.ok(insurer.keys.COMPLIANCE, LOG, { i: insurer.code, first: 4, after, ...filter });
          expect(data.transferLog.totalCount).toBe(expected);
          walked += data.transferLog.edges.length;
          if (!data.transferLog.pageInfo.hasNextPage) break;
          after = data.transferLog.pageInfo.endCursor;
        }
        expect(walked).toBe(expected);
      }
      expect(chainRows).toBeGreaterThan(21);
    });

    it('sends the COUNT only when totalCount is selected', async () => {
      const rec = recordStatements(app.db);
      try {
        await app.ok(insurer.keys.ADMIN, LOG_NO_COUNT, { i: insurer.code });
        const without = rec.statements.filter((s) => /COUNT\(/i.test(s)).length;
        rec.reset();
        await app.ok(insurer.keys.ADMIN, LOG, { i: insurer.code, first: 5 });
        const withCount = rec.statements.filter((s) => /COUNT\(/i.test(s)).length;
        expect({ without, withCount }).toEqual({ without: 0, withCount: 1 });
      } finally {
        rec.restore();
      }
    });

    it('refuses the same callers as the page: another insurer, a partner, a SALES principal', async () => {
      for (const key of [other.keys.ADMIN, bank.keys.ADMIN, insurer.keys.SALES]) {
        const result = await app.gql(key, LOG, { i: insurer.code });
        expect(errorCode(result)).toBe('FORBIDDEN');
        expect(result.data?.transferLog ?? null).toBeNull();
      }
    });
  });

  describe('(c) principals', () => {
    let revoked: { id: string; key: string };

    beforeAll(async () => {
      revoked = await createPrincipal(app, insurer.code, ['SALES'], { name: 'leaked-key-holder' });
      await createPrincipal(app, insurer.code, ['UNDERWRITER', 'SERVICE'], { name: 'two-roles' });
      await app.ok(insurer.keys.ADMIN, 'mutation($id: ID!) { revokePrincipal(id: $id) { id } }', { id: revoked.id });
    });

    type Node = { id: string; name: string; roles: string[]; createdAt: string; revokedAt: string | null; attestedAt: string | null; organization: { code: string } };

    it('an ADMIN walks exactly its own organization\'s principals, newest first, with the fields the task names', async () => {
      const stored = await app.db.getRepository(PrincipalEntity).findBy({ organizationId: insurer.id });
      const nodes = await walk<Node>(insurer.keys.ADMIN, PRINCIPALS, 'principals', {}, 2);
      expect(nodes.map((n) => n.id)).toEqual(descending(stored.map((p) => p.id)));
      expect(new Set(nodes.map((n) => n.id)).size).toBe(nodes.length);
      for (const node of nodes) {
        const row = stored.find((p) => p.id === node.id)!;
        expect(node).toEqual({
          id: row.id,
          name: row.name,
          roles: row.roles.split(','),
          createdAt: row.createdAt.toISOString(),
          revokedAt: row.revokedAt?.toISOString() ?? null,
          attestedAt: row.attestedAt?.toISOString() ?? null,
          organization: { code: insurer.code },
        });
      }
      const times = nodes.map((n) => n.createdAt);
      expect(times).toEqual([...times].sort().reverse());
      expect(nodes.find((n) => n.id === revoked.id)?.revokedAt).toEqual(expect.any(String));
      expect(nodes.find((n) => n.id === insurer.principalIds.SERVICE)?.attestedAt).toEqual(expect.any(String));
      expect(stored.length).toBe(6);
    });

    it('never shows a key or its hash, and Principal has no field that could', async () => {
      const { json } = await postGraphql(await app.url(), PRINCIPALS, { variables: { first: 500 }, headers: { authorization: `Bearer ${insurer.keys.ADMIN}` } });
      const text = JSON.stringify(json);
      for (const key of [...Object.values(insurer.keys), revoked.key]) {
        expect(text).not.toContain(key);
        expect(text).not.toContain(hashApiKey(key));
      }
      const fields = Object.keys((app.server.schema.getType('Principal') as GraphQLObjectType).getFields());
      expect(fields.sort()).toEqual(['attestedAt', 'createdAt', 'id', 'name', 'organization', 'revokedAt', 'roles']);
    });

    it('another organization\'s principals are never on an ADMIN\'s pages (partners, other insurers, the exchange)', async () => {
      const own = new Set((await app.db.getRepository(PrincipalEntity).findBy({ organizationId: insurer.id })).map((p) => p.id));
      for (const [key, code] of [[other.keys.ADMIN, other.code], [bank.keys.ADMIN, bank.code], [broker.keys.ADMIN, broker.code], [ADMIN_TOKEN, 'EXCHANGE']] as const) {
        const nodes = await walk<Node>(key, PRINCIPALS, 'principals', {}, 500);
        expect(nodes.length).toBeGreaterThan(0);
        expect(nodes.filter((n) => own.has(n.id) || n.organization.code !== code)).toEqual([]);
      }
    });

    it('refuses every non-ADMIN with FORBIDDEN and no data, an anonymous caller with UNAUTHENTICATED', async () => {
      for (const key of [insurer.keys.COMPLIANCE, insurer.keys.SERVICE, insurer.keys.SALES, bank.keys.SERVICE, other.keys.COMPLIANCE]) {
        const result = await app.gql(key, PRINCIPALS, {});
        expect(errorCode(result)).toBe('FORBIDDEN');
        expect(result.data?.principals ?? null).toBeNull();
      }
      expect(errorCode(await app.gql(null, PRINCIPALS, {}))).toBe('UNAUTHENTICATED');
    });

    it('a leaked key\'s principal is found by name on the list and revoked: the key stops working', async () => {
      const leaked = await createPrincipal(app, insurer.code, ['SALES'], { name: 'found-through-principals' });
      expect(errorCode(await app.gql(leaked.key, '{ me { id } }'))).toBeUndefined();
      const nodes = await walk<Node>(insurer.keys.ADMIN, PRINCIPALS, 'principals', {}, 50);
      const found = nodes.filter((n) => n.name === 'found-through-principals' && n.revokedAt === null);
      expect(found.map((n) => n.id)).toEqual([leaked.id]);
      await app.ok(insurer.keys.ADMIN, 'mutation($id: ID!) { revokePrincipal(id: $id) { id } }', { id: found[0]!.id });
      expect(errorCode(await app.gql(leaked.key, '{ me { id } }'))).toBe('UNAUTHENTICATED');
    });
  });

  describe('(b) connections beside the unbounded lists', () => {
    let campaigns: string[] = [];

    beforeAll(async () => {
      await seedPolicies(app, [completeSeed(insurer.id, policyNo, { channelId: bank.id })]);
      for (let i = 0; i < 3; i += 1) {
        const version = (await app.db.getRepository(PolicyEntity).findOneByOrFail({ insurerId: insurer.id, policyNo })).version;
        await app.ok(insurer.keys.SERVICE, 'mutation($input: CorrectionInput!) { submitCorrection(input: $input) { id } }', {
          input: {
            insurerCode: insurer.code,
            policyNo,
            target: 'POLICYHOLDER',
            changes: { address: `北京市海淀区分页路${i + 1}号` },
            evidence: { method: 'CALLBACK_RECORDING', reference: `REC-GAP-${i}`, confirmedAt: new Date(Date.now() - DAY).toISOString() },
            expectedVersion: version,
          },
        });
      }
      const start = 'mutation($i: String!, $b: Date!, $d: Date!) { startRemediation(insurerCode: $i, issuedBefore: $b, deadline: $d) { id } }';
      for (let i = 0; i < 3; i += 1) {
        campaigns.push((await app.ok<{ startRemediation: { id: string } }>(insurer.keys.ADMIN, start, { i: insurer.code, b: '2026-01-01', d: '2099-01-01' })).startRemediation.id);
      }
      campaigns = descending(campaigns);
    });

    const ORGS = 'query($first: Int, $after: String) { organizationsConnection(first: $first, after: $after) { edges { cursor node { id code } } pageInfo { hasNextPage endCursor } } }';
    const AGREEMENTS = 'query($first: Int, $after: String) { agreementsConnection(first: $first, after: $after) { edges { cursor node { id status } } pageInfo { hasNextPage endCursor } } }';
    const CORRECTIONS = 'query($i: String!, $p: String!, $first: Int, $after: String) { correctionsConnection(insurerCode: $i, policyNo: $p, first: $first, after: $after) { edges { cursor node { id changedFields } } pageInfo { hasNextPage endCursor } } }';
    const CAMPAIGNS = 'query($i: String!, $first: Int, $after: String) { remediationCampaignsConnection(insurerCode: $i, first: $first, after: $after) { edges { cursor node { id checked } } pageInfo { hasNextPage endCursor } } }';

    it('organizationsConnection walks the whole directory, newest first, for any caller', async () => {
      const all = (await app.ok<{ organizations: Array<{ id: string; code: string }> }>(bank.keys.SERVICE, '{ organizations { id code } }')).organizations;
      for (const first of [1, 2, 500]) {
        const nodes = await walk<{ id: string; code: string }>(bank.keys.SERVICE, ORGS, 'organizationsConnection', {}, first);
        expect(nodes.map((n) => n.id)).toEqual(descending(all.map((o) => o.id)));
      }
      expect(all.length).toBe(5);
    });

    it('agreementsConnection walks exactly the caller\'s agreements (the EXCHANGE ADMIN all)', async () => {
      const repo = app.db.getRepository(AgreementEntity);
      const cases: Array<[string, string | null]> = [[insurer.keys.ADMIN, insurer.id], [broker.keys.ADMIN, broker.id], [bank.keys.SERVICE, bank.id], [other.keys.COMPLIANCE, other.id], [ADMIN_TOKEN, null]];
      for (const [key, orgId] of cases) {
        const stored = orgId === null ? await repo.find() : await repo.find({ where: [{ insurerId: orgId }, { partnerId: orgId }] });
        const list = (await app.ok<{ agreements: Array<{ id: string; status: string }> }>(key, '{ agreements { id status } }')).agreements;
        const nodes = await walk<{ id: string; status: string }>(key, AGREEMENTS, 'agreementsConnection', {}, 1);
        expect(nodes.map((n) => n.id)).toEqual(descending(stored.map((a) => a.id)));
        expect(new Set(nodes.map((n) => n.id))).toEqual(new Set(list.map((a) => a.id)));
        expect(nodes.length).toBeGreaterThan(0);
      }
    });

    it('correctionsConnection walks the policy\'s history as corrections lists it; hidden from a partner without READ_POLICIES', async () => {
      const V = { i: insurer.code, p: policyNo };
      const list = (await app.ok<{ corrections: Array<{ id: string }> }>(insurer.keys.SERVICE, 'query($i: String!, $p: String!) { corrections(insurerCode: $i, policyNo: $p) { id } }', V)).corrections;
      expect(list.length).toBe(3);
      for (const key of [insurer.keys.SERVICE, bank.keys.SERVICE]) {
        const nodes = await walk<{ id: string; changedFields: string[] }>(key, CORRECTIONS, 'correctionsConnection', V, 2);
        expect(nodes.map((n) => n.id)).toEqual(list.map((c) => c.id));
        expect(nodes.every((n) => n.changedFields.includes('policyholder.address'))).toBe(true);
      }
      // Another insurer and a partner without a READ_POLICIES agreement: an empty page, as for a policy that does not exist.
      for (const [key, vars] of [[other.keys.ADMIN, V], [broker.keys.ADMIN, V], [insurer.keys.SERVICE, { i: insurer.code, p: 'GAP-NONE' }]] as const) {
        const result = await app.gql<{ correctionsConnection: Page<unknown> }>(key, CORRECTIONS, vars);
        expect(result.errors).toBeUndefined();
        expect(result.data?.correctionsConnection).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
      }
    });

    it('remediationCampaignsConnection walks remediationCampaigns; another insurer is FORBIDDEN', async () => {
      const list = (await app.ok<{ remediationCampaigns: Array<{ id: string }> }>(insurer.keys.COMPLIANCE, 'query($i: String!) { remediationCampaigns(insurerCode: $i) { id } }', { i: insurer.code })).remediationCampaigns;
      expect(list.map((c) => c.id)).toEqual(campaigns);
      const nodes = await walk<{ id: string; checked: number }>(insurer.keys.COMPLIANCE, CAMPAIGNS, 'remediationCampaignsConnection', { i: insurer.code }, 2);
      expect(nodes.map((n) => n.id)).toEqual(campaigns);
      const refused = await app.gql(other.keys.ADMIN, CAMPAIGNS, { i: insurer.code });
      expect(errorCode(refused)).toBe('FORBIDDEN');
      expect(refused.data?.remediationCampaignsConnection ?? null).toBeNull();
    });

    it('first above 500 is HTTP 400 BAD_USER_INPUT on every new page; a cursor of another list is BAD_USER_INPUT', async () => {
      const url = await app.url();
      const calls: Array<[string, string, Record<string, unknown>]> = [
        ['organizationsConnection', ORGS, {}],
        ['agreementsConnection', AGREEMENTS, {}],
        ['correctionsConnection', CORRECTIONS, { i: insurer.code, p: policyNo }],
        ['remediationCampaignsConnection', CAMPAIGNS, { i: insurer.code }],
        ['principals', PRINCIPALS, {}],
      ];
      // The same query text admitted with a small page first (the cost plugin remembers admitted operations by their
      // page-size variables): 501 must still be refused before any resolver. It was not, for any list, before issue 12.
      const POLICY_PAGE = 'query($first: Int, $after: String) { policies(first: $first, after: $after) { edges { cursor } pageInfo { hasNextPage endCursor } } }';
      await postGraphql(url, POLICY_PAGE, { variables: { first: 1 }, headers: { authorization: `Bearer ${insurer.keys.ADMIN}` } });
      const policyPage = await postGraphql(url, POLICY_PAGE, { variables: { first: 501 }, headers: { authorization: `Bearer ${insurer.keys.ADMIN}` } });
      expect([policyPage.status, policyPage.json.errors?.[0]?.extensions]).toEqual([400, { code: 'BAD_USER_INPUT', field: 'first', limit: 500 }]);
      const orgCursor = ((await app.ok(insurer.keys.ADMIN, ORGS, { first: 1 })) as { organizationsConnection: Page<unknown> }).organizationsConnection.pageInfo.endCursor;
      const campaignCursor = ((await app.ok(insurer.keys.ADMIN, CAMPAIGNS, { i: insurer.code, first: 1 })) as { remediationCampaignsConnection: Page<unknown> }).remediationCampaignsConnection.pageInfo.endCursor;
      for (const [field, query, vars] of calls) {
        const { status, json } = await postGraphql(url, query, { variables: { ...vars, first: 501 }, headers: { authorization: `Bearer ${insurer.keys.ADMIN}` } });
        expect([field, status, json.errors?.[0]?.extensions]).toEqual([field, 400, { code: 'BAD_USER_INPUT', field: 'first', limit: 500 }]);
        const foreign = field === 'organizationsConnection' ? campaignCursor : orgCursor;
        const result: GqlResult = await app.gql(insurer.keys.ADMIN, query, { ...vars, after: foreign });
        expect([field, result.errors?.[0]?.extensions]).toEqual([field, { code: 'BAD_USER_INPUT', field: 'after' }]);
        expect(result.data?.[field] ?? null).toBeNull();
      }
    });
  });

  describe('(d) missingField', () => {
    it('every required path is accepted (trimmed); the page and totalCount agree', async () => {
      for (const path of MISSING_FIELD_PATHS) {
        const data = await app.ok<{ policies: { totalCount: number; edges: unknown[] } }>(insurer.keys.ADMIN, POLICIES, { f: { missingField: ` ${path} ` } });
        expect(data.policies.totalCount).toBe(data.policies.edges.length);
      }
      expect(MISSING_FIELD_PATHS.length).toBe(13);
    });

    it.each([['policyholder.phon'], ['phone'], ['beneficiaries[0].name'], ['Policyholder.Phone'], ['']])('%j is BAD_USER_INPUT naming the allowed paths, HTTP 200 as resolver refusals are', async (path) => {
      const { status, json } = await postGraphql(await app.url(), POLICIES, { variables: { f: { missingField: path } }, headers: { authorization: `Bearer ${insurer.keys.ADMIN}` } });
      expect(status).toBe(200);
      expect(json.data).toBeNull(); // policies is non-null: its refusal nulls the whole answer
      expect(json.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'filter.missingField', allowed: [...MISSING_FIELD_PATHS] });
      for (const allowed of MISSING_FIELD_PATHS) expect(json.errors[0].message).toContain(allowed);
    });

    it('the same refusal for exportPoliciesCsv and for a partner', async () => {
      const csv = await app.gql(insurer.keys.ADMIN, 'query($f: PolicyFilter) { exportPoliciesCsv(filter: $f) }', { f: { missingField: 'policyholder.adress' } });
      expect(errorCode(csv)).toBe('BAD_USER_INPUT');
      expect(csv.data?.exportPoliciesCsv ?? null).toBeNull();
      const partner = await app.gql(bank.keys.ADMIN, POLICIES, { f: { insurerCode: insurer.code, missingField: 'insured.phone' } });
      expect(errorCode(partner)).toBe('BAD_USER_INPUT');
    });
  });
});
