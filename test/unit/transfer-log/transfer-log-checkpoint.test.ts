import { generateKeyPairSync, verify } from 'node:crypto';
import { GENESIS_HASH } from '../../../src/domain/hash-chain';
import { CheckpointSigner, checkpointPayload, parsePrivateKey } from '../../../src/modules/transfer-log/transfer-log.checkpoint';

const pem = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const INSURER_ID = '0190d6a8-0000-7000-8000-0000000000aa';
const claimBase = { insurerCode: 'LIFE_A', seq: 12, headHash: 'a'.repeat(64), signedAt: new Date(Date.UTC(2026, 4, 6, 7, 8, 9, 10)) };

describe('checkpoint signing', () => {
  it('signs the canonical payload, which anyone can check with the public key', () => {
    const signer = new CheckpointSigner(pem());
    const claim = signer.sign(INSURER_ID, claimBase);
    const payload = checkpointPayload(INSURER_ID, claim);
    expect(payload).toBe(
      `{"headHash":"${'a'.repeat(64)}","insurerCode":"LIFE_A","insurerId":"${INSURER_ID}","seq":12,"signedAt":"2026-05-06T07:08:09.010Z"}`,
    );
    const key = { key: Buffer.from(claim.publicKey, 'base64'), format: 'der' as const, type: 'spki' as const };
    expect(verify(null, Buffer.from(payload), key, Buffer.from(claim.signature, 'base64'))).toBe(true);
    expect(signer.verify(INSURER_ID, claim)).toBe(true);
    expect(signer.isCurrentKey(claim.publicKey)).toBe(true);
  });

  it('rejects any altered field, another insurer, another key and garbage', () => {
    const signer = new CheckpointSigner(pem());
    const claim = signer.sign(INSURER_ID, claimBase);
    expect(signer.verify(INSURER_ID, { ...claim, seq: 13 })).toBe(false);
    expect(signer.verify(INSURER_ID, { ...claim, headHash: 'b'.repeat(64) })).toBe(false);
    expect(signer.verify(INSURER_ID, { ...claim, insurerCode: 'LIFE_B' })).toBe(false);
    expect(signer.verify(INSURER_ID, { ...claim, signedAt: new Date(claim.signedAt.getTime() + 1) })).toBe(false);
    expect(signer.verify('0190d6a8-0000-7000-8000-0000000000ab', claim)).toBe(false);
    expect(signer.verify(INSURER_ID, { ...claim, signature: 'not base64 at all' })).toBe(false);
    expect(signer.verify(INSURER_ID, { ...claim, publicKey: 'AAAA' })).toBe(false);
    expect(signer.verify(INSURER_ID, { ...claim, seq: -1 })).toBe(false);
    expect(signer.verify(INSURER_ID, { ...claim, headHash: 'XYZ' })).toBe(false);
    const other = new CheckpointSigner(pem());
    expect(other.isCurrentKey(claim.publicKey)).toBe(false);
    // A signature by another key verifies against that key only: the caller must also check isCurrentKey.
    const forged = other.sign(INSURER_ID, claimBase);
    expect(signer.verify(INSURER_ID, forged)).toBe(true);
    expect(signer.isCurrentKey(forged.publicKey)).toBe(false);
  });

  it('reads PEM and base64 DER PKCS#8, and refuses keys that are not Ed25519', () => {
    const key = generateKeyPairSync('ed25519').privateKey;
    const der = key.export({ type: 'pkcs8', format: 'der' }).toString('base64');
    const fromPem = new CheckpointSigner(key.export({ type: 'pkcs8', format: 'pem' }).toString());
    expect(new CheckpointSigner(der).publicKey).toBe(fromPem.publicKey);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => parsePrivateKey(rsa)).toThrow(/Ed25519/);
  });

  it('an empty chain can be checkpointed at seq 0 with the genesis hash', () => {
    const signer = new CheckpointSigner(pem());
    expect(signer.verify(INSURER_ID, signer.sign(INSURER_ID, { ...claimBase, seq: 0, headHash: GENESIS_HASH }))).toBe(true);
  });
});
