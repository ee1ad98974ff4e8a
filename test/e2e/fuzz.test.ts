import http from 'node:http';
import fc from 'fast-check';
import pino from 'pino';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import { makeResidentId } from '../../src/domain/resident-id';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../support/app';
import { TEST_DB } from '../support/db';
import { createAgreement, createParty } from '../support/factories';
import { rootFields } from '../support/operations';
import { seedPolicies, type PersonSeed, type PolicySeed } from '../support/seed';
import { soakCount } from '../support/soak';

/*
 * Issue 11, suite 3: bad input, generated. A seeded, schema-aware fuzz of
 * the served schema (every root field, selections and variables generated
 * from its types, valid-ish and hostile values) sent as every role of every
 * organization kind and anonymously, most in process (executeOperation,
 * whose HTTP status Apollo reports too) and a share over real HTTP; then
 * malformed HTTP bodies. Every answer: no 5xx, no INTERNAL_SERVER_ERROR, no
 * stack trace / SQL / file path, every error code from the contract. Canary
 * people seeded into two insurers' books: their names, ID numbers and
 * phones (whole, or any unmasked fragment of them) never reach a caller not
 * entitled to them, any log line, or any transfer-log row.
 */

const SEED = Number(process.env.KEXIN_FUZZ_SEED ?? 20_261_203);
const OPERATIONS = Number(process.env.KEXIN_FUZZ_OPERATIONS ?? soakCount(10_000, 100_000));
/** Every HTTP_EVERY-th operation goes over real HTTP (1,000 of 10,000). */
const HTTP_EVERY = 10;
/** Operations in flight at once (the server serves concurrent callers; this also keeps MariaDB's round trips from adding up). */
const CONCURRENCY = 4;
const BODIES = Number(process.env.KEXIN_FUZZ_BODIES ?? soakCount(1_000, 10_000));
const MAX_BODY = 256 * 1024;

/** contract README "Errors": the only codes a client may see. */
const CONTRACT_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'VERSION_CONFLICT',
  'AGREEMENT_INACTIVE',
  'ATTESTATION_REQUIRED',
  'INCOMPLETE_CUSTOMER_INFO',
  'SUSPECT_CUSTOMER_INFO',
  'QUERY_TOO_COMPLEX',
  'INTERNAL_SERVER_ERROR',
]);

/** What must never be in an answer: stack frames, SQL and driver codes, file paths, table names. */
const FORBIDDEN_TEXT: Array<[string, RegExp]> = [
  ['stack trace', /\n\s+at |\bat [\w.<>]+ \(|stacktrace/],
  ['file path', /node_modules|\/src\/|\/dist\/|\.ts:\d+|\.js:\d+|\/work\//],
  ['SQL', /\b(SELECT|INSERT INTO|DELETE FROM|UPDATE `?\w+`? SET|WHERE|ER_[A-Z_]+|SQLITE_[A-Z]+|QueryFailedError|TypeORM)\b/],
  ['table name', /\b(transfer_log|policy_person|key_hash|insurer_id|principal_id)\b/],
];

// ---------------------------------------------------------------- canaries

interface Canary {
  owner: 'A_BANK' | 'A_BROKER' | 'A_DIRECT' | 'B_DIRECT';
  name: string;
  idNumber: string;
  phone: string;
}

const CANARY_NAMES = ['甲', '乙', '丙', '丁', '戊', '己', '庚', '辛', '壬', '癸', '子', '丑', '寅', '卯', '辰', '巳', '午', '未', '申', '酉', '戌', '亥'];
let canarySequence = 0;

/** A made-up person with a valid resident ID: name 金丝雀<n>, a region and phone prefix used by nobody else in this file. */
function canaryPerson(owner: Canary['owner'], canaries: Canary[]): PersonSeed {
  canarySequence += 1;
  const n = canarySequence;
  const gender = n % 2 ? 'MALE' : 'FEMALE';
  const birthDate = `19${71 + n}-0${1 + (n % 9)}-2${n % 8}`;
  const idNumber = makeResidentId({ region: '370203', birthDate, sequence: 300 + n * 2 + (gender === 'MALE' ? 1 : 0), gender });
  // 19 + nine digits that share no run of 6 with another canary's: every 8-digit window names one canary only
  const phone = `19${String(100_000_000 + ((n * 387_420_489) % 900_000_000)).slice(-9)}`;
  const name = `金丝雀${CANARY_NAMES[n % CANARY_NAMES.length]}${String(n).padStart(3, '0')}号`;
  canaries.push({ owner, name, idNumber, phone });
  return { name, gender, birthDate, idType: 'RESIDENT_ID', idNumber, phone, address: `青岛市市南区金丝雀路${n}号` };
}

/** The strings a canary must never show in clear: the whole values, every window of an ID number or phone wide enough to reach past its mask. */
function needles(canary: Canary, parts: { name: boolean; pii: boolean }): string[] {
  const out: string[] = [];
  if (parts.name) out.push(canary.name);
  if (parts.pii) {
    // masks show 6 + 4 of an ID (110105********1234) and 3 + 4 of a phone (138****5678): any 10 / 8 consecutive characters reach a hidden one
    for (let i = 0; i + 10 <= canary.idNumber.length; i++) out.push(canary.idNumber.slice(i, i + 10));
    for (let i = 0; i + 8 <= canary.phone.length; i++) out.push(canary.phone.slice(i, i + 8));
  }
  return out;
}

/** Hashes, UUIDs and long hex runs cannot hold a value in clear, and would match digit windows by chance. */
const normalise = (text: string) => text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>').replace(/[0-9a-f]{24,}/gi, '<hex>');

// ---------------------------------------------------------------- callers

interface Caller {
  label: string;
  token: string | null;
  /** Which canaries' names and whole ID numbers / phones this caller may see. */
  sees: (c: Canary) => { name: boolean; pii: boolean };
}

const none = () => ({ name: false, pii: false });

// ---------------------------------------------------------------- generators

interface Pools {
  codes: string[];
  policyNos: string[];
  ids: string[];
}

const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\u0000\u0001\u001f\u007f',
  '\uD800',
  '\uDFFF\uD800',
  '\u202E\u200B\uFEFF',
  '👨‍👩‍👧‍👦𠀋𡃁',
  "' or '1'='1",
  "'); drop table policy; --",
  '\\',
  '%',
  '_',
  '%_%',
  '${7*7}',
  '__proto__',
  'constructor',
  'null',
  'undefined',
  'NaN',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '无',
  'n/a',
  'DIRECT',
  'EXCHANGE',
  '０１２３',
  'Ａ',
  'İı',
  'ß',
];

function hostileString(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
    { weight: 3, arbitrary: fc.string({ maxLength: 24 }) },
    { weight: 3, arbitrary: fc.fullUnicodeString({ maxLength: 24 }) },
    { weight: 2, arbitrary: fc.array(fc.integer({ min: 0, max: 0x1f }), { maxLength: 8 }).map((codes) => String.fromCharCode(...codes)) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x', '测', '𠀋', "'", '\\'), fc.integer({ min: 200, max: 70_000 })).map(([c, n]) => c.repeat(n)) },
  );
}

const wrongType = (): fc.Arbitrary<unknown> => fc.oneof(fc.integer(), fc.boolean(), fc.constant([]), fc.constant({}), fc.constant({ a: [1, { b: null }] }), fc.double(), fc.string({ maxLength: 5 }));

const VALID_DATES = ['2026-03-01', '2025-12-31', '1970-01-01', '2024-02-29', '2027-01-01'];
const DATES = [...VALID_DATES, '2026-02-29', '2026-02-30', '2026-13-01', '2026-00-10', '0000-00-00', '99999-01-01', '2026-1-1', '20260301', '2026-03-01T00:00:00Z', '２０２６-０３-０１', '-2026-03-01'];
const VALID_DATETIMES = ['2026-03-01T08:00:00.000Z', '2030-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'];
const DATETIMES = [...VALID_DATETIMES, '2026-03-01', '2026-03-01T25:00:00Z', '2026-03-01T08:00:00+08:00', 'yesterday', '9999-12-31T23:59:59.999Z', '+275760-09-13T00:00:00.000Z', '0'];
const INTS = [0, 1, -1, 12, 13, 240, 499, 500, 501, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 1.5, -0.5];

function pooled(name: string, pools: Pools): string[] | null {
  const n = name.toLowerCase();
  if (n.endsWith('code') || n === 'insurer' || n === 'partner') return pools.codes;
  if (n === 'policyno' || n === 'policynos') return pools.policyNos;
  if (n === 'id' || n.endsWith('id') || n === 'after') return pools.ids;
  return null;
}

/** `h` (hostile): also values of the wrong type and out of range; without it, values of the right type (hostile content in strings still). */
function scalarValue(type: GraphQLNamedType, name: string, pools: Pools, h: boolean): fc.Arbitrary<unknown> {
  const bad = h ? 1 : 0;
  switch (type.name) {
    case 'Int':
      return fc.oneof({ weight: 3, arbitrary: h ? fc.integer({ min: -3, max: 600 }) : fc.integer({ min: 0, max: 60 }) }, { weight: 2, arbitrary: fc.constantFrom(...INTS.filter((n) => h || (Number.isInteger(n) && Math.abs(n) < 2 ** 31))) }, { weight: bad, arbitrary: wrongType() });
    case 'Float':
      return fc.oneof({ weight: 1, arbitrary: fc.double({ noNaN: true }) }, { weight: 2, arbitrary: fc.constantFrom(0, 100, 33.3, -1, 1e308) }, { weight: bad, arbitrary: wrongType() });
    case 'Boolean':
      return fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: bad, arbitrary: wrongType() });
    case 'Date':
      return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...(h ? DATES : VALID_DATES)) }, { weight: bad, arbitrary: hostileString() }, { weight: bad, arbitrary: wrongType() });
    case 'DateTime':
      return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...(h ? DATETIMES : VALID_DATETIMES)) }, { weight: bad, arbitrary: hostileString() }, { weight: bad, arbitrary: wrongType() });
    default: {
      const pool = pooled(name, pools);
      return fc.oneof(
        { weight: pool ? 6 : 0, arbitrary: fc.constantFrom(...(pool ?? [''])) },
        { weight: 3, arbitrary: hostileString() },
        { weight: 1, arbitrary: fc.uuid() },
        { weight: bad, arbitrary: wrongType() },
      );
    }
  }
}

/** A value for an input type: mostly of its shape, sometimes null where it may not be, of the wrong type, or with extra fields. */
function inputValue(type: GraphQLInputType, name: string, pools: Pools, h: boolean, depth = 0, required = false): fc.Arbitrary<unknown> {
  const bad = h ? 1 : 0;
  const inner = (): fc.Arbitrary<unknown> => {
    if (isNonNullType(type)) return fc.constant(null); // unreachable: unwrapped below
    if (isListType(type)) {
      return fc.oneof(
        { weight: 6, arbitrary: fc.array(inputValue(type.ofType, name, pools, h, depth + 1), { maxLength: depth > 1 ? 1 : 4 }) },
        { weight: 1, arbitrary: inputValue(type.ofType, name, pools, h, depth + 1) },
        { weight: bad, arbitrary: wrongType() },
      );
    }
    if (isEnumType(type)) return fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...type.getValues().map((v) => v.name)) }, { weight: bad, arbitrary: hostileString() }, { weight: bad, arbitrary: wrongType() });
    if (isInputObjectType(type)) {
      if (depth > 4) return fc.constant({});
      const fields = Object.values(type.getFields());
      const record = fc.record(Object.fromEntries(fields.map((f) => [f.name, inputValue(f.type, f.name, pools, h, depth + 1)])), { requiredKeys: fields.filter((f) => isNonNullType(f.type)).map((f) => f.name) });
      return fc.oneof(
        { weight: 10, arbitrary: record },
        { weight: bad, arbitrary: fc.tuple(record, hostileString()).map(([r, k]) => ({ ...(r as object), [k || 'extra']: 1 })) },
        { weight: bad, arbitrary: wrongType() },
      );
    }
    return scalarValue(getNamedType(type), name, pools, h);
  };
  if (isNonNullType(type)) return fc.oneof({ weight: 12, arbitrary: inputValue(type.ofType, name, pools, h, depth, true) }, { weight: bad, arbitrary: fc.constant(null) });
  if (required) return inner();
  return fc.oneof({ weight: 10, arbitrary: inner() }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constant(undefined) });
}

/** A GraphQL literal of a JSON-like value (enum values bare when they look like names). */
function literal(value: unknown, type: GraphQLInputType): string {
  const named = getNamedType(type);
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map((v) => literal(v, isListType(isNonNullType(type) ? type.ofType : type) ? ((isNonNullType(type) ? type.ofType : type) as any).ofType : type)).join(', ')}]`;
  if (typeof value === 'object') {
    const fields = isInputObjectType(named) ? named.getFields() : {};
    return `{ ${Object.entries(value as Record<string, unknown>)
      .filter(([k, v]) => v !== undefined && /^[_A-Za-z][_0-9A-Za-z]*$/.test(k))
      .map(([k, v]) => `${k}: ${literal(v, fields[k]?.type ?? type)}`)
      .join(', ')} }`;
  }
  if (typeof value === 'string' && isEnumType(named) && /^[_A-Za-z][_0-9A-Za-z]*$/.test(value) && !['true', 'false', 'null'].includes(value)) return value;
  if (typeof value === 'number' && !Number.isFinite(value)) return '0';
  return JSON.stringify(value);
}

/** Fields always selected where they occur, so that the answers carry people (and the canary scan has something to find). */
const MUST_SELECT: Record<string, string[]> = {
  Person: ['name', 'idNumber', 'phone'],
  Policy: ['policyholder', 'insured'],
  Beneficiary: ['person'],
  Correction: ['changes'],
  FieldChange: ['before', 'after'],
};

/** A selection for an output type: a non-empty random subset of its fields, recursively, sometimes with __typename, an alias or a directive. */
function selection(type: GraphQLNamedType, depth: number): fc.Arbitrary<string> {
  if (!isObjectType(type)) return fc.constant('');
  const fields = Object.values(type.getFields()).filter((f) => f.args.every((a) => !isNonNullType(a.type)));
  const must = fields.filter((f) => MUST_SELECT[type.name]?.includes(f.name));
  const sub = (f: GraphQLField<unknown, unknown>): fc.Arbitrary<string> => {
    const named = getNamedType(f.type);
    if (isLeafType(named)) return fc.constant(f.name);
    if (depth >= 4) return fc.constant(`${f.name} { __typename }`);
    return selection(named, depth + 1).map((s) => `${f.name} { ${s} }`);
  };
  return fc
    .tuple(
      fc
        .shuffledSubarray(fields, { minLength: 1, maxLength: Math.min(fields.length, depth === 0 ? 8 : 5) })
        .chain((chosen) => fc.tuple(...[...must, ...chosen.filter((f) => !must.includes(f))].map(sub))),
      fc.constantFrom('', '', '', '__typename', 'x1: __typename', '__typename @skip(if: true)'),
    )
    .map(([parts, extra]) => [...parts, extra].filter(Boolean).join(' '));
}

interface Operation {
  caller: number;
  query: string;
  variables: Record<string, unknown>;
}

function operation(schema: GraphQLSchema, callers: number, pools: Pools): fc.Arbitrary<Operation> {
  const roots = rootFields(schema);
  const call = (kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>, prefix: string, h: boolean) =>
    fc
      .tuple(
        // `how`: 0-2 a literal, 3 declared String, 4 declared Int!, 5 declared and not sent, else a variable of the argument's type
        fc.tuple(...field.args.map((a) => fc.tuple(inputValue(a.type, a.name, pools, h), h ? fc.nat(19) : fc.oneof(fc.nat(2), fc.integer({ min: 6, max: 19 }))))),
        selection(getNamedType(field.type), 1),
      )
      .map(([args, sel]) => {
        const defs: string[] = [];
        const passed: string[] = [];
        const variables: Record<string, unknown> = {};
        field.args.forEach((arg, i) => {
          const [value, how] = args[i]!;
          if (value === undefined && (how % 2 === 0 || !h)) return; // left out (a required one: a validation error)
          if (how < 3) return void passed.push(`${arg.name}: ${literal(value, arg.type)}`);
          const declared = how === 3 ? 'String' : how === 4 ? 'Int!' : String(arg.type);
          defs.push(`$${prefix}${arg.name}: ${declared}`);
          passed.push(`${arg.name}: $${prefix}${arg.name}`);
          if (how !== 5) variables[`${prefix}${arg.name}`] = value;
        });
        const text = `${prefix}: ${field.name}${passed.length ? `(${passed.join(', ')})` : ''}${sel ? ` { ${sel} }` : ''}`;
        return { kind, defs, text, variables };
      });
  const byKind = (kind: 'query' | 'mutation') => roots.filter((r) => r.kind === kind);
  const one = (kind: 'query' | 'mutation', prefix: string, h: boolean) => fc.constantFrom(...byKind(kind)).chain((r) => call(kind, r.field, prefix, h));
  return fc
    .tuple(
      fc.nat(callers - 1),
      fc.constantFrom<'query' | 'mutation'>('query', 'query', 'mutation'),
      fc.boolean(),
      fc.nat(9).map((n) => n < 4), // 40% hostile (wrong types, nulls, bad declarations), 60% well-typed with hostile strings
    )
    .chain(([caller, kind, two, h]) => fc.tuple(fc.constant(caller), one(kind, 'r0', h), two && kind === 'query' ? one(kind, 'r1', h) : fc.constant(null)))
    .map(([caller, first, second]) => {
      const parts = second ? [first, second] : [first];
      const defs = parts.flatMap((p) => p.defs);
      return {
        caller,
        query: `${first.kind}${defs.length ? `(${defs.join(', ')})` : ''} { ${parts.map((p) => p.text).join(' ')} }`,
        variables: Object.assign({}, ...parts.map((p) => p.variables)),
      };
    });
}

// ---------------------------------------------------------------- malformed bodies

interface RawRequest {
  what: string;
  method: string;
  path?: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** True when the request is not a valid GraphQL request at all, so that it must be refused (4xx), not just not crash. */
  refuse: boolean;
  /** A CORS preflight (OPTIONS): answered 204 with an empty body, never anything else. */
  preflight?: boolean;
}

function malformed(token: string): fc.Arbitrary<RawRequest> {
  const auth = { authorization: `Bearer ${token}` };
  const jsonType = { 'content-type': 'application/json' };
  const post = (what: string, body: string | Buffer, refuse = true, headers: Record<string, string> = jsonType): RawRequest => ({
    what,
    method: 'POST',
    headers: { ...auth, ...headers },
    body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
    refuse,
  });
  const valid = JSON.stringify({ query: 'query($n: Int) { me { id } policies(first: $n) { totalCount } }', variables: { n: 2 } });
  const deep = (n: number, open: string, close: string, inner = '1') => open.repeat(n) + inner + close.repeat(n);
  return fc.oneof(
    fc.integer({ min: 1, max: valid.length - 1 }).map((cut) => post('truncated JSON', valid.slice(0, cut))),
    fc.string({ minLength: 1, maxLength: 40 }).filter((s) => { try { JSON.parse(s); return false; } catch { return true; } }).map((s) => post('not JSON', s)),
    fc.constantFrom("{'query': '{ me { id } }'}", '{"query":"{ me { id } }",}', '{"query":NaN}', '{"query":"\\x41"}', '{"query":"\\uZZZZ"}', '\uFEFF{"query":"{ me { id } }"}', '{"query":"{ me { id } }"}{"query":"{ me { id } }"}').map((s) => post('bad JSON literal', s)),
    fc.constantFrom('text/plain', 'application/graphql', 'multipart/form-data; boundary=x', 'application/xml', 'application/x-www-form-urlencoded', 'text/html', '', 'application/json; charset=utf-16', 'application/jsonp', 'image/png').map((t) => post(`content-type ${t}`, valid, t !== 'application/jsonp' && t !== 'application/json; charset=utf-16', t ? { 'content-type': t } : {})),
    fc.constantFrom('[]', '[{}]', `[${valid}]`, `[${valid},${valid}]`, '[[]]', '[1,2,3]', '[null]').map((s) => post('array body', s)),
    fc.integer({ min: 1_000, max: 60_000 }).map((n) => post('deep JSON array', deep(n, '[', ']'))),
    fc.integer({ min: 1_000, max: 30_000 }).map((n) => post('deep JSON object', deep(n, '{"a":', '}'))),
    fc.integer({ min: 100, max: 20_000 }).map((n) => post('deep variables', `{"query":"query($f: PolicyFilter) { me { id } policies(filter: $f) { totalCount } }","variables":{"f":${deep(n, '{"insurerCode":', '}', '"X"')}}}`)),
    fc.integer({ min: 100, max: 20_000 }).map((n) => post('deep list variable', `{"query":"query($r: [SalesRecordInput!]!) { submitSales(insurerCode: \\"X\\", idempotencyKey: \\"k\\", records: $r) { accepted } }","variables":{"r":${deep(n, '[', ']', '{}')}}}`)),
    fc.integer({ min: MAX_BODY - 1_000, max: MAX_BODY + 50_000 }).map((n) => post('huge JSON', JSON.stringify({ query: '{ me { id } }', variables: { pad: 'x'.repeat(n) } }), n > MAX_BODY - 100)),
    fc.integer({ min: 1_000, max: 10_000 }).map((n) => post('many variables', JSON.stringify({ query: '{ me { id } }', variables: Object.fromEntries(Array.from({ length: n }, (_, i) => [`v${i}`, i])) }), false)),
    fc.constantFrom('{}', '{"variables":{}}', '{"query":null}', '{"query":""}', '{"query":"   "}', '{"operationName":"A"}', 'null', '1', '"{ me { id } }"', 'true').map((s) => post('missing query', s)),
    fc.constantFrom('1', 'true', '{}', '[]', '["{ me { id } }"]', '{"kind":"Document","definitions":[]}', '{"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","selectionSet":{"kind":"SelectionSet","selections":[]}}]}').map((q) => post('non-string query', `{"query":${q}}`)),
    fc.constantFrom('"x"', '"{\\"n\\":1}"', '[1]', '5', 'true', '[{"n":1}]').map((v) => post('bad variables shape', `{"query":"query($n: Int) { me { id } policies(first: $n) { totalCount } }","variables":${v}}`)),
    fc.constantFrom('5', '{}', '[]', 'true', '"B"').map((o) => post('bad operationName', `{"query":"query A { me { id } }","operationName":${o}}`)),
    fc.constantFrom('"x"', '5', '[]', '{"persistedQuery":{"version":1,"sha256Hash":"abc"}}', '{"persistedQuery":1}').map((e) => post('bad extensions', `{"query":"{ me { id } }","extensions":${e}}`)),
    fc.array(fc.integer({ min: 0x80, max: 0xff }), { minLength: 1, maxLength: 16 }).map((bytes) =>
      post('invalid UTF-8', Buffer.concat([Buffer.from('{"query":"{ me { id } }","x":"'), Buffer.from(bytes), Buffer.from('"}')]), false),
    ),
    fc.array(fc.integer({ min: 0x80, max: 0xff }), { minLength: 1, maxLength: 16 }).map((bytes) => post('invalid UTF-8 in the query', Buffer.concat([Buffer.from('{"query":"{ me { '), Buffer.from(bytes), Buffer.from(' } }"}')]))),
    fc.constantFrom(
      '{"query":"query($v: PolicyFilter) { me { id } policies(filter: $v) { totalCount } }","variables":{"v":{"__proto__":{"insurerCode":"X"}}}}',
      '{"__proto__":{"query":"{ me { id } }"}}',
      '{"query":"{ me { id } }","variables":{"constructor":{"prototype":{"polluted":1}}}}',
      '{"query":"query($n: Int) { me { id } policies(first: $n) { totalCount } }","variables":{"__proto__":{"n":501}}}',
    ).map((s) => post('prototype keys', s, false)),
    fc.constantFrom('PUT', 'DELETE', 'PATCH').map((method): RawRequest => ({ what: `method ${method}`, method, headers: { ...auth, ...jsonType }, body: Buffer.from(valid), refuse: true })),
    // OPTIONS is the CORS preflight (issue 12): 204 and no body whatever it carries, never executed.
    fc.constant<RawRequest>({ what: 'method OPTIONS', method: 'OPTIONS', headers: { ...auth, ...jsonType }, body: Buffer.from(valid), refuse: false, preflight: true }),
    fc.constantFrom('?query=', '?query=%ZZ', `?query=${encodeURIComponent('{ me { id } }')}&variables=notjson`, `?query=${encodeURIComponent('{ me { id } }')}&extensions=%7B`, '?query=a&query=b', `?query=${encodeURIComponent('{ me ')}`).map(
      (search): RawRequest => ({ what: `GET ${search}`, method: 'GET', path: `/graphql${search}`, headers: { ...auth, 'apollo-require-preflight': 'true' }, refuse: true }),
    ),
    fc.constantFrom(`Bearer ${'k'.repeat(10_000)}`, 'Bearer \u00ff\u00fe', 'Bearer a b', 'Bearer', 'bearer', `Bearer ${token} ${token}`, 'Basic Og==').map((a): RawRequest => ({ what: `authorization ${a.slice(0, 12)}`, method: 'POST', headers: { ...jsonType, authorization: a }, body: Buffer.from(valid), refuse: true })),
  );
}

function rawRequest(url: string, request: RawRequest): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${request.path ?? '/graphql'}`, { method: request.method, headers: { ...request.headers, ...(request.body ? { 'content-length': String(request.body.length) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(request.body);
  });
}

/** A body announced longer than it is, then the client half-closes: the server must neither hang on it nor crash. */
function truncatedUpload(url: string, token: string): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request(`${url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': '500' } });
    req.on('error', () => resolve());
    req.on('response', (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.write('{"query":"{ me { id } }"');
    setImmediate(() => req.socket?.end());
    req.on('close', () => resolve());
  });
}

// ---------------------------------------------------------------- the suite

describe(`bad input, generated: fuzz, malformed bodies and canaries (${TEST_DB}, seed ${SEED})`, () => {
  const logLines: string[] = [];
  let app: TestApp;
  let url: string;
  let callers: Caller[];
  let pools: Pools;
  /** The codes the canary reads name: both insurers, a channel, the exchange. */
  let readCodes: string[];
  const canaries: Canary[] = [];
  const figures = { operations: 0, overHttp: 0, bodies: 0, http5xx: 0, internalErrors: 0, crashes: 0, badCodes: 0, forbiddenText: 0, canaryHits: 0, canaryReads: 0, echoes: 0, logLines: 0, logCanaryHits: 0, transferLogRows: 0, transferLogCanaryHits: 0 };

  /** Answers that showed some canary value to a caller entitled to it, by caller group: the scan had something to find. */
  const sightings = new Map<string, number>();
  /** Problems found: kept whole for the first few, counted for all. */
  const problems: string[] = [];
  const report = (what: string) => {
    if (problems.length < 20) problems.push(what);
  };

  /** Checks one answer: status, codes, forbidden text, canaries this caller may not see. */
  function check(where: string, caller: Caller | null, status: number, text: string): any {
    if (status >= 500) {
      figures.http5xx += 1;
      report(`${where}: HTTP ${status} ${text.slice(0, 300)}`);
    }
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      figures.crashes += 1;
      return report(`${where}: answer is not JSON (${status}): ${text.slice(0, 200)}`);
    }
    for (const error of (body?.errors ?? []) as any[]) {
      const code = error?.extensions?.code;
      if (!CONTRACT_CODES.has(code)) {
        figures.badCodes += 1;
        report(`${where}: error code ${String(code)}: ${JSON.stringify(error).slice(0, 300)}`);
      } else if (code === 'INTERNAL_SERVER_ERROR') {
        figures.internalErrors += 1;
        report(`${where}: INTERNAL_SERVER_ERROR ${JSON.stringify(error).slice(0, 300)}`);
      }
    }
    const decoded = JSON.stringify(body);
    for (const [what, pattern] of FORBIDDEN_TEXT) {
      const hit = pattern.exec(decoded);
      if (hit) {
        figures.forbiddenText += 1;
        report(`${where}: ${what} in the answer: …${decoded.slice(Math.max(0, hit.index - 80), hit.index + 80)}…`);
      }
    }
    if (caller) {
      if (canaryHits(decoded, () => ({ name: false, pii: false })).length) sightings.set(caller.label.replace(/ [A-Z]+$/, ''), (sightings.get(caller.label.replace(/ [A-Z]+$/, '')) ?? 0) + 1);
      const hits = canaryHits(decoded, caller.sees);
      if (hits.length) {
        figures.canaryHits += hits.length;
        report(`${where}: canary ${hits.join(', ')} shown to ${caller.label}`);
      }
    }
    return body;
  }

  /** A rejected variable's value is never echoed in its error (scrubValues): strings of 8+ characters sent in the variables. */
  function echoes(where: string, body: any, variables: Record<string, unknown>): void {
    const sent: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string' && v.length >= 8 && !DATES.includes(v) && !DATETIMES.includes(v)) sent.push(v.slice(0, 64));
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(variables);
    for (const error of (body?.errors ?? []) as any[]) {
      const message = String(error?.message ?? '');
      if (!message.startsWith('Variable "$') || message.includes('is not defined by type')) continue; // an unknown field is named: a key, not a value
      const echoed = sent.find((v) => message.includes(v));
      if (echoed !== undefined) {
        figures.echoes += 1;
        report(`${where}: the error echoes the value sent: ${message.slice(0, 200)}`);
      }
    }
  }

  /** How far an operation got: resolved data, or the first error's code (and Apollo's detail). */
  const outcomes = new Map<string, number>();
  function outcome(body: any): void {
    const data = body?.data && Object.values(body.data).some((v) => v !== null);
    const error = body?.errors?.[0]?.extensions;
    const key = data ? (error ? `data + ${error.code}` : 'data') : error ? `${error.code}${error.detail ? `/${error.detail}` : ''}${body?.data === undefined ? '' : ' (executed)'}` : 'null';
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }

  function canaryHits(text: string, sees: Caller['sees']): string[] {
    const haystack = normalise(text);
    const hits: string[] = [];
    for (const canary of canaries) {
      const may = sees(canary);
      for (const needle of needles(canary, { name: !may.name, pii: !may.pii })) if (haystack.includes(needle)) hits.push(needle);
    }
    return hits;
  }

  beforeAll(async () => {
    const log = pino({ level: 'trace', base: { service: 'kexin' } }, { write: (line: string) => void logLines.push(line) });
    app = await startTestApp({ KEXIN_MAX_BODY_BYTES: String(MAX_BODY) }, undefined, { log });
    url = await app.url();
    const ALL = ['ADMIN', 'UNDERWRITER', 'COMPLIANCE', 'SERVICE', 'SALES'] as const;
    const insurerA = await createParty(app, 'INSURER', [...ALL], { attested: true });
    const insurerB = await createParty(app, 'INSURER', [...ALL], { attested: true });
    const bank = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES', 'SERVICE'], { attested: true });
    const broker = await createParty(app, 'BROKER', ['ADMIN', 'SALES', 'SERVICE'], { attested: true });
    const stranger = await createParty(app, 'BROKER', ['ADMIN', 'SALES', 'SERVICE'], { attested: true });
    const regulator = await createParty(app, 'REGULATOR', ['ADMIN', 'COMPLIANCE']);
    await createAgreement(app, { insurerCode: insurerA.code, partnerCode: bank.code, scopes: ['SUBMIT_SALES', 'READ_POLICIES', 'CORRECT_RECORDS', 'READ_COMPLETENESS'], proposerKey: insurerA.keys.ADMIN, signerKey: bank.keys.ADMIN });
    await createAgreement(app, { insurerCode: insurerA.code, partnerCode: broker.code, scopes: ['SUBMIT_SALES', 'READ_POLICIES', 'CORRECT_RECORDS', 'READ_COMPLETENESS', 'VIEW_FULL_PII'], proposerKey: insurerA.keys.ADMIN, signerKey: broker.keys.ADMIN });
    // Sacrificial records for the id pool: revoking or signing these changes nobody's view of the canaries.
    const sacrificial = await createAgreement(app, { insurerCode: insurerB.code, partnerCode: stranger.code, scopes: ['SUBMIT_SALES'], proposerKey: insurerB.keys.ADMIN });
    const spare = await createParty(app, 'BANK_CHANNEL', ['ADMIN', 'SALES']);

    const seeds: PolicySeed[] = [];
    const policy = (insurerId: string, channelId: string | null, owner: Canary['owner'], i: number): PolicySeed => {
      const holder = canaryPerson(owner, canaries);
      const insured = i % 2 ? canaryPerson(owner, canaries) : holder;
      return {
        insurerId,
        channelId,
        policyNo: `CANARY-${owner}-${i}`,
        policyholder: holder,
        insured,
        insuredRelationship: insured === holder ? 'SELF' : 'CHILD',
        beneficiaries: i === 2 ? [{ person: canaryPerson(owner, canaries), relationshipToInsured: 'PARENT', sharePercent: 100 }] : [],
      };
    };
    for (let i = 1; i <= 3; i++) seeds.push(policy(insurerA.id, bank.id, 'A_BANK', i), policy(insurerA.id, broker.id, 'A_BROKER', i), policy(insurerA.id, null, 'A_DIRECT', i), policy(insurerB.id, null, 'B_DIRECT', i));
    await seedPolicies(app, seeds);

    const full = () => ({ name: true, pii: true });
    const ofA = (c: Canary) => (c.owner.startsWith('A_') ? full() : none());
    const ofB = (c: Canary) => (c.owner === 'B_DIRECT' ? full() : none());
    callers = [
      ...ALL.map((r) => ({ label: `insurer A ${r}`, token: insurerA.keys[r], sees: ofA })),
      ...ALL.map((r) => ({ label: `insurer B ${r}`, token: insurerB.keys[r], sees: ofB })),
      ...(['ADMIN', 'SALES', 'SERVICE'] as const).map((r) => ({ label: `bank (masked) ${r}`, token: bank.keys[r], sees: (c: Canary) => ({ name: c.owner === 'A_BANK', pii: false }) })),
      ...(['ADMIN', 'SALES', 'SERVICE'] as const).map((r) => ({ label: `broker (full PII) ${r}`, token: broker.keys[r], sees: (c: Canary) => (c.owner === 'A_BROKER' ? full() : none()) })),
      ...(['ADMIN', 'SALES', 'SERVICE'] as const).map((r) => ({ label: `broker without agreement ${r}`, token: stranger.keys[r], sees: none })),
      ...(['ADMIN', 'COMPLIANCE'] as const).map((r) => ({ label: `regulator ${r}`, token: regulator.keys[r], sees: none })),
      { label: 'exchange ADMIN', token: ADMIN_TOKEN, sees: none },
      { label: 'anonymous', token: null, sees: none },
      { label: 'unknown key', token: 'kx_not_a_key', sees: none },
    ];
    readCodes = [insurerA.code, insurerB.code, bank.code, 'EXCHANGE'];
    pools = {
      codes: [insurerA.code, insurerA.code, insurerA.code, insurerB.code, insurerB.code, bank.code, broker.code, stranger.code, regulator.code, spare.code, 'EXCHANGE', 'DIRECT', 'NOPE'],
      policyNos: [...seeds.map((s) => s.policyNo), ...seeds.map((s) => s.policyNo), 'NOPE-1'],
      ids: [sacrificial.id, spare.principalIds.ADMIN, spare.principalIds.SALES, '00000000-0000-0000-0000-000000000000'],
    };
  }, 120_000);
  afterAll(() => app?.close());

  it('positive control: entitled callers do see canaries (so the scan can find them), masked partners only masked', async () => {
    const q = 'query($i: String!, $p: String!) { policy(insurerCode: $i, policyNo: $p) { policyholder { name idNumber phone } } }';
    const [a, bank, broker] = [callers.find((c) => c.label === 'insurer A COMPLIANCE')!, callers.find((c) => c.label === 'bank (masked) SERVICE')!, callers.find((c) => c.label === 'broker (full PII) SERVICE')!];
    const insurerCode = pools.codes[0]!;
    const everything = () => ({ name: false, pii: false });
    const seenBy = async (caller: Caller, policyNo: string) => JSON.stringify(await app.gql(caller.token, q, { i: insurerCode, p: policyNo }));
    const bankView = await seenBy(bank, 'CANARY-A_BANK-1');
    expect(canaryHits(await seenBy(a, 'CANARY-A_BANK-1'), everything).length).toBeGreaterThanOrEqual(3);
    expect(canaryHits(await seenBy(broker, 'CANARY-A_BROKER-1'), everything).length).toBeGreaterThanOrEqual(3);
    expect(bankView).toMatch(/370203\*{8}\d{3}[\dX]/);
    expect(canaryHits(bankView, everything)).toEqual([canaries.find((c) => c.owner === 'A_BANK')!.name]); // the name, never the numbers
    expect(canaryHits(bankView, bank.sees)).toEqual([]);
    expect(canaryHits(await seenBy(bank, 'CANARY-A_BROKER-1'), everything)).toEqual([]);
    expect(canaries.length).toBeGreaterThanOrEqual(20);
    // every needle names one canary only, so a caller's own canaries never match another's
    const shared = canaries.flatMap((c) => needles(c, { name: true, pii: true }).filter((n) => canaries.some((d) => d !== c && [d.name, d.idNumber, d.phone].some((v) => v.includes(n)))));
    expect(shared).toEqual([]);
  });

  it(`${OPERATIONS} generated operations from ${'every role'} and anonymous: no 5xx, no crash, no internals, contract codes only, no canary to the unentitled`, async () => {
    const ops = fc.sample(operation(app.server.schema, callers.length, pools), { seed: SEED, numRuns: OPERATIONS });
    const started = Date.now();
    const perCaller = new Map<string, number>();
    const runOne = async (op: Operation, i: number): Promise<void> => {
      const caller = callers[op.caller]!;
      perCaller.set(caller.label, (perCaller.get(caller.label) ?? 0) + 1);
      const where = `op ${i} (seed ${SEED}) as ${caller.label}: ${op.query.slice(0, 300)} ${JSON.stringify(op.variables).slice(0, 300)}`;
      try {
        if (i % HTTP_EVERY === 0) {
          const response = await fetch(`${url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(caller.token ? { authorization: `Bearer ${caller.token}` } : {}) },
            body: JSON.stringify({ query: op.query, variables: op.variables }),
          });
          figures.overHttp += 1;
          const body = check(where, caller, response.status, await response.text());
          outcome(body);
          echoes(where, body, op.variables);
        } else {
          const response = await app.server.apollo.executeOperation({ query: op.query, variables: op.variables }, { contextValue: await app.server.contextFor(caller.token) });
          if (response.body.kind !== 'single') throw new Error('incremental response');
          const body = check(where, caller, response.http.status ?? 200, JSON.stringify(response.body.singleResult));
          outcome(body);
          echoes(where, body, op.variables);
        }
      } catch (error) {
        figures.crashes += 1;
        report(`${where}: threw ${String(error)}`);
      }
      figures.operations += 1;
    };
    // CONCURRENCY operations at a time, in the order sampled: the set of operations is fixed by the seed, their interleaving within a round is not.
    for (let i = 0; i < ops.length; i += CONCURRENCY) await Promise.all(ops.slice(i, i + CONCURRENCY).map((op, j) => runOne(op, i + j)));
    console.log(`fuzz (${TEST_DB}, seed ${SEED}): ${figures.operations} operations (${figures.overHttp} over HTTP) in ${Date.now() - started} ms from ${perCaller.size} callers; 5xx ${figures.http5xx}, crashes ${figures.crashes}, INTERNAL_SERVER_ERROR ${figures.internalErrors}, non-contract codes ${figures.badCodes}, internals shown ${figures.forbiddenText}, values echoed ${figures.echoes}, canary hits ${figures.canaryHits}`);
    console.log(`fuzz outcomes: ${JSON.stringify(Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])))}`);
    console.log(`answers showing a canary to an entitled caller: ${JSON.stringify(Object.fromEntries(sightings))}`);
    expect(perCaller.size).toBe(callers.length);
    expect(problems).toEqual([]);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  }, 600_000);

  it('every caller reads every canary record (each policy by number, the lists, its corrections, the exports): people only to the entitled', async () => {
    const PERSON = 'name idNumber phone birthDate address';
    const POLICY = `policyNo policyholder { ${PERSON} } insured { ${PERSON} } beneficiaries { person { ${PERSON} } }`;
    const reads: Array<[string, Record<string, unknown>]> = [];
    for (const insurerCode of readCodes) {
      for (const policyNo of new Set(pools.policyNos)) {
        reads.push([`query($i: String!, $p: String!) { policy(insurerCode: $i, policyNo: $p) { ${POLICY} } corrections(insurerCode: $i, policyNo: $p) { changes { field before after } } }`, { i: insurerCode, p: policyNo }]);
      }
      reads.push([`query($f: PolicyFilter) { policies(first: 50, filter: $f) { edges { node { ${POLICY} } } } exportPoliciesCsv(filter: $f) }`, { f: { insurerCode } }]);
      reads.push([`query($i: String!) { transferLog(insurerCode: $i, first: 100) { edges { node { operation } } } commissionHolds(insurerCode: $i) { policyNos } }`, { i: insurerCode }]);
    }
    reads.push([`{ policies(first: 50) { edges { node { ${POLICY} } } } }`, {}]);
    for (const caller of callers) {
      for (const [query, variables] of reads) {
        const response = await app.server.apollo.executeOperation({ query, variables }, { contextValue: await app.server.contextFor(caller.token) });
        if (response.body.kind !== 'single') throw new Error('incremental response');
        check(`canary read as ${caller.label}: ${query.slice(0, 120)} ${JSON.stringify(variables)}`, caller, response.http.status ?? 200, JSON.stringify(response.body.singleResult));
        figures.canaryReads += 1;
      }
    }
    console.log(`canary reads (${TEST_DB}): ${figures.canaryReads} by ${callers.length} callers; answers showing a canary to an entitled caller: ${JSON.stringify(Object.fromEntries(sightings))}; canary hits ${figures.canaryHits}`);
    expect([...sightings.keys()].sort()).toEqual(['bank (masked)', 'broker (full PII)', 'insurer A', 'insurer B']); // every entitled group saw canaries, so the unentitled views were really tested
    expect(problems).toEqual([]);
  }, 300_000);

  it(`${BODIES} malformed HTTP bodies: each refused with a 4xx (or answered), never a 5xx, contract codes only`, async () => {
    const token = callers.find((c) => c.label === 'insurer A COMPLIANCE')!.token!;
    const bodies = fc.sample(malformed(token), { seed: SEED + 1, numRuns: BODIES });
    const kinds = new Set<string>();
    for (const [i, request] of bodies.entries()) {
      kinds.add(request.what.replace(/ .*/, ''));
      const where = `body ${i} (seed ${SEED + 1}) ${request.what}: ${request.body?.subarray(0, 120).toString('utf8') ?? request.path}`;
      try {
        const { status, text } = await rawRequest(url, request);
        if (request.preflight) {
          if (status !== 204 || text !== '') report(`${where}: a preflight answered ${status} ${text.slice(0, 200)}, expected 204 and no body`);
          figures.bodies += 1;
          continue;
        }
        check(where, null, status, text);
        if (request.refuse && (status < 400 || status >= 500)) report(`${where}: answered ${status}, expected a 4xx refusal: ${text.slice(0, 200)}`);
      } catch (error) {
        figures.crashes += 1;
        report(`${where}: threw ${String(error)}`);
      }
      figures.bodies += 1;
    }
    for (let i = 0; i < 5; i++) await truncatedUpload(url, token);
    const health = await fetch(`${url}/health`);
    console.log(`malformed bodies (${TEST_DB}, seed ${SEED + 1}): ${figures.bodies} of ${kinds.size} kinds, 5 truncated uploads; 5xx ${figures.http5xx}, crashes ${figures.crashes}; /health ${health.status}; in flight ${app.server.inFlight()}`);
    expect(problems).toEqual([]);
    expect(health.status).toBe(200);
    expect(kinds.size).toBeGreaterThanOrEqual(15);
  }, 300_000);

  it('no canary in any log line or any transfer-log row', async () => {
    const everything = () => ({ name: false, pii: false });
    figures.logLines = logLines.length;
    if (process.env.KEXIN_FUZZ_SHOW_LOG) console.log(logLines.join(''));
    for (const line of logLines) {
      let decoded = line;
      try {
        decoded = JSON.stringify(JSON.parse(line));
      } catch {
        /* scanned as written */
      }
      const hits = canaryHits(decoded, everything);
      figures.logCanaryHits += hits.length;
      if (hits.length) report(`log line holds canary ${hits.join(', ')}: ${line.slice(0, 300)}`);
    }
    const rows = [...(await app.db.query('SELECT * FROM transfer_log')), ...(await app.db.query('SELECT * FROM transfer_log_policy'))] as unknown[];
    figures.transferLogRows = rows.length;
    for (const row of rows) {
      const hits = canaryHits(JSON.stringify(row), everything);
      figures.transferLogCanaryHits += hits.length;
      if (hits.length) report(`transfer-log row holds canary ${hits.join(', ')}: ${JSON.stringify(row).slice(0, 300)}`);
    }
    console.log(`canaries (${TEST_DB}): ${canaries.length} people, ${figures.logLines} log lines, ${figures.transferLogRows} transfer-log rows scanned; hits in logs ${figures.logCanaryHits}, in the transfer log ${figures.transferLogCanaryHits}, in answers ${figures.canaryHits}`);
    expect(rows.length).toBeGreaterThan(20);
    expect(problems).toEqual([]);
  });
});

/** Minimal failing cases the fuzz found, kept as fixed regressions. */
describe(`bad input found by the fuzz, fixed (${TEST_DB})`, () => {
  let app: TestApp;
  let url: string;
  beforeAll(async () => {
    app = await startTestApp();
    url = await app.url();
  });
  afterAll(() => app.close());

  it.each([
    ['a sha that does not match the query', { persistedQuery: { version: 1, sha256Hash: 'abc' } }],
    ['an unsupported version', { persistedQuery: 1 }],
    ['a hash without a query', { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } }],
  ])('a persistedQuery extension with %s is 400 BAD_USER_INPUT, not INTERNAL_SERVER_ERROR', async (what, extensions) => {
    const body = what.includes('without') ? { extensions } : { query: '{ me { id } }', extensions };
    const { status, text } = await rawRequest(url, { what, method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)), refuse: true });
    expect(status).toBe(400);
    expect(JSON.parse(text).errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', detail: 'PERSISTED_QUERY_NOT_SUPPORTED' });
    const got = await rawRequest(url, { what, method: 'GET', path: `/graphql?query=${encodeURIComponent('{ me { id } }')}&extensions=${encodeURIComponent(JSON.stringify(extensions))}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'apollo-require-preflight': 'true' }, refuse: true });
    expect(got.status).toBe(400);
    expect(JSON.parse(got.text).errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('a bad DateTime, as a variable or a literal, is BAD_USER_INPUT without the value in the message', async () => {
    const query = 'query($c: CheckpointInput) { verifyTransferLog(insurerCode: "EXCHANGE", checkpoint: $c) { valid } }';
    const checkpoint = { insurerCode: 'EXCHANGE', seq: 1, headHash: 'h', publicKey: 'k', signature: 's', signedAt: "13800138000'); drop table x; --" };
    const asVariable = await app.gql(ADMIN_TOKEN, query, { c: checkpoint });
    const asLiteral = await app.gql(ADMIN_TOKEN, `{ verifyTransferLog(insurerCode: "EXCHANGE", checkpoint: { insurerCode: "EXCHANGE", seq: 1, headHash: "h", publicKey: "k", signature: "s", signedAt: "13800138000" }) { valid } }`);
    for (const result of [asVariable, asLiteral]) {
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.message).toMatch(/DateTime must be an ISO 8601 instant/);
      expect(JSON.stringify(result)).not.toMatch(/13800138000|drop table/);
    }
    expect((await app.gql(ADMIN_TOKEN, query, { c: { ...checkpoint, signedAt: '2026-01-31T08:00:00.000Z' } })).errors?.[0]?.extensions?.code).not.toBe('BAD_USER_INPUT');
  });

  it('in process (no HTTP), a persistedQuery extension is BAD_USER_INPUT too', async () => {
    const response = await app.server.apollo.executeOperation({ query: '{ me { id } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'abc' } } }, { contextValue: await app.server.contextFor(ADMIN_TOKEN) });
    expect(response.body.kind === 'single' && response.body.singleResult.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
