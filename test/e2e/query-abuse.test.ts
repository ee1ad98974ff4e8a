import http from 'node:http';
import { defaultFieldResolver, isObjectType, type GraphQLSchema } from 'graphql';
import { MAX_ALIASES, MAX_COST, MAX_DEPTH, MAX_DIRECTIVES, MAX_FIELDS, MAX_FRAGMENTS, MAX_QUERY_BYTES, MAX_REPEATED_FIELDS, MAX_TOKENS } from '../../src/graphql/query-limits';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';

/*
 * Issue 11, suite 2: every kind of abusive request is refused over real HTTP
 * with a 4xx and a contract code BEFORE any resolver runs. The proof is a spy
 * wrapped around the resolver of every field of every object type of the
 * schema Apollo actually executes (app.server.schema, shield applied): it
 * counts each call, and a positive control shows it counts a valid query.
 * The server runs as in production (no introspection, no suggestions) with a
 * small body cap so that the cap is cheap to cross.
 */

const MAX_BODY = 48 * 1024;
const AUTH = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** Wraps every field resolver of `schema` in place (graphql-js reads `field.resolve` at each execution) and returns the call counter. */
function spyOnEveryResolver(schema: GraphQLSchema): { calls: () => number; fields: number; reset(): void } {
  let calls = 0;
  let fields = 0;
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const original = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, context, info) => {
        calls += 1;
        return original(source, args, context, info);
      };
      fields += 1;
    }
  }
  return { calls: () => calls, fields, reset: () => void (calls = 0) };
}

const repeat = (text: string, times: number) => Array.from({ length: times }, () => text).join(' ');
const names = (count: number, suffix = '') => Array.from({ length: count }, (_, i) => `f${i}${suffix}`).join(' ');
const aliases = (count: number) => Array.from({ length: count }, (_, i) => `a${i}: me { id }`).join(' ');
const POLICY_FIELDS = 'policyNo status policyholder { name gender birthDate idType idNumber phone address } insured { name gender birthDate idType idNumber phone }';
/** Ten pages of `first: $n` policies: within every document limit, over MAX_COST only when $n is large. */
const PAGES_OF_N = `query($n: Int) { ${Array.from({ length: 10 }, (_, i) => `p${i}: policies(first: $n) { edges { node { ${POLICY_FIELDS} } } }`).join(' ')} }`;
/** The same ten pages at 500, each behind @include($all): cheap when $all is false. */
const PAGES_IF = `query($all: Boolean!) { me { id } ${Array.from({ length: 10 }, (_, i) => `p${i}: policies(first: 500) @include(if: $all) { edges { node { ${POLICY_FIELDS} } } }`).join(' ')} }`;

interface Abuse {
  what: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** A JSON value (sent as JSON), or raw text. */
  body?: unknown;
  raw?: string;
  search?: string;
  status: number;
  code: string;
  extensions?: Record<string, unknown>;
}

const json = (query: string, variables?: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ query, variables, ...extra });

const ABUSES: Abuse[] = [
  { what: 'size: a query above MAX_QUERY_BYTES', body: json(`{ me { id } } ${'#'.repeat(MAX_QUERY_BYTES)}`), status: 400, code: 'QUERY_TOO_COMPLEX', extensions: { limit: MAX_QUERY_BYTES } },
  { what: 'tokens: above MAX_TOKENS', body: json(`{ me { ${names(MAX_TOKENS)} } }`), status: 400, code: 'QUERY_TOO_COMPLEX', extensions: { limit: MAX_TOKENS } },
  { what: 'depth: above MAX_DEPTH', body: json(`{ ${'me { '.repeat(MAX_DEPTH)}id${' }'.repeat(MAX_DEPTH)} }`), status: 400, code: 'QUERY_TOO_COMPLEX', extensions: { limit: MAX_DEPTH } },
  {
    what: 'depth: above MAX_DEPTH through nested fragments',
    body: json(`{ ...F0 } ${Array.from({ length: MAX_DEPTH + 1 }, (_, i) => `fragment F${i} on Query { me { ${i < MAX_DEPTH ? `...F${i + 1}` : 'id'} } }`).join(' ')}`),
    status: 400,
    code: 'QUERY_TOO_COMPLEX',
    extensions: { limit: MAX_DEPTH },
  },
  { what: 'aliases: above MAX_ALIASES', body: json(`{ ${aliases(MAX_ALIASES + 1)} }`), status: 400, code: 'QUERY_TOO_COMPLEX', extensions: { limit: MAX_ALIASES } },
  { what: 'repeated fields: above MAX_REPEATED_FIELDS', body: json(`{ ${repeat('me { id }', MAX_REPEATED_FIELDS + 2)} }`), status: 400, code: 'QUERY_TOO_COMPLEX', extensions: { limit: MAX_REPEATED_FIELDS } },
  { what: 'repeated fields through inline fragments', body: json(`{ ${repeat('... on Query { me { id } }', MAX_REPEATED_FIELDS + 2)} }`), status: 400, code: 'QUERY_TOO_COMPLEX', extensions: { limit: MAX_REPEATED_FIELDS } },
  { what: 'fields: above MAX_FIELDS', body: json(`{ me { ${names(MAX_FIELDS)} } }`), status: 400, code: 'QUERY_TOO_COMPLEX', extensions: { limit: MAX_FIELDS } },
  { what: 'fragments: above MAX_FRAGMENTS', body: json(`{ me { id } } ${Array.from({ length: MAX_FRAGMENTS + 1 }, (_, i) => `fragment F${i} on Query { __typename }`).join(' ')}`), status: 400, code: 'QUERY_TOO_COMPLEX', extensions: { limit: MAX_FRAGMENTS } },
  { what: 'directives: above MAX_DIRECTIVES', body: json(`{ me { ${repeat('id @include(if: true)', MAX_DIRECTIVES + 1)} } }`), status: 400, code: 'QUERY_TOO_COMPLEX', extensions: { limit: MAX_DIRECTIVES } },
  { what: 'cost: literal page sizes above MAX_COST', body: json(PAGES_OF_N.replace('query($n: Int)', 'query').replace(/\$n/g, '500')), status: 400, code: 'QUERY_TOO_COMPLEX', extensions: { limit: MAX_COST } },
  { what: 'cost with variables: first: $n = 500', body: json(PAGES_OF_N, { n: 500 }), status: 400, code: 'QUERY_TOO_COMPLEX', extensions: { limit: MAX_COST } },
  { what: 'cost with variables: @include(if: $all) = true', body: json(PAGES_IF, { all: true }), status: 400, code: 'QUERY_TOO_COMPLEX', extensions: { limit: MAX_COST } },
  { what: 'first over the maximum (literal)', body: json('{ me { id } policies(first: 501) { totalCount } }'), status: 400, code: 'BAD_USER_INPUT', extensions: { field: 'first', limit: 500 } },
  { what: 'first over the maximum (variable)', body: json('query($n: Int) { me { id } policies(first: $n) { totalCount } }', { n: 501 }), status: 400, code: 'BAD_USER_INPUT', extensions: { field: 'first', limit: 500 } },
  { what: 'first negative (variable)', body: json('query($n: Int) { me { id } policies(first: $n) { totalCount } }', { n: -1 }), status: 400, code: 'BAD_USER_INPUT', extensions: { field: 'first', limit: 500 } },
  { what: 'first over the maximum on the transfer log', body: json('{ me { id } transferLog(insurerCode: "EXCHANGE", first: 100000) { pageInfo { hasNextPage } } }'), status: 400, code: 'BAD_USER_INPUT', extensions: { field: 'first', limit: 500 } },
  { what: 'first beyond Int (variable)', body: json('query($n: Int) { me { id } policies(first: $n) { totalCount } }', { n: 2 ** 40 }), status: 400, code: 'BAD_USER_INPUT' },
  { what: 'batched HTTP array', body: [json('{ me { id } }'), json('{ me { id } }')], status: 400, code: 'BAD_USER_INPUT' },
  { what: 'batched HTTP array of one', body: [json('{ me { id } }')], status: 400, code: 'BAD_USER_INPUT' },
  { what: 'CSRF: GET without a preflight header', method: 'GET', search: `?query=${encodeURIComponent('{ me { id } }')}`, status: 400, code: 'BAD_USER_INPUT' },
  { what: 'CSRF: POST text/plain', headers: { 'content-type': 'text/plain' }, raw: JSON.stringify(json('{ me { id } }')), status: 400, code: 'BAD_USER_INPUT' },
  { what: 'CSRF: POST form-urlencoded', headers: { 'content-type': 'application/x-www-form-urlencoded' }, raw: `query=${encodeURIComponent('{ me { id } }')}`, status: 400, code: 'BAD_USER_INPUT' },
  { what: 'a mutation over GET', method: 'GET', headers: { 'apollo-require-preflight': 'true' }, search: `?query=${encodeURIComponent('mutation { signAttestation { id } }')}`, status: 405, code: 'BAD_USER_INPUT' },
  { what: 'introspection in production', body: json('{ me { id } __schema { types { name } } }'), status: 400, code: 'BAD_USER_INPUT' },
  { what: 'several operations, no operationName', body: json('query A { me { id } } query B { me { id } }'), status: 400, code: 'BAD_USER_INPUT' },
  { what: 'an unknown operationName', body: json('query A { me { id } }', undefined, { operationName: 'B' }), status: 400, code: 'BAD_USER_INPUT' },
  { what: 'a variable of the wrong type beside a valid field', body: json('query($n: Int) { me { id } policies(first: $n) { totalCount } }', { n: 'ten' }), status: 400, code: 'BAD_USER_INPUT' },
  { what: 'body cap by content-length', body: json('{ me { id } }', undefined, { padding: 'x'.repeat(MAX_BODY) }), status: 413, code: 'BAD_USER_INPUT', extensions: { limit: MAX_BODY } },
  { what: 'abuse without a key is 401 first', headers: { authorization: '' }, body: json(`{ ${repeat('me { id }', 3_000)} }`), status: 401, code: 'UNAUTHENTICATED' },
];

/** Misspellings that a development server answers with "Did you mean …?". */
const SUGGESTIBLE: Array<[string, string, Record<string, unknown>]> = [
  ['a misspelled field', '{ me { nmae } }', {}],
  ['a misspelled root field', '{ polices { totalCount } }', {}],
  ['a misspelled argument', '{ me { id } policies(frist: 1) { totalCount } }', {}],
  ['a misspelled type', 'query($f: PolicyFiltre) { me { id } policies(filter: $f) { totalCount } }', {}],
  ['a misspelled enum literal', '{ me { id } policies(filter: { completeness: COMPLETED }) { totalCount } }', {}],
  ['a misspelled enum variable', 'query($g: SummaryDimension!) { me { id } completenessSummary(insurerCode: "EXCHANGE", groupBy: $g) { key } }', { g: 'CHANEL' }],
  ['a misspelled input field', 'query($f: PolicyFilter) { me { id } policies(filter: $f) { totalCount } }', { f: { completenes: 'COMPLETE' } }],
];

async function send(url: string, abuse: Abuse): Promise<{ status: number; text: string; body: any }> {
  const headers: Record<string, string> = { ...AUTH, ...(abuse.raw === undefined && abuse.method !== 'GET' ? { 'content-type': 'application/json' } : {}), ...abuse.headers };
  if (headers.authorization === '') delete headers.authorization;
  const response = await fetch(`${url}/graphql${abuse.search ?? ''}`, {
    method: abuse.method ?? 'POST',
    headers,
    body: abuse.method === 'GET' ? undefined : (abuse.raw ?? JSON.stringify(abuse.body)),
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) };
}

/** A chunked POST (no content-length) of `total` bytes: the cap is found by counting. */
function chunked(url: string, total: number): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${url}/graphql`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    request.on('error', reject);
    request.write(`{"query":"{ me { id } }","pad":"`);
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        sent += 8 * 1024;
        if (!request.write('x'.repeat(8 * 1024))) return void request.once('drain', pump);
      }
      request.end('"}');
    };
    request.on('close', () => undefined);
    pump();
  });
}

describe(`query abuse: refused with a 4xx and a contract code before any resolver runs (${TEST_DB})`, () => {
  let app: TestApp;
  let url: string;
  let spy: ReturnType<typeof spyOnEveryResolver>;
  beforeAll(async () => {
    app = await startTestApp({ NODE_ENV: 'production', LOG_LEVEL: 'silent', KEXIN_MAX_BODY_BYTES: String(MAX_BODY) });
    spy = spyOnEveryResolver(app.server.schema);
    url = await app.url();
  });
  afterAll(() => app.close());

  it('positive control: the spy counts the resolvers of a valid query, over HTTP and in process, and of a resolver-level refusal', async () => {
    expect(spy.fields).toBeGreaterThan(100);
    spy.reset();
    const ok = await send(url, { what: 'valid', body: json('{ me { id organization { code } } }'), status: 200, code: '' });
    expect(ok.status).toBe(200);
    expect(ok.body.data.me.organization.code).toBe('EXCHANGE');
    expect(spy.calls()).toBe(4); // me, id, organization, code
    spy.reset();
    await app.ok(ADMIN_TOKEN, '{ organizations { code } }');
    expect(spy.calls()).toBeGreaterThanOrEqual(2);
    spy.reset();
    const refused = await send(url, { what: 'refused by a resolver', body: json('{ remediationCampaign(id: "nope") { id } }'), status: 200, code: '' });
    expect(refused.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(spy.calls()).toBe(1);
    // the same documents just inside their limits do run
    spy.reset();
    const inside = await send(url, { what: 'at the limits', body: json(PAGES_OF_N, { n: 10 }), status: 200, code: '' });
    expect(inside.status).toBe(200);
    expect(spy.calls()).toBeGreaterThanOrEqual(10);
    spy.reset();
    expect((await send(url, { what: '', body: json(PAGES_IF, { all: false }), status: 200, code: '' })).body.data.me.id).toEqual(expect.any(String));
    expect(spy.calls()).toBe(2);
  });

  it.each(ABUSES.map((a) => [a.what, a] as const))('%s', async (_what, abuse) => {
    spy.reset();
    const { status, text, body } = await send(url, abuse);
    expect({ status, code: body.errors?.[0]?.extensions?.code }).toEqual({ status: abuse.status, code: abuse.code });
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
    expect(body.data ?? undefined).toBeUndefined();
    if (abuse.extensions) expect(body.errors[0].extensions).toEqual({ code: abuse.code, ...abuse.extensions });
    expect(text).not.toMatch(/Did you mean|stacktrace|node_modules|\.ts:\d+|\bat .*:\d+:\d+/);
    expect(spy.calls()).toBe(0);
  });

  it('regression: a page size admitted once does not admit a larger one of the same document (cost cache keyed on first: $n)', async () => {
    const paged = 'query($n: Int) { me { id } policies(first: $n) { totalCount } }';
    for (const [variables, status, code] of [
      [{ n: 3 }, 200, undefined],
      [{ n: 501 }, 400, 'BAD_USER_INPUT'],
      [{ n: 4 }, 200, undefined],
      [{ n: -5 }, 400, 'BAD_USER_INPUT'],
    ] as const) {
      spy.reset();
      const { status: got, body } = await send(url, { what: '', body: json(paged, variables), status, code: '' });
      expect({ n: variables.n, status: got, code: body.errors?.[0]?.extensions?.code }).toEqual({ n: variables.n, status, code });
      if (status === 400) expect(spy.calls()).toBe(0);
    }
    for (const [n, status] of [[5, 200], [500, 400], [6, 200], [500, 400]] as const) {
      spy.reset();
      const { status: got, body } = await send(url, { what: '', body: json(PAGES_OF_N, { n }), status, code: '' });
      expect({ n, status: got, code: body.errors?.[0]?.extensions?.code }).toEqual({ n, status, code: status === 400 ? 'QUERY_TOO_COMPLEX' : undefined });
      if (status === 400) expect(spy.calls()).toBe(0);
    }
  });

  it(`body cap by its bytes (chunked, no content-length): 413 after ${MAX_BODY} bytes, no resolver`, async () => {
    spy.reset();
    const { status, body } = await chunked(url, 4 * MAX_BODY);
    expect(status).toBe(413);
    expect(body.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', limit: MAX_BODY });
    expect(spy.calls()).toBe(0);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it.each(SUGGESTIBLE)('no suggestions in production: %s is 400 BAD_USER_INPUT without "Did you mean"', async (_what, query, variables) => {
    spy.reset();
    const { status, text, body } = await send(url, { what: '', body: json(query, variables), status: 400, code: '' });
    expect(status).toBe(400);
    expect(body.errors.map((e: any) => e.extensions.code)).toEqual(body.errors.map(() => 'BAD_USER_INPUT'));
    expect(text).not.toMatch(/Did you mean/i);
    expect(body.data ?? undefined).toBeUndefined();
    expect(spy.calls()).toBe(0);
  });

  it('after the whole table the server still answers', async () => {
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await send(url, { what: '', body: json('{ me { id } }'), status: 200, code: '' })).status).toBe(200);
  });
});
