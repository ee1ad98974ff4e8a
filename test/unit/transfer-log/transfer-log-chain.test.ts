import { createHash } from 'node:crypto';
import { entryHash, GENESIS_HASH, verifyChain } from '../../../src/domain/hash-chain';
import {
  chainEntryOf,
  changeDigest,
  decodeLogCursor,
  digestable,
  encodeLogCursor,
  exportLine,
  isFieldPath,
  parseStringArray,
  unique,
  type StoredEntry,
} from '../../../src/modules/transfer-log/transfer-log.chain';

function stored(seq: number, prevHash: string, overrides: Partial<StoredEntry> = {}): StoredEntry {
  const base = {
    id: `0190d6a8-0000-7000-8000-00000000000${seq}`,
    insurerId: '0190d6a8-0000-7000-8000-0000000000aa',
    seq,
    at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)),
    operation: 'submitSales',
    outcome: 'OK',
    errorCode: null,
    actorPrincipalId: '0190d6a8-0000-7000-8000-0000000000bb',
    actorOrganizationId: '0190d6a8-0000-7000-8000-0000000000cc',
    counterpartyId: null,
    agreementId: null,
    policyNos: ['P-1'],
    fields: JSON.stringify(['policyholder.phone']),
    digest: changeDigest({ seq }),
    ...overrides,
  };
  const entry = chainEntryOf({ ...base, prevHash, hash: '' });
  const { prevHash: _p, hash: _h, ...content } = entry;
  return { ...base, prevHash, hash: entryHash(prevHash, content) };
}

describe('transfer log: hashed content', () => {
  it('hashes every column but prevHash and hash, with `at` as ISO UTC milliseconds', () => {
    const row = stored(1, GENESIS_HASH);
    const expected = createHash('sha256')
      .update(
        GENESIS_HASH +
          JSON.stringify({
            actorOrganizationId: row.actorOrganizationId,
            actorPrincipalId: row.actorPrincipalId,
            agreementId: null,
            at: '2026-01-02T03:04:05.678Z',
            counterpartyId: null,
            digest: row.digest,
            errorCode: null,
            fields: ['policyholder.phone'],
            id: row.id,
            insurerId: row.insurerId,
            operation: 'submitSales',
            outcome: 'OK',
            policyNos: ['P-1'],
            seq: 1,
          }),
      )
      .digest('hex');
    expect(row.hash).toBe(expected);
  });

  it('an exported line alone is enough to recompute its hash', () => {
    const a = stored(1, GENESIS_HASH);
    const b = stored(2, a.hash);
    const lines = [exportLine(a), exportLine(b)].map((l) => JSON.parse(l));
    expect(lines[1].prevHash).toBe(a.hash);
    expect(verifyChain(lines, GENESIS_HASH, { startSeq: 1 })).toMatchObject({ valid: true, checked: 2, headHash: b.hash });
    lines[0].fields = ['policyholder.name'];
    expect(verifyChain(lines)).toMatchObject({ valid: false, firstInvalidSeq: 1 });
  });

  it('an edited JSON array column (or one that is no longer an array of strings) breaks the hash instead of throwing', () => {
    const row = stored(1, GENESIS_HASH);
    for (const fields of ['not json', '{"a":1}', '[1,2]', '["policyholder.phone","insured.name"]']) {
      expect(verifyChain([chainEntryOf({ ...row, fields })])).toMatchObject({ valid: false, firstInvalidSeq: 1, failure: 'HASH' });
    }
    expect(verifyChain([chainEntryOf(row)]).valid).toBe(true);
  });

  it('policy numbers rebuilt with one more, one fewer or in another order break the hash', () => {
    const row = stored(1, GENESIS_HASH, { policyNos: ['P-1', 'P-2'] });
    for (const policyNos of [['P-1'], ['P-2', 'P-1'], ['P-1', 'P-2', 'P-3'], []]) {
      expect(verifyChain([chainEntryOf({ ...row, policyNos })])).toMatchObject({ valid: false, firstInvalidSeq: 1, failure: 'HASH' });
    }
    expect(verifyChain([chainEntryOf(row)]).valid).toBe(true);
  });

  it('parseStringArray returns arrays of strings and the raw text otherwise', () => {
    expect(parseStringArray('["a","b"]')).toEqual(['a', 'b']);
    expect(parseStringArray('[]')).toEqual([]);
    expect(parseStringArray('[1]')).toBe('[1]');
    expect(parseStringArray('')).toBe('');
  });
});

describe('transfer log: digest of a change', () => {
  class Input {
    name = 'x';
    share = 33.5;
    missing: string | undefined = undefined;
  }

  it('accepts class instances, fractions, bigints, Maps, Sets, Buffers and undefined without throwing', () => {
    const value = digestable({ input: new Input(), big: 10n, list: [1, undefined], map: new Map([['k', 1]]), set: new Set(['a']), buf: Buffer.from('hi'), fn: () => 1 });
    expect(value).toEqual({ input: { name: 'x', share: '33.5' }, big: '10', list: [1, null], map: { k: 1 }, set: ['a'], buf: 'aGk=', fn: null });
    expect(changeDigest(new Input())).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is the SHA-256 of the canonical JSON, independent of key order', () => {
    expect(changeDigest({ b: 1, a: [true, null] })).toBe(createHash('sha256').update('{"a":[true,null],"b":1}').digest('hex'));
    expect(changeDigest({ a: [true, null], b: 1 })).toBe(changeDigest({ b: 1, a: [true, null] }));
    expect(changeDigest(null)).toBe(createHash('sha256').update('null').digest('hex'));
    expect(changeDigest(undefined)).toBe(changeDigest(null));
    expect(changeDigest({ at: new Date(0) })).toBe(createHash('sha256').update('{"at":"1970-01-01T00:00:00.000Z"}').digest('hex'));
  });

  it('differs for different changes and refuses cycles', () => {
    expect(changeDigest({ phone: '13800000000' })).not.toBe(changeDigest({ phone: '13800000001' }));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => changeDigest(cyclic)).toThrow(TypeError);
    const shared = { a: 1 };
    expect(() => changeDigest({ x: shared, y: shared })).not.toThrow();
  });
});

describe('transfer log: field paths, cursors', () => {
  it.each(['policyholder.phone', 'beneficiaries[0].idNumber', 'principal.roles', 'insuredRelationship'])('%s is a field path', (path) => {
    expect(isFieldPath(path)).toBe(true);
  });

  it.each(['', '张三', 'policyholder phone', '13800000000', 'a..b', '.a', 'a[x]', 'x'.repeat(201)])('%s is not a field path', (path) => {
    expect(isFieldPath(path)).toBe(false);
  });

  it('unique keeps first occurrences in order', () => {
    expect(unique(['b', 'a', 'b', 'c', 'a'])).toEqual(['b', 'a', 'c']);
    expect(unique(undefined)).toEqual([]);
  });

  it('cursors round-trip and foreign strings are refused', () => {
    for (const seq of [0, 1, 42, 2_147_483_647]) expect(decodeLogCursor(encodeLogCursor(seq))).toBe(seq);
    expect(encodeLogCursor(7)).not.toContain('7');
    for (const bad of ['', 'abc', Buffer.from('tl:-1').toString('base64url'), Buffer.from('tl:1.5').toString('base64url'), Buffer.from('pc:1').toString('base64url')]) {
      expect(decodeLogCursor(bad)).toBeNull();
    }
  });
});
