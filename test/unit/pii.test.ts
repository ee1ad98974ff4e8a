import { randomBytes } from 'node:crypto';
import { makeResidentId } from '../../src/domain/resident-id';
import { PiiCipher, PiiDecryptError } from '../../src/modules/person/pii';

const KEY_A = Buffer.alloc(32, 1);
const KEY_B = Buffer.alloc(32, 2);
const ID = makeResidentId({ region: '110105', birthDate: '1980-05-20', sequence: 131 });

describe('PiiCipher: AES-256-GCM at rest', () => {
  const cipher = new PiiCipher(KEY_A);

  it('round-trips text, CJK and the empty string; the same text never seals twice alike', () => {
    for (const text of [ID, '13800001111', '测试路1号', '', '𠀀 four-byte']) {
      const sealed = cipher.encrypt(text);
      expect(sealed.value).toMatch(/^v1:[A-Za-z0-9+/]+=*$/);
      expect(sealed.keyId).toBe(cipher.keyId);
      expect(cipher.decrypt(sealed.value, sealed.keyId)).toBe(text);
    }
    expect(cipher.encrypt(ID).value).not.toBe(cipher.encrypt(ID).value);
    expect(cipher.encrypt(ID).value).not.toContain(ID);
    expect(cipher.encryptNullable(null)).toBeNull();
    expect(cipher.decryptNullable(null, cipher.keyId)).toBeNull();
  });

  it('seals with a distinct IV every time (10,000 seals of one value, IVs drawn from the pooled random bytes)', () => {
    const ivs = Array.from({ length: 10_000 }, () => Buffer.from(cipher.encrypt(ID).value.slice(3), 'base64').subarray(0, 12).toString('hex'));
    expect(new Set(ivs).size).toBe(ivs.length);
  });

  it('refuses tampered ciphertext, tag or IV, and malformed values, without showing any data', () => {
    const { value, keyId } = cipher.encrypt(ID);
    const raw = Buffer.from(value.slice(3), 'base64');
    for (const position of [0, 12, 20, raw.length - 1]) {
      const bad = Buffer.from(raw);
      bad[position] = bad[position]! ^ 0x01;
      expect(() => cipher.decrypt(`v1:${bad.toString('base64')}`, keyId)).toThrow(PiiDecryptError);
    }
    expect(() => cipher.decrypt(`v1:${raw.subarray(0, raw.length - 1).toString('base64')}`, keyId)).toThrow(PiiDecryptError);
    expect(() => cipher.decrypt('v1:AAAA', keyId)).toThrow(PiiDecryptError);
    expect(() => cipher.decrypt(ID, keyId)).toThrow(PiiDecryptError);
    try {
      cipher.decrypt(`v2:${raw.toString('base64')}`, keyId);
    } catch (error) {
      expect((error as Error).message).not.toContain(ID);
    }
  });

  it('refuses an unknown key id and a value sealed under another key; an older key kept for reading still opens its values', () => {
    const other = new PiiCipher(KEY_B);
    const sealedByB = other.encrypt(ID);
    expect(other.keyId).not.toBe(cipher.keyId);
    expect(() => cipher.decrypt(sealedByB.value, sealedByB.keyId)).toThrow(PiiDecryptError); // unknown key id
    expect(() => cipher.decrypt(sealedByB.value, cipher.keyId)).toThrow(PiiDecryptError); // wrong key
    const rotated = new PiiCipher(KEY_A, [KEY_B]);
    expect(rotated.keyId).toBe(cipher.keyId);
    expect(rotated.decrypt(sealedByB.value, sealedByB.keyId)).toBe(ID);
    expect(rotated.encrypt('x').keyId).toBe(cipher.keyId);
  });

  it('derives the key id from the key (8 hex characters) and refuses keys that are not 32 bytes', () => {
    expect(cipher.keyId).toMatch(/^[0-9a-f]{8}$/);
    expect(new PiiCipher(Buffer.from(KEY_A)).keyId).toBe(cipher.keyId);
    expect(() => new PiiCipher(randomBytes(16))).toThrow(RangeError);
  });
});

describe('PiiCipher: blind indexes', () => {
  const a = new PiiCipher(KEY_A);
  const b = new PiiCipher(KEY_B);

  it('are deterministic per key, different across keys and across kinds, and hide the value', () => {
    expect(a.blindIndex('id', ID)).toBe(new PiiCipher(Buffer.from(KEY_A)).blindIndex('id', ID));
    expect(a.blindIndex('id', ID)).toMatch(/^[0-9a-f]{64}$/);
    expect(a.blindIndex('id', ID)).not.toBe(b.blindIndex('id', ID));
    expect(a.blindIndex('id', '13800001111')).not.toBe(a.blindIndex('phone', '13800001111'));
    expect(a.blindIndex('id', ID)).not.toContain(ID);
  });

  it('index an ID number by type family and canonical number, a phone by its canonical form', () => {
    const legacy = `${ID.slice(0, 6)}${ID.slice(8, 17)}`;
    expect(a.idIndex('RESIDENT_ID', ID)).toBe(a.idIndex('HOUSEHOLD_REGISTER', ` ${ID.toLowerCase()} `));
    expect(a.idIndex('RESIDENT_ID', legacy)).toBe(a.idIndex('RESIDENT_ID', ID));
    expect(a.idIndex('PASSPORT', 'E12345678')).not.toBe(a.idIndex('OTHER', 'E12345678'));
    expect(a.idIndex(null, ID)).toBeNull();
    expect(a.idIndex('RESIDENT_ID', '  ')).toBeNull();
    expect(a.phoneIndex('+86 138-0000-1111')).toBe(a.phoneIndex('13800001111'));
    expect(a.phoneIndex('0086 13800001111')).toBe(a.phoneIndex('8613800001111'));
    expect(a.phoneIndex('13800001112')).not.toBe(a.phoneIndex('13800001111'));
    expect(a.phoneIndex(' - ')).toBeNull();
    // Fact keys agree with the phone column and compare numbers across types.
    expect(a.factKey('phone', '13800001111')).toBe(a.phoneIndex('13800001111'));
    expect(a.idNumberKey(null, ID)).toBe(a.idNumberKey('PASSPORT', ID));
    expect(a.idNumberKey('RESIDENT_ID', ID)).not.toBe(a.idIndex('RESIDENT_ID', ID));
    expect(PiiCipher.sameIndex(a.phoneIndex('13800001111'), a.phoneIndex('+8613800001111'))).toBe(true);
    expect(PiiCipher.sameIndex(a.phoneIndex('13800001111'), null)).toBe(false);
  });
});
