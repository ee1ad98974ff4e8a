/**
 * Hash chain of the transfer log (contract README "Writes"; DOMAIN.md: the
 * transfer policy asks for access control and audit). Each entry's hash is
 *
 *     hash = lower-hex SHA-256( UTF-8( prevHash + canonicalJson(content) ) )
 *
 * where `prevHash` is the previous entry's hash as 64 lower-case hex
 * characters (`GENESIS_HASH` for the first entry of a chain) and `content`
 * is the entry without its `prevHash` and `hash` fields (see
 * `chainContent`), serialised by `canonical-json.ts`.
 */
import { canonicalJson } from './canonical-json';
import { sha256Hex } from './sha256';

/** `prevHash` of the first entry of every chain: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

const HEX64 = /^[0-9a-f]{64}$/;

/** True for 64 lower-case hex characters. */
export function isHash(value: unknown): value is string {
  return typeof value === 'string' && HEX64.test(value);
}

/**
 * `sha256hex(prevHash + canonicalJson(content))`. `content` is hashed as
 * given: pass the entry without `prevHash` and `hash` (`chainContent`).
 * Throws a TypeError when `prevHash` is not 64 lower-case hex characters.
 */
export function entryHash(prevHash: string, content: unknown): string {
  if (!isHash(prevHash)) throw new TypeError('entryHash: prevHash must be 64 lower-case hex characters');
  return sha256Hex(prevHash + canonicalJson(content));
}

/**
 * A stored chain entry: its position, link and hash. The entry object passed
 * to the verifier carries its other (hashed) fields as well.
 */
export interface ChainEntry {
  seq: number;
  prevHash: string;
  hash: string;
}

/** The hashed part of an entry: every field except `prevHash` and `hash` (so `seq` is hashed). */
export function chainContent<T extends { prevHash?: unknown; hash?: unknown }>(entry: T): Omit<T, 'prevHash' | 'hash'> {
  const { prevHash: _p, hash: _h, ...content } = entry;
  return content;
}

/** Links `content` (which must hold `seq`) after `prevHash`: the entry to store. */
export function sealEntry<T extends { seq: number }>(prevHash: string, content: T): T & { prevHash: string; hash: string } {
  return { ...content, prevHash, hash: entryHash(prevHash, content) };
}

export type ChainFailure = 'SEQ' | 'PREV_HASH' | 'HASH';

export interface ChainVerification {
  valid: boolean;
  /** Entries examined: all of them when valid, up to and including the first bad one otherwise. */
  checked: number;
  /** `seq` of the first entry whose seq, prevHash or hash does not match; `null` when valid. */
  firstInvalidSeq: number | null;
  /** What failed at `firstInvalidSeq`. */
  failure: ChainFailure | null;
  /** Hash of the last entry that verified; `null` when none did. */
  headHash: string | null;
}

export interface ChainVerifyOptions {
  /** Expected `seq` of the first entry; default: whatever it is (each next one must be +1). */
  startSeq?: number;
}

/**
 * Incremental verifier, for logs read page by page: `push` each entry in
 * `seq` order; it stops accepting at the first bad one. `result()` reports.
 */
export class ChainVerifier {
  private prevHash: string;
  private nextSeq: number | undefined;
  private checked = 0;
  private headHash: string | null = null;
  private failedAt: { seq: number; failure: ChainFailure } | null = null;

  constructor(startPrevHash: string = GENESIS_HASH, options: ChainVerifyOptions = {}) {
    this.prevHash = startPrevHash;
    this.nextSeq = options.startSeq;
  }

  /** Checks one entry; returns false once the chain is broken (this entry or an earlier one). */
  push(entry: ChainEntry): boolean {
    if (this.failedAt) return false;
    this.checked += 1;
    let failure: ChainFailure | null = null;
    if (!Number.isSafeInteger(entry.seq) || (this.nextSeq !== undefined && entry.seq !== this.nextSeq)) {
      failure = 'SEQ';
    } else if (entry.prevHash !== this.prevHash) {
      failure = 'PREV_HASH';
    } else if (!isHash(entry.prevHash) || entryHash(entry.prevHash, chainContent(entry)) !== entry.hash) {
      failure = 'HASH';
    }
    if (failure) {
      this.failedAt = { seq: entry.seq, failure };
      return false;
    }
    this.prevHash = entry.hash;
    this.headHash = entry.hash;
    this.nextSeq = entry.seq + 1;
    return true;
  }

  result(): ChainVerification {
    return {
      valid: this.failedAt === null,
      checked: this.checked,
      firstInvalidSeq: this.failedAt?.seq ?? null,
      failure: this.failedAt?.failure ?? null,
      headHash: this.headHash,
    };
  }
}

/**
 * Verifies entries in the order given (ascending `seq`) from `startPrevHash`
 * (`GENESIS_HASH` for a whole chain, a checkpoint's hash otherwise): each
 * entry's `seq` must follow the previous one's, its `prevHash` must equal the
 * previous hash, and its `hash` must be `entryHash(prevHash, chainContent(entry))`.
 * Detects edited, deleted, inserted and reordered entries. Deleting the last
 * entries is only seen against a head checkpoint kept elsewhere.
 */
export function verifyChain(
  entries: Iterable<ChainEntry>,
  startPrevHash: string = GENESIS_HASH,
  options: ChainVerifyOptions = {},
): ChainVerification {
  const verifier = new ChainVerifier(startPrevHash, options);
  for (const entry of entries) if (!verifier.push(entry)) break;
  return verifier.result();
}
