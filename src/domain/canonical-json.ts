/**
 * Canonical JSON of the transfer-log hash chain (contract README "Writes":
 * `hash = sha256(prevHash || canonical entry)`). To recompute a hash from an
 * export, serialise each entry exactly like this:
 *
 * - `null` → `null`; `true` / `false` → `true` / `false`.
 * - Numbers: safe integers only (−(2^53−1) … 2^53−1), written in decimal
 *   without exponent, sign only when negative (`-0` is `0`). Fractions,
 *   NaN, ±Infinity and bigint are refused (the chain has no floats).
 * - Strings: exactly as ECMAScript `JSON.stringify` writes them: `"`, `\`
 *   and U+0000–U+001F escaped (`\b \f \n \r \t`, others `\u00XX` lower-case
 *   hex), lone surrogates as `\udXXX`, every other character as itself
 *   (non-ASCII is not escaped); the result is encoded as UTF-8.
 * - Date objects: the string of `toISOString()`, i.e. UTC with milliseconds,
 *   `"2026-01-02T03:04:05.678Z"`. An invalid Date is refused.
 * - Arrays: `[` elements in order, separated by `,` `]`; an `undefined`
 *   element is refused.
 * - Objects (plain only): `{` `"key":value` pairs separated by `,` `}` with
 *   keys sorted ascending by UTF-16 code units (JavaScript's default string
 *   sort, as in RFC 8785) recursively; keys whose value is `undefined` are
 *   left out; `null` values are kept.
 * - No whitespace anywhere outside strings.
 * - Anything else (functions, symbols, Map, Set, class instances, Buffers,
 *   cyclic structures) is refused with a TypeError.
 */

/** Serialises `value` in the canonical form described above; throws TypeError on what it refuses. */
export function canonicalJson(value: unknown): string {
  return write(value, new Set<object>(), '$');
}

function isDate(value: object): value is Date {
  return Object.prototype.toString.call(value) === '[object Date]';
}

/** Plain object: prototype is null or some realm's Object.prototype. */
function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

function write(value: unknown, ancestors: Set<object>, path: string): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw new TypeError(`canonicalJson: ${path} is not a safe integer`);
      return Object.is(value, -0) ? '0' : String(value);
    case 'object':
      break;
    default:
      throw new TypeError(`canonicalJson: ${path} has unsupported type ${typeof value}`);
  }
  if (value === null) return 'null';
  if (isDate(value)) {
    if (Number.isNaN(value.getTime())) throw new TypeError(`canonicalJson: ${path} is an invalid Date`);
    return JSON.stringify(value.toISOString());
  }
  if (ancestors.has(value)) throw new TypeError(`canonicalJson: ${path} is cyclic`);
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      return `[${value
        .map((item, i) => {
          if (item === undefined) throw new TypeError(`canonicalJson: ${path}[${i}] is undefined`);
          return write(item, ancestors, `${path}[${i}]`);
        })
        .join(',')}]`;
    }
    if (!isPlainObject(value)) throw new TypeError(`canonicalJson: ${path} is not a plain object`);
    const parts: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const item = value[key];
      if (item === undefined) continue;
      parts.push(`${JSON.stringify(key)}:${write(item, ancestors, `${path}.${key}`)}`);
    }
    return `{${parts.join(',')}}`;
  } finally {
    ancestors.delete(value);
  }
}
