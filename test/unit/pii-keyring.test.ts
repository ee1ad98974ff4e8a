import { loadConfig } from '../../src/config';
import { makeResidentId } from '../../src/domain/resident-id';
import { PiiCipher, PiiDecryptError } from '../../src/modules/person/pii';

/**
 * The keyring a rotation runs with (issue 11 item 7): the current key seals,
 * older keys only open; a value is re-sealed once under the current key; the
 * blind-index key survives a change of data key only through its sealed copy.
 */
const K1 = Buffer.alloc(32, 1);
const K2 = Buffer.alloc(32, 2);
const K3 = Buffer.alloc(32, 3);
const ID = makeResidentId({ region: '110105', birthDate: '1980-05-20', sequence: 131 });

describe('PiiCipher keyring', () => {
  it('seals with the current key, opens values of every key it holds, and nothing else', () => {
    const old = new PiiCipher(K1);
    const ring = new PiiCipher(K2, [K1]);
    const sealedOld = old.encrypt(ID);
    expect(ring.keyIds).toEqual([ring.keyId, old.keyId]);
    expect(ring.canOpen(old.keyId)).toBe(true);
    expect(ring.canOpen(new PiiCipher(K3).keyId)).toBe(false);
    expect(ring.decrypt(sealedOld.value, sealedOld.keyId)).toBe(ID);
    expect(ring.encrypt(ID).keyId).toBe(ring.keyId);
    const resealed = ring.reseal(sealedOld.value, sealedOld.keyId);
    expect(resealed.keyId).toBe(ring.keyId);
    expect(new PiiCipher(K2).decrypt(resealed.value, resealed.keyId)).toBe(ID); // once: the clear value, not a sealed one
    expect(() => old.decrypt(resealed.value, resealed.keyId)).toThrow(PiiDecryptError);
  });

  it('keeps the blind index of the first key through its sealed copy; a data key alone indexes differently', () => {
    const first = new PiiCipher(K1);
    const wrapped = first.wrapIndexKey();
    expect(wrapped.startsWith(`${first.keyId}:v1:`)).toBe(true);
    expect(wrapped).not.toContain(Buffer.alloc(32, 1).toString('base64'));
    const ring = new PiiCipher(K2, [K1]);
    expect(ring.phoneIndex('13800001111')).not.toBe(first.phoneIndex('13800001111'));
    ring.useIndexKey(ring.unwrapIndexKey(wrapped));
    expect(ring.indexKeyId).toBe(first.indexKeyId);
    expect(ring.phoneIndex('13800001111')).toBe(first.phoneIndex('13800001111'));
    expect(ring.idIndex('RESIDENT_ID', ID)).toBe(first.idIndex('RESIDENT_ID', ID));
    // Re-wrapped under the new key, a cipher with the new key alone gets it back.
    const alone = new PiiCipher(K2);
    alone.useIndexKey(alone.unwrapIndexKey(ring.wrapIndexKey()));
    expect(alone.phoneIndex('13800001111')).toBe(first.phoneIndex('13800001111'));
    expect(() => new PiiCipher(K3).unwrapIndexKey(wrapped)).toThrow(PiiDecryptError);
    expect(() => alone.useIndexKey(Buffer.alloc(16))).toThrow(RangeError);
  });
});

describe('KEXIN_DATA_KEY_PREVIOUS', () => {
  const base = { KEXIN_DATA_KEY: K2.toString('base64') };
  it('is a comma-separated list of 32-byte base64 keys, empty when unset', () => {
    expect(loadConfig(base).previousDataKeys).toEqual([]);
    expect(loadConfig({ ...base, KEXIN_DATA_KEY_PREVIOUS: ` ${K1.toString('base64')} , ${K3.toString('base64')}` }).previousDataKeys).toEqual([K1, K3]);
  });
  it('names the variable and never echoes the value when a part is not a key', () => {
    const bad = 'c2hvcnQ=';
    expect(() => loadConfig({ ...base, KEXIN_DATA_KEY_PREVIOUS: `${K1.toString('base64')},${bad}` })).toThrow(/^KEXIN_DATA_KEY_PREVIOUS must be 32-byte keys encoded as base64, separated by commas$/);
  });
});
