import { canonicalJson } from '../../../src/domain/canonical-json';

describe('canonicalJson', () => {
  it('sorts keys recursively and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}',
    );
  });

  it('gives the same text whatever the insertion order', () => {
    const a = { seq: 1, operation: 'SUBMIT_SALES', fields: ['policyholder.phone'], at: new Date(0) };
    const b = { at: new Date(0), fields: ['policyholder.phone'], operation: 'SUBMIT_SALES', seq: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
  });

  it('sorts keys by UTF-16 code units (upper case before lower case, digits first)', () => {
    expect(canonicalJson({ b: 1, B: 2, a: 3, '1': 4, _: 5, é: 6, 中: 7 })).toBe('{"1":4,"B":2,"_":5,"a":3,"b":1,"é":6,"中":7}');
  });

  it('keeps array order', () => {
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson({})).toBe('{}');
  });

  it('drops undefined keys and keeps null', () => {
    expect(canonicalJson({ a: undefined, b: null, c: { d: undefined } })).toBe('{"b":null,"c":{}}');
  });

  it('writes dates as UTC ISO strings with milliseconds', () => {
    expect(canonicalJson(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)))).toBe('"2026-01-02T03:04:05.678Z"');
    expect(canonicalJson({ at: new Date('2026-01-02T11:04:05+08:00') })).toBe('{"at":"2026-01-02T03:04:05.000Z"}');
  });

  it('refuses an invalid date', () => {
    expect(() => canonicalJson(new Date('nope'))).toThrow(TypeError);
  });

  it('writes safe integers and refuses floats, NaN, Infinity and unsafe integers', () => {
    expect(canonicalJson([0, -0, 42, -7, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER])).toBe(
      '[0,0,42,-7,9007199254740991,-9007199254740991]',
    );
    for (const bad of [1.5, 0.1, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER + 1, 1e300]) {
      expect(() => canonicalJson({ n: bad })).toThrow(TypeError);
    }
    expect(() => canonicalJson({ a: [1, { b: 2.5 }] })).toThrow(/\$\.a\[1\]\.b/);
  });

  it('writes strings as JSON.stringify does', () => {
    for (const s of ['', 'plain', '测试甲', 'quote " and \\ backslash', 'tab\tnl\ncr\r', '\u0000\u001f\u007f', '\u2028\u2029', '😀', '\ud800']) {
      expect(canonicalJson(s)).toBe(JSON.stringify(s));
    }
    expect(canonicalJson({ 'k"ey': 'v' })).toBe('{"k\\"ey":"v"}');
  });

  it('writes booleans and null', () => {
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson(false)).toBe('false');
    expect(canonicalJson(null)).toBe('null');
  });

  it('accepts objects without prototype', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.b = 1;
    o.a = 2;
    expect(canonicalJson(o)).toBe('{"a":2,"b":1}');
  });

  it.each([
    ['undefined', undefined],
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['a bigint', BigInt(1)],
    ['a Map', new Map()],
    ['a Set', new Set()],
    ['a Buffer', Buffer.from('x')],
    ['a class instance', new (class Entry { a = 1; })()],
    ['an undefined array element', [1, undefined]],
    ['a nested function', { a: { f: () => 1 } }],
  ])('refuses %s', (_label, value) => expect(() => canonicalJson(value)).toThrow(TypeError));

  it('refuses cycles but accepts shared (acyclic) references', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: [shared] })).toBe('{"a":{"x":1},"b":[{"x":1}]}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cyclic/);
  });

  it('round-trips through JSON.parse to an equal value', () => {
    const value = { z: [1, 'two', null, { y: false }], a: '测试' };
    expect(JSON.parse(canonicalJson(value))).toEqual(value);
  });
});
