import { GraphQLBoolean, GraphQLInputObjectType, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, graphql, type ExecutionResult } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { deny, rule, shield } from 'graphql-shield';
import type { RequestContext } from '../../src/graphql/context';
import { ForbiddenError } from '../../src/graphql/errors';
import { AgreementEntity } from '../../src/modules/agreement/agreement.entity';
import { grantVerdict, requiresGrant } from '../../src/modules/agreement/agreement.rules';
import { startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty } from '../support/factories';

const DAY = 24 * 60 * 60 * 1000;
type Party = Awaited<ReturnType<typeof createParty>>;

/**
 * No served operation takes an `insurerCode` yet, so requiresGrant is proven
 * on a probe schema with the same shield options as the served one: fields
 * that take `insurerCode` at the top level and inside `input`, as later
 * operations will.
 */
function probeSchema(rules: Record<string, unknown>): GraphQLSchema {
  const args = { insurerCode: { type: new GraphQLNonNull(GraphQLString) } };
  const input = new GraphQLInputObjectType({ name: 'ProbeInput', fields: { insurerCode: { type: new GraphQLNonNull(GraphQLString) } } });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: {
        readPolicies: { type: GraphQLBoolean, args, resolve: () => true },
        correct: { type: GraphQLBoolean, args: { input: { type: new GraphQLNonNull(input) } }, resolve: () => true },
      },
    }),
  });
  return applyMiddleware(
    schema,
    shield({ Query: rules as never }, { fallbackRule: deny, allowExternalErrors: true, fallbackError: () => new ForbiddenError(), debug: false }),
  );
}

describe(`requiresGrant (${TEST_DB})`, () => {
  let app: TestApp;
  let insurerA: Party;
  let insurerB: Party;
  let broker: Party;
  let bank: Party;
  let regulator: Party;
  let schema: GraphQLSchema;

  beforeAll(async () => {
    app = await startTestApp();
    insurerA = await createParty(app, 'INSURER', ['ADMIN', 'SERVICE']);
    insurerB = await createParty(app, 'INSURER', ['ADMIN']);
    broker = await createParty(app, 'BROKER', ['ADMIN', 'SERVICE']);
    bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SERVICE']);
    regulator = await createParty(app, 'REGULATOR', ['COMPLIANCE']);
    // The broker reads A's policies and corrects B's records; each under its own ACTIVE agreement.
    await createAgreement(app, { insurerCode: insurerA.code, partnerCode: broker.code, scopes: ['READ_POLICIES'], proposerKey: insurerA.keys.ADMIN, signerKey: broker.keys.ADMIN });
    await createAgreement(app, { insurerCode: insurerB.code, partnerCode: broker.code, scopes: ['CORRECT_RECORDS'], proposerKey: broker.keys.ADMIN, signerKey: insurerB.keys.ADMIN });
    schema = probeSchema({ readPolicies: requiresGrant('READ_POLICIES'), correct: requiresGrant('CORRECT_RECORDS') });
  });
  afterAll(() => app.close());

  async function run(token: string | null, source: string, on: GraphQLSchema = schema): Promise<ExecutionResult> {
    return graphql({ schema: on, source, contextValue: await app.server.contextFor(token) });
  }
  const verdicts = (result: ExecutionResult) => {
    const out: Record<string, unknown> = { ...(result.data ?? {}) };
    for (const error of result.errors ?? []) out[String(error.path?.[0])] = error.extensions?.code;
    return out;
  };
  const both = () => `{ a: readPolicies(insurerCode: "${insurerA.code}") b: readPolicies(insurerCode: "${insurerB.code}") }`;

  it('gives two fields of ONE request with different insurerCode their own verdicts (strict cache, not contextual)', async () => {
    expect(verdicts(await run(broker.keys.SERVICE, both()))).toEqual({ a: true, b: 'AGREEMENT_INACTIVE' });
    // Same rule, other order: the first verdict must not be reused for the second field.
    expect(verdicts(await run(broker.keys.SERVICE, `{ b: readPolicies(insurerCode: "${insurerB.code}") a: readPolicies(insurerCode: "${insurerA.code}") }`))).toEqual({
      a: true,
      b: 'AGREEMENT_INACTIVE',
    });
    // And the rule reads an insurerCode nested in `input` the same way.
    expect(verdicts(await run(broker.keys.SERVICE, `{ a: correct(input: { insurerCode: "${insurerA.code}" }) b: correct(input: { insurerCode: "${insurerB.code}" }) }`))).toEqual({
      a: 'AGREEMENT_INACTIVE',
      b: true,
    });
  });

  it('the same check cached `contextual` would leak the first verdict to the second field (why the cache is strict)', async () => {
    const leaky = rule('leakyContextualGrant', { cache: 'contextual' })(async (_p: unknown, args: { insurerCode: string }, ctx: RequestContext) => grantVerdict(ctx, args.insurerCode, 'READ_POLICIES'));
    const result = await run(broker.keys.SERVICE, both(), probeSchema({ readPolicies: leaky }));
    expect(verdicts(result)).toEqual({ a: true, b: true });
  });

  it('lets the insurer\'s own principals through on their insurer only', async () => {
    expect(verdicts(await run(insurerA.keys.SERVICE, both()))).toEqual({ a: true, b: 'FORBIDDEN' });
    expect(verdicts(await run(insurerB.keys.ADMIN, `{ a: correct(input: { insurerCode: "${insurerA.code}" }) b: correct(input: { insurerCode: "${insurerB.code}" }) }`))).toEqual({
      a: 'FORBIDDEN',
      b: true,
    });
  });

  it('refuses a partner with no agreement (AGREEMENT_INACTIVE), the regulator (FORBIDDEN) and anonymous callers (UNAUTHENTICATED)', async () => {
    expect(verdicts(await run(bank.keys.SERVICE, both()))).toEqual({ a: 'AGREEMENT_INACTIVE', b: 'AGREEMENT_INACTIVE' });
    expect(verdicts(await run(regulator.keys.COMPLIANCE, both()))).toEqual({ a: 'FORBIDDEN', b: 'FORBIDDEN' });
    expect(verdicts(await run(null, both()))).toEqual({ a: 'UNAUTHENTICATED', b: 'UNAUTHENTICATED' });
  });

  it('answers an unknown code NOT_FOUND and a code that is not an insurer BAD_USER_INPUT; codes are case-insensitive', async () => {
    expect(verdicts(await run(broker.keys.SERVICE, `{ a: readPolicies(insurerCode: "NO_SUCH_INSURER") b: readPolicies(insurerCode: "${bank.code}") c: readPolicies(insurerCode: "${insurerA.code.toLowerCase()}") }`))).toEqual({
      a: 'NOT_FOUND',
      b: 'BAD_USER_INPUT',
      c: true,
    });
  });

  it('reads organizations and grants through the request loaders: two fields cost one query each, not one per field', async () => {
    const runner = app.db.createQueryRunner();
    const proto = Object.getPrototypeOf(runner) as { query: (...args: unknown[]) => Promise<unknown> };
    await runner.release();
    const ctx = await app.server.contextFor(broker.keys.SERVICE);
    const spy = jest.spyOn(proto, 'query');
    try {
      const result = await graphql({ schema, source: `{ a: readPolicies(insurerCode: "${insurerA.code}") b: readPolicies(insurerCode: "${insurerB.code}") c: correct(input: { insurerCode: "${insurerB.code}" }) }`, contextValue: ctx });
      expect(verdicts(result)).toEqual({ a: true, b: 'AGREEMENT_INACTIVE', c: true });
      const sql = spy.mock.calls.map((call) => String(call[0]));
      expect(sql.filter((q) => /organization/i.test(q))).toHaveLength(1);
      expect(sql.filter((q) => /agreement/i.test(q))).toHaveLength(1);
      expect(sql).toHaveLength(2);
    } finally {
      spy.mockRestore();
    }
  });

  it('grants nothing through a PROPOSED, EXPIRED or TERMINATED agreement; termination counts from the next request', async () => {
    const partner = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SERVICE']);
    const probe = `{ a: readPolicies(insurerCode: "${insurerA.code}") }`;
    const proposed = await createAgreement(app, { insurerCode: insurerA.code, partnerCode: partner.code, scopes: ['READ_POLICIES'], proposerKey: insurerA.keys.ADMIN });
    expect(proposed.status).toBe('PROPOSED');
    expect(verdicts(await run(partner.keys.SERVICE, probe))).toEqual({ a: 'AGREEMENT_INACTIVE' });

    const notYet = await createAgreement(app, {
      insurerCode: insurerA.code,
      partnerCode: partner.code,
      scopes: ['READ_POLICIES'],
      proposerKey: insurerA.keys.ADMIN,
      signerKey: partner.keys.ADMIN,
      validFrom: new Date(Date.now() + DAY),
      validTo: new Date(Date.now() + 2 * DAY),
    });
    expect(notYet.status).toBe('PROPOSED');
    expect(verdicts(await run(partner.keys.SERVICE, probe))).toEqual({ a: 'AGREEMENT_INACTIVE' });

    const expired = await createAgreement(app, { insurerCode: insurerA.code, partnerCode: partner.code, scopes: ['READ_POLICIES'], proposerKey: insurerA.keys.ADMIN, signerKey: partner.keys.ADMIN });
    expect(verdicts(await run(partner.keys.SERVICE, probe))).toEqual({ a: true });
    await app.db.getRepository(AgreementEntity).update({ id: expired.id }, { validFrom: new Date(Date.now() - 10 * DAY), validTo: new Date(Date.now() - DAY) });
    expect(verdicts(await run(partner.keys.SERVICE, probe))).toEqual({ a: 'AGREEMENT_INACTIVE' });

    const active = await createAgreement(app, { insurerCode: insurerA.code, partnerCode: partner.code, scopes: ['READ_POLICIES'], proposerKey: partner.keys.ADMIN, signerKey: insurerA.keys.ADMIN });
    expect(active.status).toBe('ACTIVE');
    expect(verdicts(await run(partner.keys.SERVICE, probe))).toEqual({ a: true });
    await app.ok(partner.keys.ADMIN, 'mutation($id: ID!) { terminateAgreement(id: $id, reason: "ended") { status } }', { id: active.id });
    expect(verdicts(await run(partner.keys.SERVICE, probe))).toEqual({ a: 'AGREEMENT_INACTIVE' });
  });

  it('is one rule per scope (shield refuses two rules of one name)', () => {
    expect(requiresGrant('READ_POLICIES')).toBe(requiresGrant('READ_POLICIES'));
    expect(requiresGrant('READ_POLICIES')).not.toBe(requiresGrant('SUBMIT_SALES'));
  });
});
