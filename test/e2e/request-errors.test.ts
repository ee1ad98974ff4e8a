import { MAX_COST } from '../../src/graphql/query-limits';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { postGraphql } from '../support/http';

const post = (url: string, query: string, variables?: Record<string, unknown>) => postGraphql(url, query, { variables, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });

const PAGE = 'query($n: Int!) { policies(first: $n) { pageInfo { hasNextPage } } }';
const SUMMARY = 'query($g: SummaryDimension!, $from: Date) { completenessSummary(insurerCode: "EXCHANGE", groupBy: $g, from: $from) { key } }';
const COSTLY = `{ ${Array.from({ length: 10 }, (_, i) => `p${i}: policies(first: 500) { edges { node { ...P } } }`).join(' ')} }
  fragment P on Policy { policyNo status policyholder { name gender birthDate idType idNumber phone address } insured { name gender birthDate idType idNumber phone } }`;

describe(`HTTP status of the caller's mistakes (${TEST_DB})`, () => {
  let app: TestApp;
  let url: string;
  beforeAll(async () => {
    app = await startTestApp();
    url = await app.url();
  });
  afterAll(() => app.close());

  it.each([
    ['a variable of the wrong type', PAGE, { n: 'ten' }],
    ['a missing required variable', PAGE, {}],
    ['a null required variable', PAGE, { n: null }],
    ['an unknown enum value', SUMMARY, { g: 'NOPE' }],
    ['a bad Date', SUMMARY, { g: 'CHANNEL', from: '2026-13-45' }],
  ])('%s answers 400 BAD_USER_INPUT', async (_what, query, variables) => {
    const { status, json } = await post(url, query, variables);
    expect(status).toBe(400);
    expect(json.data).toBeUndefined();
    expect(json.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT' });
  });

  it(`a cost above ${MAX_COST} answers 400 QUERY_TOO_COMPLEX, with no http member in extensions`, async () => {
    const { status, json } = await post(url, COSTLY);
    expect(status).toBe(400);
    expect(json.errors[0].message).toMatch(/cost/);
    expect(json.errors[0].extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: MAX_COST });
  });

  it('a page size above 500 answers 400 BAD_USER_INPUT before any resolver, literal or variable', async () => {
    for (const [query, variables] of [['{ me { id } policies(first: 501) { pageInfo { hasNextPage } } }', undefined], [PAGE, { n: 501 }]] as const) {
      const { status, json } = await post(url, query, variables);
      expect(status).toBe(400);
      expect(json.data).toBeUndefined(); // `me` did not run either
      expect(json.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'first', limit: 500 });
    }
  });

  it('a resolver refusal keeps 200 beside the data that resolved', async () => {
    const { status, json } = await post(url, '{ me { id } remediationCampaign(id: "nope") { id } }');
    expect(status).toBe(200);
    expect(json.data.me.id).toEqual(expect.any(String));
    expect(json.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('the same refusals keep their codes through executeOperation', async () => {
    expect((await app.gql(ADMIN_TOKEN, PAGE, { n: 'ten' })).errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT' });
    expect((await app.gql(ADMIN_TOKEN, COSTLY)).errors?.[0]?.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: MAX_COST });
    expect((await app.gql(null, '{ me { id } }')).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
