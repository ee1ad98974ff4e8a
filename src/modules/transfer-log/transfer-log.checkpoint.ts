import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../../domain/canonical-json';
import { isHash } from '../../domain/hash-chain';

/** A checkpoint as a partner keeps it (and hands back to verifyTransferLog). */
export interface CheckpointClaim {
  insurerCode: string;
  seq: number;
  headHash: string;
  signedAt: Date;
  /** base64 DER SubjectPublicKeyInfo of the Ed25519 key that signed it. */
  publicKey: string;
  /** base64 Ed25519 signature over {@link checkpointPayload}. */
  signature: string;
}

/**
 * The exact bytes signed: UTF-8 of the canonical JSON (src/domain/canonical-json.ts) of
 * `{ headHash, insurerCode, insurerId, seq, signedAt }` with `signedAt` as
 * ISO 8601 UTC with milliseconds. Anyone holding the public key can check it:
 * `crypto.verify(null, Buffer.from(payload), publicKey, Buffer.from(signature, 'base64'))`.
 */
export function checkpointPayload(insurerId: string, claim: Pick<CheckpointClaim, 'insurerCode' | 'seq' | 'headHash' | 'signedAt'>): string {
  return canonicalJson({ insurerId, insurerCode: claim.insurerCode, seq: claim.seq, headHash: claim.headHash, signedAt: claim.signedAt });
}

/** Reads the configured key: PKCS#8 PEM, or base64 of PKCS#8 DER. */
export function parsePrivateKey(text: string): KeyObject {
  const key = text.includes('-----BEGIN')
    ? createPrivateKey({ key: text, format: 'pem' })
    : createPrivateKey({ key: Buffer.from(text.trim(), 'base64'), format: 'der', type: 'pkcs8' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('the checkpoint signing key must be an Ed25519 key');
  return key;
}

/** base64 DER SPKI of a public key. */
export function exportPublicKey(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'der' }).toString('base64');
}

/** Ed25519 signing and checking of transfer-log checkpoints with the exchange's key (issue 3, item 5). */
export class CheckpointSigner {
  private readonly privateKey: KeyObject;
  /** base64 DER SPKI of the current signing key. */
  readonly publicKey: string;

  constructor(signingKey: string) {
    this.privateKey = parsePrivateKey(signingKey);
    this.publicKey = exportPublicKey(createPublicKey(this.privateKey));
  }

  sign(insurerId: string, claim: Pick<CheckpointClaim, 'insurerCode' | 'seq' | 'headHash' | 'signedAt'>): CheckpointClaim {
    const signature = sign(null, Buffer.from(checkpointPayload(insurerId, claim), 'utf8'), this.privateKey).toString('base64');
    return { insurerCode: claim.insurerCode, seq: claim.seq, headHash: claim.headHash, signedAt: claim.signedAt, publicKey: this.publicKey, signature };
  }

  isCurrentKey(publicKey: string): boolean {
    return publicKey.replace(/\s+/g, '') === this.publicKey;
  }

  /** Whether `claim.signature` is a valid signature of `claim.publicKey` over the payload (never throws). */
  verify(insurerId: string, claim: CheckpointClaim): boolean {
    try {
      if (!Number.isSafeInteger(claim.seq) || claim.seq < 0 || !isHash(claim.headHash)) return false;
      const key = createPublicKey({ key: Buffer.from(claim.publicKey, 'base64'), format: 'der', type: 'spki' });
      if (key.asymmetricKeyType !== 'ed25519') return false;
      return verify(null, Buffer.from(checkpointPayload(insurerId, claim), 'utf8'), key, Buffer.from(claim.signature, 'base64'));
    } catch {
      return false;
    }
  }
}
