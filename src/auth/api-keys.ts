import { createHash, randomBytes } from 'node:crypto';

/** Prefix that makes a Kexin key recognisable in logs and secret scanners. */
const PREFIX = 'kx_';

/** A new API key: 32 random bytes, base64url. Shown once; only {@link hashApiKey} is stored. */
export function generateApiKey(): string {
  return PREFIX + randomBytes(32).toString('base64url');
}

/**
 * SHA-256 of the key. A fast hash is enough: the key holds 256 bits of
 * randomness, so there is nothing to brute-force, and lookups stay one indexed read.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The bearer credential of an `Authorization` header, or null when absent or malformed. */
export function bearerToken(header: string | undefined | null): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S{1,512})\s*$/i.exec(header);
  return match ? match[1]! : null;
}
