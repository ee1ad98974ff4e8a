import { newId } from '../../src/db/ids';
import { AGREEMENT_SCOPES, AgreementEntity, type AgreementScope } from '../../src/modules/agreement/agreement.entity';
import { agreementStatus, formatScopes } from '../../src/modules/agreement/agreement.status';
import { grantKey, loadGrants } from '../../src/modules/agreement/grant.queries';
import { startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createParty } from '../support/factories';

const DAY = 24 * 60 * 60 * 1000;
type Party = Awaited<ReturnType<typeof createParty>>;

describe(`grants (${TEST_DB})`, () => {
  let app: TestApp;
  let insurer: Party;
  let insurer2: Party;
  let bank: Party;
  let broker: Party;
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const at = (days: number) => new Date(now.getTime() + days * DAY);

  beforeAll(async () => {
    app = await startTestApp();
    insurer = await createParty(app, 'INSURER', ['ADMIN']);
    insurer2 = await createParty(app, 'INSURER', ['ADMIN']);
    bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN']);
    broker = await createParty(app, 'BROKER', ['ADMIN', 'SALES']);
  });
  afterAll(() => app.close());

  /** A row in any state, written directly (the lifecycle itself is tested through the API in e2e). */
  async function insert(insurerId: string, partnerId: string, scopes: AgreementScope[], over: Partial<AgreementEntity> = {}): Promise<AgreementEntity> {
    const row = app.db.getRepository(AgreementEntity).create({
      id: newId(),
      insurerId,
      partnerId,
      scopes: formatScopes(scopes),
      validFrom: at(-1),
      validTo: at(30),
      proposedByOrganizationId: insurerId,
      proposedByPrincipalId: newId(),
      insurerSignedAt: at(-2),
      insurerSignedBy: newId(),
      partnerSignedAt: at(-2),
      partnerSignedBy: newId(),
      terminatedAt: null,
      terminatedByPrincipalId: null,
      terminatedByOrganizationId: null,
      terminationReason: null,
      createdAt: at(-2),
      ...over,
    });
    await app.db.getRepository(AgreementEntity).insert(row);
    return row;
  }

  async function grantOf(partnerId: string, insurerId: string, when: Date = now) {
    const [grant] = await loadGrants(app.db.manager, [grantKey(partnerId, insurerId)], when);
    return { scopes: [...grant!.scopes].sort(), agreementIds: grant!.agreementIds };
  }

  /** Counts the SQL statements `work` sends, whatever the driver (a spy on its QueryRunner's query). */
  async function countQueries<T>(work: () => Promise<T>): Promise<{ result: T; queries: string[] }> {
    const runner = app.db.createQueryRunner();
    const proto = Object.getPrototypeOf(runner) as { query: (...args: unknown[]) => Promise<unknown> };
    await runner.release();
    const spy = jest.spyOn(proto, 'query');
    try {
      const result = await work();
      return { result, queries: spy.mock.calls.map((call) => String(call[0])) };
    } finally {
      spy.mockRestore();
    }
  }

  it('only an ACTIVE agreement grants: PROPOSED (one side, or not yet in force), EXPIRED and TERMINATED grant nothing', async () => {
    const partner = (await createParty(app, 'BROKER')).id;
    const ctx = { ...(await app.server.contextFor(insurer.keys.ADMIN)), now };
    const states: Array<[string, Partial<AgreementEntity>]> = [
      ['PROPOSED, partner has not signed', { partnerSignedAt: null, partnerSignedBy: null }],
      ['PROPOSED, insurer has not signed', { insurerSignedAt: null, insurerSignedBy: null }],
      ['PROPOSED, both signed, window opens tomorrow', { validFrom: at(1), validTo: at(30) }],
      ['EXPIRED', { validFrom: at(-30), validTo: at(-1) }],
      ['TERMINATED', { terminatedAt: at(-1), terminatedByOrganizationId: insurer.id, terminatedByPrincipalId: newId(), terminationReason: 'ended' }],
    ];
    for (const [name, over] of states) {
      const row = await insert(insurer.id, partner, ['READ_POLICIES'], over);
      expect([name, agreementStatus(row, now)]).toEqual([name, name.split(',')[0]]);
      expect([name, await grantOf(partner, insurer.id)]).toEqual([name, { scopes: [], agreementIds: [] }]);
      expect([name, await app.services.grants.insurersGranting(ctx, partner, 'READ_POLICIES')]).toEqual([name, []]);
    }
    const active = await insert(insurer.id, partner, ['READ_POLICIES', 'VIEW_FULL_PII']);
    expect(agreementStatus(active, now)).toBe('ACTIVE');
    expect(await grantOf(partner, insurer.id)).toEqual({ scopes: ['READ_POLICIES', 'VIEW_FULL_PII'], agreementIds: [active.id] });
  });

  it('the SQL window matches agreementStatus at its edges: validFrom <= now < validTo', async () => {
    const partner = (await createParty(app, 'BANK_CHANNEL')).id;
    const row = await insert(insurer.id, partner, ['SUBMIT_SALES'], { validFrom: at(1), validTo: at(2) });
    for (const when of [new Date(at(1).getTime() - 1), at(1), new Date(at(2).getTime() - 1), at(2)]) {
      const sql = (await grantOf(partner, insurer.id, when)).scopes.length > 0;
      expect([when.toISOString(), sql]).toEqual([when.toISOString(), agreementStatus(row, when) === 'ACTIVE']);
    }
    expect((await grantOf(partner, insurer.id, at(1))).scopes).toEqual(['SUBMIT_SALES']);
    expect((await grantOf(partner, insurer.id, at(2))).scopes).toEqual([]);
  });

  it('overlapping ACTIVE agreements of one pair give the union, naming every agreement; the others add nothing', async () => {
    const partner = (await createParty(app, 'BROKER')).id;
    const a = await insert(insurer.id, partner, ['SUBMIT_SALES', 'READ_POLICIES']);
    const b = await insert(insurer.id, partner, ['READ_POLICIES', 'CORRECT_RECORDS'], { validFrom: at(-10), validTo: at(5) });
    await insert(insurer.id, partner, ['VIEW_FULL_PII'], { partnerSignedAt: null });
    await insert(insurer.id, partner, ['READ_COMPLETENESS'], { terminatedAt: at(-1) });
    await insert(insurer2.id, partner, ['VIEW_FULL_PII']);
    expect(await grantOf(partner, insurer.id)).toEqual({ scopes: ['CORRECT_RECORDS', 'READ_POLICIES', 'SUBMIT_SALES'], agreementIds: [a.id, b.id].sort() });
    // After b's window ends, only a remains.
    expect(await grantOf(partner, insurer.id, at(6))).toEqual({ scopes: ['READ_POLICIES', 'SUBMIT_SALES'], agreementIds: [a.id] });
  });

  it('grants run one way: the insurer holds every scope on itself, nothing on its partner, and a partner nothing on another partner', async () => {
    await insert(insurer.id, bank.id, ['READ_POLICIES']);
    expect(await grantOf(insurer.id, insurer.id)).toEqual({ scopes: [...AGREEMENT_SCOPES].sort(), agreementIds: [] });
    expect(await grantOf(insurer.id, bank.id)).toEqual({ scopes: [], agreementIds: [] });
    expect(await grantOf(broker.id, bank.id)).toEqual({ scopes: [], agreementIds: [] });
    expect(await grantOf(insurer2.id, insurer.id)).toEqual({ scopes: [], agreementIds: [] });
  });

  it('GrantService answers for the caller\'s organization, and require() throws AGREEMENT_INACTIVE when the scope is not held', async () => {
    const seller = await createParty(app, 'BROKER', ['SALES']);
    const a = await insert(insurer.id, seller.id, ['SUBMIT_SALES']);
    const ctx = await app.server.contextFor(seller.keys.SALES);
    expect(await app.services.grants.has(ctx, insurer.id, 'SUBMIT_SALES')).toBe(true);
    expect(await app.services.grants.has(ctx, insurer.id, 'VIEW_FULL_PII')).toBe(false);
    expect((await app.services.grants.require(ctx, insurer.id, 'SUBMIT_SALES')).agreementIds).toContain(a.id);
    await expect(app.services.grants.require(ctx, insurer.id, 'VIEW_FULL_PII')).rejects.toMatchObject({ extensions: { code: 'AGREEMENT_INACTIVE' } });
    const own = await app.server.contextFor(insurer.keys.ADMIN);
    expect(await app.services.grants.has(own, insurer.id, 'VIEW_FULL_PII')).toBe(true);
    expect(await app.services.grants.has(own, insurer2.id, 'READ_POLICIES')).toBe(false);
  });

  it('insurersGranting lists, in one query, the insurers on which a partner holds a scope, with the agreements', async () => {
    const partner = (await createParty(app, 'BANK_CHANNEL')).id;
    const a1 = await insert(insurer.id, partner, ['READ_POLICIES']);
    const a2 = await insert(insurer.id, partner, ['READ_POLICIES', 'SUBMIT_SALES']);
    const b1 = await insert(insurer2.id, partner, ['SUBMIT_SALES']);
    await insert(insurer2.id, partner, ['READ_POLICIES'], { validFrom: at(-30), validTo: at(-1) });
    const ctx = await app.server.contextFor(broker.keys.SALES);
    const { result, queries } = await countQueries(() => app.services.grants.insurersGranting(ctx, partner, 'READ_POLICIES'));
    expect(queries).toHaveLength(1);
    expect(result).toEqual([{ insurerId: insurer.id, agreementIds: [a1.id, a2.id].sort() }]);
    const sales = await app.services.grants.insurersGranting(ctx, partner, 'SUBMIT_SALES');
    expect(sales.sort((x, y) => x.insurerId.localeCompare(y.insurerId))).toEqual(
      [
        { insurerId: insurer.id, agreementIds: [a2.id] },
        { insurerId: insurer2.id, agreementIds: [b1.id] },
      ].sort((x, y) => x.insurerId.localeCompare(y.insurerId)),
    );
  });

  it('the per-request loader answers many lookups of one request with ONE query, and caches them for the request', async () => {
    const partners = [(await createParty(app, 'BROKER')).id, (await createParty(app, 'BANK_CHANNEL')).id, broker.id];
    await insert(insurer.id, partners[0]!, ['READ_POLICIES']);
    await insert(insurer2.id, partners[1]!, ['SUBMIT_SALES']);
    const ctx = await app.server.contextFor(broker.keys.SALES);
    const keys = partners.flatMap((p) => [insurer.id, insurer2.id, bank.id].map((i) => grantKey(p, i)));
    const { result, queries } = await countQueries(() =>
      Promise.all([
        Promise.all([...keys, ...keys].map((k) => ctx.loaders.grants.load(k))),
        Promise.all([
          app.services.grants.has(ctx, insurer.id, 'SUBMIT_SALES'),
          app.services.grants.has(ctx, insurer2.id, 'READ_POLICIES'),
          app.services.grants.has(ctx, broker.id, 'VIEW_FULL_PII'),
        ]),
      ]),
    );
    expect(queries.filter((q) => /agreement/i.test(q))).toHaveLength(1);
    expect(queries).toHaveLength(1);
    const [grants, has] = result;
    expect([...grants[0]!.scopes]).toEqual(['READ_POLICIES']);
    expect([...grants[keys.indexOf(grantKey(partners[1]!, insurer2.id))]!.scopes]).toEqual(['SUBMIT_SALES']);
    expect(has).toEqual([false, false, true]); // the broker holds nothing on either insurer, everything on itself

    const again = await countQueries(() => Promise.all(keys.map((k) => ctx.loaders.grants.load(k))));
    expect(again.queries).toHaveLength(0);
    const own = await countQueries(() => app.services.grants.of(ctx, insurer.id, insurer.id));
    expect(own.queries).toHaveLength(0);
  });
});
