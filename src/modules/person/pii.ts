import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { takeRandomBytes } from '../../db/ids';
import type { IdType } from '../../domain/enums';
import type { FactKey } from '../../domain/person-facts';
import { normalizePhone } from '../../domain/phone';
import { canonicalIdNumber, idTypeFamily } from '../../domain/resident-id';

/**
 * Personal data at rest (issue 4 item 2; JR/T 0171 puts ID numbers and mobile
 * numbers in the class to encrypt): ID numbers and phones are stored as
 * AES-256-GCM ciphertext and found through keyed blind indexes (HMAC-SHA256),
 * which is also what matching, duplicate detection and the shared-phone check
 * compare. Nothing outside the mapper that builds an API response decrypts.
 *
 * Keys: two sub-keys are derived from `KEXIN_DATA_KEY` with HKDF-SHA256, one
 * for encryption and one for the blind indexes, so neither use can weaken the
 * other. The key id stored beside every ciphertext is the first 8 hex
 * characters of SHA-256 of the encryption sub-key: decryption picks the key by
 * that id, so older keys (KEXIN_DATA_KEY_PREVIOUS) are kept for reading while
 * new values are written with the current one, and `npm run rotate-key`
 * re-seals the stored values under the current key.
 *
 * The blind-index key is not rotated with the data key: its values are
 * compared across rows (matching, the identity unique key, shared phones) and
 * kept where they cannot be rewritten (hash-chained transfer-log entries,
 * idempotency request hashes). It stays the one derived from the database's
 * first data key, and is kept in the database sealed under every data key in
 * use (exchange_key PII_INDEX_WRAP), so a start with only the new key after a
 * rotation still indexes as before ({@link PiiCipher.useIndexKey}).
 *
 * Stored form: `v1:` + base64(iv (12 bytes) | tag (16 bytes) | ciphertext).
 */

const HKDF_SALT = Buffer.from('kexin/pii/v1', 'utf8');
const ENC_INFO = Buffer.from('aes-256-gcm', 'utf8');
const INDEX_INFO = Buffer.from('hmac-sha256-blind-index', 'utf8');
const AAD = Buffer.from('kexin-pii-v1', 'utf8');
const PREFIX = 'v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export type BlindIndexKind = 'id' | 'phone';

/** A value sealed for storage, with the id of the key that sealed it. */
export interface Sealed {
  value: string;
  keyId: string;
}

interface KeyMaterial {
  keyId: string;
  encKey: Buffer;
  indexKey: Buffer;
}

function derive(dataKey: Buffer): KeyMaterial {
  if (!Buffer.isBuffer(dataKey) || dataKey.length !== 32) throw new RangeError('the data key must be 32 bytes');
  const encKey = Buffer.from(hkdfSync('sha256', dataKey, HKDF_SALT, ENC_INFO, 32));
  const indexKey = Buffer.from(hkdfSync('sha256', dataKey, HKDF_SALT, INDEX_INFO, 32));
  const keyId = createHash('sha256').update(encKey).digest('hex').slice(0, 8);
  return { keyId, encKey, indexKey };
}

/** Thrown when a stored value cannot be opened (unknown key id, tampered or malformed text). Holds no data. */
export class PiiDecryptError extends Error {
  constructor(reason: string) {
    super(`personal data could not be decrypted: ${reason}`);
    this.name = 'PiiDecryptError';
  }
}

/** Public identity of a blind-index key (first 8 hex characters of SHA-256 of it), recorded as exchange_key PII_INDEX. */
export function indexKeyIdOf(indexKey: Buffer): string {
  return createHash('sha256').update(Buffer.from('kexin/pii-index/v1\u0000', 'utf8')).update(indexKey).digest('hex').slice(0, 8);
}

export class PiiCipher {
  private readonly current: KeyMaterial;
  private readonly byId: Map<string, KeyMaterial>;
  private indexKey: Buffer;

  /**
   * `dataKey` seals new values; `olderKeys` (32 bytes each) can still open
   * what they sealed. The blind-index key is derived from `dataKey` until
   * {@link useIndexKey} gives the database's own.
   */
  constructor(dataKey: Buffer, olderKeys: readonly Buffer[] = []) {
    this.current = derive(dataKey);
    this.byId = new Map([this.current, ...olderKeys.map(derive)].map((k) => [k.keyId, k]));
    this.byId.set(this.current.keyId, this.current);
    this.indexKey = this.current.indexKey;
  }

  /** Id of the blind-index key in use (see {@link indexKeyIdOf}). */
  get indexKeyId(): string {
    return indexKeyIdOf(this.indexKey);
  }

  /** Indexes with `key` from now on: the database's blind-index key, unwrapped at start (checkDataKey) after a rotation. */
  useIndexKey(key: Buffer): void {
    if (!Buffer.isBuffer(key) || key.length !== 32) throw new RangeError('the index key must be 32 bytes');
    this.indexKey = Buffer.from(key);
  }

  /** The blind-index key sealed under the current data key: `keyId:sealed` (stored as exchange_key PII_INDEX_WRAP). */
  wrapIndexKey(): string {
    const sealed = this.encrypt(this.indexKey.toString('base64'));
    return `${sealed.keyId}:${sealed.value}`;
  }

  /** Opens what {@link wrapIndexKey} wrote (under any key this cipher can open); throws {@link PiiDecryptError} otherwise. */
  unwrapIndexKey(wrapped: string): Buffer {
    const at = wrapped.indexOf(':');
    const key = Buffer.from(this.decrypt(wrapped.slice(at + 1), wrapped.slice(0, at)), 'base64');
    if (at < 1 || key.length !== 32) throw new PiiDecryptError('not a wrapped index key');
    return key;
  }

  /** Id of the key new values are sealed with (stored in `key_id`). */
  get keyId(): string {
    return this.current.keyId;
  }

  /** Ids of every key this cipher can open values of (the current one first). */
  get keyIds(): string[] {
    return [this.current.keyId, ...[...this.byId.keys()].filter((id) => id !== this.current.keyId)];
  }

  /** Whether values sealed under `keyId` can be opened. */
  canOpen(keyId: string): boolean {
    return this.byId.has(keyId);
  }

  /** Opens a value sealed under any known key and seals it again under the current one (rotation). */
  reseal(stored: string, keyId: string): Sealed {
    return this.encrypt(this.decrypt(stored, keyId));
  }

  /** AES-256-GCM with a fresh random IV (cut from the pooled random bytes, never reused): the same text never seals to the same value twice. */
  encrypt(text: string): Sealed {
    const iv = takeRandomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.encKey, iv);
    cipher.setAAD(AAD);
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return { value: PREFIX + Buffer.concat([iv, tag, body]).toString('base64'), keyId: this.current.keyId };
  }

  /** Like {@link encrypt} for a nullable value. */
  encryptNullable(text: string | null | undefined): Sealed | null {
    return text === null || text === undefined ? null : this.encrypt(text);
  }

  /** Opens a value sealed by {@link encrypt} with the key `keyId`; throws {@link PiiDecryptError} otherwise. */
  decrypt(stored: string, keyId: string): string {
    const key = this.byId.get(keyId);
    if (!key) throw new PiiDecryptError('unknown key id');
    if (typeof stored !== 'string' || !stored.startsWith(PREFIX)) throw new PiiDecryptError('unknown format');
    const raw = Buffer.from(stored.slice(PREFIX.length), 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new PiiDecryptError('too short');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.encKey, raw.subarray(0, IV_BYTES));
      decipher.setAAD(AAD);
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new PiiDecryptError('authentication failed');
    }
  }

  /** Like {@link decrypt} for nullable columns: null when either is null. */
  decryptNullable(stored: string | null | undefined, keyId: string | null | undefined): string | null {
    if (stored === null || stored === undefined || keyId === null || keyId === undefined) return null;
    return this.decrypt(stored, keyId);
  }

  /**
   * HMAC-SHA256 (hex, 64 characters) of `kind` and an already canonical
   * value under the index key: deterministic for one key, unrelated
   * across keys and across kinds.
   */
  blindIndex(kind: BlindIndexKind, canonicalValue: string): string {
    return createHmac('sha256', this.indexKey).update(kind).update('\u0000').update(canonicalValue, 'utf8').digest('hex');
  }

  /**
   * Blind index of an identity document, `${idTypeFamily}:${canonicalIdNumber}`,
   * the key a person is matched by at an insurer (RESIDENT_ID and
   * HOUSEHOLD_REGISTER share one family; a 15-digit number is upgraded to 18).
   * Null without an ID type or number: such a person cannot be matched.
   */
  idIndex(idType: IdType | null | undefined, idNumber: string | null | undefined): string | null {
    if (!idType) return null;
    const canonical = canonicalIdNumber(idType, idNumber);
    return canonical === null ? null : this.blindIndex('id', `${idTypeFamily(idType)}:${canonical}`);
  }

  /**
   * Equality key of an ID number regardless of its type (the canonical number
   * alone), kept in a person's facts for the relationship checks, which
   * compare numbers also when a type is missing. Null when blank.
   */
  idNumberKey(idType: IdType | null | undefined, idNumber: string | null | undefined): string | null {
    const canonical = canonicalIdNumber(idType, idNumber);
    return canonical === null ? null : this.factKey('id', canonical);
  }

  /**
   * The keys of stored person facts (`personFacts(…, { key })`): `idKey` as
   * {@link idNumberKey}, `phoneKey` equal to {@link phoneIndex} (the
   * `phone_bidx` column), so facts compare with indexed columns directly.
   */
  readonly factKey: FactKey = (kind, canonicalValue) =>
    kind === 'phone' ? this.blindIndex('phone', canonicalValue) : this.blindIndex('id', `*:${canonicalValue}`);

  /** Blind index of a phone's canonical form (`normalizePhone`); null when nothing is left of it. */
  phoneIndex(phone: string | null | undefined): string | null {
    const canonical = normalizePhone(phone);
    return canonical === '' ? null : this.blindIndex('phone', canonical);
  }

  /** Constant-time comparison of two blind indexes. */
  static sameIndex(a: string | null | undefined, b: string | null | undefined): boolean {
    if (!a || !b || a.length !== b.length) return false;
    return timingSafeEqual(Buffer.from(a), Buffer.from(b));
  }
}
