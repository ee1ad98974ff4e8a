import { MAX_DEPTH } from '../../src/graphql/query-limits';
import { MAX_FIRST } from '../../src/graphql/pagination';
import { ADMIN_TOKEN, errorCode, startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { postGraphql } from '../support/http';

/**
 * The document checks remember what they admitted (issue 10: they ran on
 * every request), keyed so that a remembered verdict never stands in for
 * one the request's own values could change, and never for a refusal.
 */
describe(`remembered document checks (${TEST_DB})`, () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  const PAGE = 'query($first: Int, $after: String) { policies(first: $first, after: $after) { edges { node { policyNo } } } }';

  it('a page size is measured per value: an admitted document still refuses a larger page', async () => {
    expect(errorCode(await app.gql(ADMIN_TOKEN, PAGE, { first: 10 }))).toBeUndefined();
    const refused = await app.gql(ADMIN_TOKEN, PAGE, { first: MAX_FIRST + 1 });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    expect(errorCode(await app.gql(ADMIN_TOKEN, PAGE, { first: 10 }))).toBeUndefined();
  });

  it('variables that do not coerce admit nothing for the values they came with', async () => {
    const bad = await app.gql(ADMIN_TOKEN, PAGE, { first: MAX_FIRST + 2, after: 7 });
    expect(errorCode(bad)).toBe('BAD_USER_INPUT');
    const refused = await app.gql(ADMIN_TOKEN, PAGE, { first: MAX_FIRST + 2 });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first', limit: MAX_FIRST });
  });

  it('a document over a limit is refused every time it is sent', async () => {
    const url = await app.url();
    const deep = `{ ${'a { '.repeat(MAX_DEPTH)}id${' }'.repeat(MAX_DEPTH)} }`;
    for (let i = 0; i < 2; i += 1) {
      const { status, json } = await postGraphql(url, deep, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(status).toBe(400);
      expect(json.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
    }
  });
});
