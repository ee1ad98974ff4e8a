/**
 * Pure parts of the transfer log: what exactly is hashed, the digest of a
 * change, and the decoding of stored rows. No I/O here.
 */
import { canonicalJson } from '../../domain/canonical-json';
import type { ChainEntry } from '../../domain/hash-chain';
import { sha256Hex } from '../../domain/sha256';

/**
 * The hashed content of one entry. Every stored column of `transfer_log`
 * except `prev_hash` and `hash` is in it, so editing any column breaks the
 * entry's hash:
 *
 *     hash = sha256hex( prevHash + canonicalJson({
 *       id, seq, insurerId, at, operation, outcome, errorCode,
 *       actorPrincipalId, actorOrganizationId, counterpartyId, agreementId,
 *       policyNos, fields, digest }) )
 *
 * - `id`, `insurerId`, `actorPrincipalId`, `actorOrganizationId`: UUID strings;
 *   `counterpartyId`, `agreementId`, `errorCode`: string or `null` (never absent).
 * - `seq`: integer, 1 for the first entry of a chain; `prevHash` of seq 1 is
 *   64 zeros (`GENESIS_HASH`).
 * - `at`: the instant as `toISOString()` (UTC, milliseconds), e.g. "2026-01-02T03:04:05.678Z".
 * - `outcome`: "OK" or "REFUSED".
 * - `policyNos`, `fields`: arrays of strings, in the stored order (`policyNos`
 *   is stored as rows of `transfer_log_policy`, its order in their `ord`).
 * - `digest`: lower-hex SHA-256 of the canonical JSON of the change ({@link changeDigest}).
 *
 * canonicalJson is src/domain/canonical-json.ts (sorted keys, no whitespace,
 * no floats). A line of `verify-log --export` is exactly this object plus
 * `prevHash` and `hash`, so `hash` can be recomputed from the line alone.
 */
export interface ChainContent {
  id: string;
  seq: number;
  insurerId: string;
  at: Date | string;
  operation: string;
  outcome: string;
  errorCode: string | null;
  actorPrincipalId: string;
  actorOrganizationId: string;
  counterpartyId: string | null;
  agreementId: string | null;
  policyNos: string[] | string;
  fields: string[] | string;
  digest: string;
}

/**
 * The stored entry this module reads: the entity's properties (the hashed
 * content as stored, and its links) and the policy numbers rebuilt from its
 * `transfer_log_policy` rows in `ord` order (transfer-log.policies.ts).
 */
export type StoredEntry = Omit<ChainContent, 'at' | 'policyNos' | 'fields'> & {
  at: Date;
  policyNos: string[];
  fields: string;
  prevHash: string;
  hash: string;
};

/**
 * A stored JSON text array back to the array that was hashed. Text that is
 * not a JSON array of strings (an edited column) is returned as the raw
 * string, whose hash then cannot match: the entry is reported, not skipped.
 */
export function parseStringArray(text: string): string[] | string {
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  } catch {
    // fall through: an edited column
  }
  return text;
}

/** The entry as the chain verifier sees it: hashed content plus prevHash and hash. */
export function chainEntryOf(row: StoredEntry): ChainEntry & ChainContent {
  const at = row.at instanceof Date && !Number.isNaN(row.at.getTime()) ? row.at : String(row.at);
  return {
    id: row.id,
    seq: row.seq,
    insurerId: row.insurerId,
    at,
    operation: row.operation,
    outcome: row.outcome,
    errorCode: row.errorCode ?? null,
    actorPrincipalId: row.actorPrincipalId,
    actorOrganizationId: row.actorOrganizationId,
    counterpartyId: row.counterpartyId ?? null,
    agreementId: row.agreementId ?? null,
    policyNos: row.policyNos,
    fields: parseStringArray(row.fields),
    digest: row.digest,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

/** An exported line: the chain entry with `at` as its ISO string (canonical JSON of it is the line). */
export function exportLine(row: StoredEntry): string {
  return canonicalJson(chainEntryOf(row));
}

/**
 * The change made JSON-safe for canonicalJson, which accepts only plain
 * objects, arrays, strings, safe integers, booleans, null and Dates:
 * class instances (GraphQL input objects) become plain objects of their own
 * enumerable properties, other numbers (fractions such as sharePercent,
 * NaN, Infinity) and bigints become their decimal string, `undefined`
 * properties are left out and `undefined` array items become null, Buffers
 * become base64 strings, Map and Set become an object / an array.
 */
export function digestable(value: unknown, seen: Set<object> = new Set()): unknown {
  switch (typeof value) {
    case 'undefined':
      return null;
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isSafeInteger(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return null; // functions, symbols: not data
  }
  if (value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (seen.has(value)) throw new TypeError('transfer log: the change is cyclic');
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => digestable(item, seen));
    if (value instanceof Set) return [...value].map((item) => digestable(item, seen));
    const source: Array<[string, unknown]> = value instanceof Map ? [...value.entries()].map(([k, v]) => [String(k), v]) : Object.entries(value);
    const out: Record<string, unknown> = {};
    for (const [key, item] of source) if (item !== undefined) out[key] = digestable(item, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}

/** Lower-hex SHA-256 of the canonical JSON of the change (see {@link digestable}); `null` for no change. */
export function changeDigest(change: unknown): string {
  return sha256Hex(canonicalJson(digestable(change)));
}

/** Field paths such as `policyholder.phone`, `beneficiaries[0].idNumber`, `principal.roles`. */
const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?)*$/;

export function isFieldPath(value: string): boolean {
  return value.length <= 200 && FIELD_PATH.test(value);
}

/** Removes repeats, keeping the first occurrence's order. */
export function unique(values: readonly string[] | undefined): string[] {
  return [...new Set(values ?? [])];
}

/** Opaque Relay cursor for a log entry: its seq, base64url-encoded with a tag. */
export function encodeLogCursor(seq: number): string {
  return Buffer.from(`tl:${seq}`, 'utf8').toString('base64url');
}

/** The seq in a cursor made by {@link encodeLogCursor}, or null when it is not one. */
export function decodeLogCursor(cursor: string): number | null {
  const match = /^tl:(\d{1,10})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) return null;
  const seq = Number(match[1]);
  return Number.isSafeInteger(seq) ? seq : null;
}
