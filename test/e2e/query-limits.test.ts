import { MAX_ALIASES, MAX_DEPTH, MAX_DIRECTIVES, MAX_FIELDS, MAX_FRAGMENTS, MAX_QUERY_BYTES, MAX_REPEATED_FIELDS, MAX_TOKENS } from '../../src/graphql/query-limits';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { postGraphql } from '../support/http';

const AUTH = { authorization: `Bearer ${ADMIN_TOKEN}` };

const post = (url: string, query: string, headers: Record<string, string> = AUTH) => postGraphql(url, query, { headers });

const repeat = (text: string, times: number) => Array.from({ length: times }, () => text).join(' ');
const names = (count: number, suffix = '') => Array.from({ length: count }, (_, i) => `f${i}${suffix}`).join(' ');
/** `{ a { a { … id } } }`: the schema has no cycle that deep, and the limits do not need a valid document. */
function nested(depth: number): string {
  return `{ ${'a { '.repeat(depth - 1)}id${' }'.repeat(depth - 1)} }`;
}

describe(`query limits before validation (${TEST_DB})`, () => {
  let app: TestApp;
  let url: string;
  beforeAll(async () => {
    app = await startTestApp();
    url = await app.url();
  });
  afterAll(() => app.close());

  const typenames = `{ ${repeat('__typename', 20_000)} }`;

  it('refuses 20,000 __typename without a token with 401 before parsing it', async () => {
    const started = Date.now();
    const { status, json } = await post(url, typenames, {});
    expect(status).toBe(401);
    expect(json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses 20,000 __typename with a valid token with 400 QUERY_TOO_COMPLEX, and /health answers meanwhile', async () => {
    const started = Date.now();
    const [refused, health] = await Promise.all([post(url, typenames), fetch(`${url}/health`).then((r) => ({ status: r.status, at: Date.now() }))]);
    expect(refused.status).toBe(400);
    expect(refused.json.errors[0].extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: MAX_QUERY_BYTES });
    expect(health.status).toBe(200);
    expect(health.at - started).toBeLessThan(2_000);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it.each([
    ['query bytes', `{ me { id } } ${'#'.repeat(MAX_QUERY_BYTES)}`, MAX_QUERY_BYTES],
    ['tokens', `{ ${names(MAX_TOKENS)} }`, MAX_TOKENS],
    ['depth', nested(MAX_DEPTH + 1), MAX_DEPTH],
    ['aliases', `{ ${Array.from({ length: MAX_ALIASES + 1 }, (_, i) => `a${i}: me { id }`).join(' ')} }`, MAX_ALIASES],
    ['directives', `{ me { ${names(MAX_DIRECTIVES + 1, ' @include(if: true)')} } }`, MAX_DIRECTIVES],
    ['fields', `{ me { ${names(MAX_FIELDS)} } }`, MAX_FIELDS],
    ['repeated fields', `{ ${repeat('__typename', MAX_REPEATED_FIELDS + 2)} }`, MAX_REPEATED_FIELDS],
    ['repeated fields through inline fragments', `{ ${repeat('... on Query { me { id } }', MAX_REPEATED_FIELDS + 2)} }`, MAX_REPEATED_FIELDS],
    ['fragments', `{ me { id } } ${Array.from({ length: MAX_FRAGMENTS + 1 }, (_, i) => `fragment F${i} on Query { __typename }`).join(' ')}`, MAX_FRAGMENTS],
  ])('refuses a document above the %s limit with 400 QUERY_TOO_COMPLEX before validating it', async (_what, query, limit) => {
    const { status, json } = await post(url, query);
    expect(status).toBe(400);
    expect(json.errors).toHaveLength(1);
    expect(json.errors[0].extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit });
  });

  it('answers a syntax error with 400 BAD_USER_INPUT, over POST and GET', async () => {
    const posted = await post(url, '{ me { id }');
    expect(posted.status).toBe(400);
    expect(posted.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(posted.json.errors[0].message).toMatch(/Syntax Error.*line 1/);
    const got = await fetch(`${url}/graphql?query=${encodeURIComponent(`{ ${repeat('__typename', MAX_REPEATED_FIELDS + 2)} }`)}`, { headers: { ...AUTH, 'apollo-require-preflight': 'true' } });
    expect(got.status).toBe(400);
    expect(((await got.json()) as any).errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
  });

  it('lets documents at the limits through to Apollo', async () => {
    const atLimits = `{ ${Array.from({ length: MAX_ALIASES }, (_, i) => `a${i}: me { id }`).join(' ')} ${repeat('__typename', MAX_REPEATED_FIELDS + 1)} }`;
    const { status, json } = await post(url, atLimits);
    expect(json.errors).toBeUndefined();
    expect(status).toBe(200);
    expect(json.data[`a${MAX_ALIASES - 1}`].id).toBe(json.data.a0.id);
    const deepest = await post(url, nested(MAX_DEPTH));
    expect(deepest.json.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', detail: 'GRAPHQL_VALIDATION_FAILED' }); // Apollo's own validation saw it
  });
});
