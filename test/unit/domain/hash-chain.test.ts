import {
  chainContent,
  ChainEntry,
  ChainVerifier,
  entryHash,
  GENESIS_HASH,
  isHash,
  sealEntry,
  verifyChain,
} from '../../../src/domain/hash-chain';
import { canonicalJson } from '../../../src/domain/canonical-json';
import { sha256Hex } from '../../../src/domain/sha256';

interface LogEntry extends ChainEntry {
  extra?: string;
  seq: number;
  at: Date;
  operation: string;
  policyNos: string[];
}

/** Builds a valid chain of `n` entries starting at seq 1. */
function buildChain(n: number, start = GENESIS_HASH, firstSeq = 1): LogEntry[] {
  const entries: LogEntry[] = [];
  let prev = start;
  for (let i = 0; i < n; i++) {
    const seq = firstSeq + i;
    const entry = sealEntry(prev, {
      seq,
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)),
      operation: seq % 2 ? 'SUBMIT_SALES' : 'READ_PII',
      policyNos: [`P-${seq}`],
    });
    entries.push(entry);
    prev = entry.hash;
  }
  return entries;
}

describe('hashing', () => {
  it('GENESIS_HASH is 64 zeros', () => {
    expect(GENESIS_HASH).toBe('0'.repeat(64));
    expect(isHash(GENESIS_HASH)).toBe(true);
  });

  it('sha256Hex is lower-case hex SHA-256 of UTF-8', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('测试')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('entryHash is sha256(prevHash + canonicalJson(content))', () => {
    const content = { seq: 1, b: 'x', a: new Date(0) };
    expect(entryHash(GENESIS_HASH, content)).toBe(sha256Hex(GENESIS_HASH + canonicalJson(content)));
    expect(entryHash(GENESIS_HASH, content)).toBe(
      sha256Hex(`${'0'.repeat(64)}{"a":"1970-01-01T00:00:00.000Z","b":"x","seq":1}`),
    );
    expect(entryHash(GENESIS_HASH, { b: 'x', seq: 1, a: new Date(0) })).toBe(entryHash(GENESIS_HASH, content));
  });

  it('refuses a malformed prevHash and float content', () => {
    for (const bad of ['', '0'.repeat(63), 'A'.repeat(64), 'g'.repeat(64)]) {
      expect(() => entryHash(bad, { seq: 1 })).toThrow(TypeError);
    }
    expect(() => entryHash(GENESIS_HASH, { seq: 1, share: 0.5 })).toThrow(TypeError);
  });

  it('chainContent drops prevHash and hash only; sealEntry links', () => {
    const sealed = sealEntry(GENESIS_HASH, { seq: 1, operation: 'X' });
    expect(sealed.prevHash).toBe(GENESIS_HASH);
    expect(chainContent(sealed)).toEqual({ seq: 1, operation: 'X' });
    expect(sealed.hash).toBe(entryHash(GENESIS_HASH, { seq: 1, operation: 'X' }));
  });
});

describe('verifyChain', () => {
  it('accepts a valid chain and reports the head', () => {
    const chain = buildChain(5);
    expect(verifyChain(chain)).toEqual({ valid: true, checked: 5, firstInvalidSeq: null, failure: null, headHash: chain[4].hash });
    expect(verifyChain(chain, GENESIS_HASH, { startSeq: 1 }).valid).toBe(true);
  });

  it('accepts an empty chain', () => {
    expect(verifyChain([])).toEqual({ valid: true, checked: 0, firstInvalidSeq: null, failure: null, headHash: null });
  });

  it('verifies a tail from a checkpoint hash', () => {
    const chain = buildChain(6);
    expect(verifyChain(chain.slice(3), chain[2].hash, { startSeq: 4 })).toMatchObject({ valid: true, checked: 3 });
    expect(verifyChain(chain.slice(3), GENESIS_HASH)).toMatchObject({ valid: false, firstInvalidSeq: 4, failure: 'PREV_HASH' });
  });

  it('detects an edited entry', () => {
    const chain = buildChain(5);
    chain[2] = { ...chain[2], operation: 'EDITED' };
    expect(verifyChain(chain)).toEqual({ valid: false, checked: 3, firstInvalidSeq: 3, failure: 'HASH', headHash: chain[1].hash });
  });

  it('detects an edited date by one millisecond', () => {
    const chain = buildChain(3);
    chain[1] = { ...chain[1], at: new Date(chain[1].at.getTime() + 1) };
    expect(verifyChain(chain)).toMatchObject({ valid: false, firstInvalidSeq: 2, failure: 'HASH' });
  });

  it('detects an added field', () => {
    const chain = buildChain(3);
    chain[0] = { ...chain[0], extra: 'x' };
    expect(verifyChain(chain)).toMatchObject({ valid: false, firstInvalidSeq: 1, failure: 'HASH' });
  });

  it('detects an edited entry whose hash was recomputed, at the next entry', () => {
    const chain = buildChain(5);
    chain[2] = sealEntry(chain[2].prevHash, { ...chainContent(chain[2]), operation: 'EDITED' });
    expect(verifyChain(chain)).toMatchObject({ valid: false, checked: 4, firstInvalidSeq: 4, failure: 'PREV_HASH' });
  });

  it('detects a deleted entry in the middle', () => {
    const chain = buildChain(5);
    chain.splice(2, 1);
    expect(verifyChain(chain)).toMatchObject({ valid: false, firstInvalidSeq: 4, failure: 'SEQ' });
  });

  it('detects a deleted first entry', () => {
    const chain = buildChain(3).slice(1);
    expect(verifyChain(chain)).toMatchObject({ valid: false, firstInvalidSeq: 2, failure: 'PREV_HASH' });
    expect(verifyChain(chain, GENESIS_HASH, { startSeq: 1 })).toMatchObject({ valid: false, firstInvalidSeq: 2, failure: 'SEQ' });
  });

  it('detects a deleted entry even when the later seqs were renumbered', () => {
    const chain = buildChain(4);
    chain.splice(1, 1);
    chain[1] = { ...chain[1], seq: 2 };
    chain[2] = { ...chain[2], seq: 3 };
    expect(verifyChain(chain)).toMatchObject({ valid: false, firstInvalidSeq: 2, failure: 'PREV_HASH' });
  });

  it('detects swapped entries', () => {
    const chain = buildChain(5);
    [chain[1], chain[2]] = [chain[2], chain[1]];
    expect(verifyChain(chain)).toMatchObject({ valid: false, checked: 2, firstInvalidSeq: 3, failure: 'SEQ' });
  });

  it('detects swapped contents with seqs kept in place', () => {
    const chain = buildChain(4);
    const [a, b] = [chain[1], chain[2]];
    chain[1] = { ...b, seq: 2 };
    chain[2] = { ...a, seq: 3 };
    expect(verifyChain(chain)).toMatchObject({ valid: false, firstInvalidSeq: 2, failure: 'PREV_HASH' });
  });

  it('detects a duplicated entry and a tampered hash', () => {
    const chain = buildChain(3);
    expect(verifyChain([chain[0], chain[0], chain[1]])).toMatchObject({ valid: false, firstInvalidSeq: 1, failure: 'SEQ' });
    const tampered = buildChain(3);
    tampered[2] = { ...tampered[2], hash: 'f'.repeat(64) };
    expect(verifyChain(tampered)).toMatchObject({ valid: false, firstInvalidSeq: 3, failure: 'HASH', headHash: tampered[1].hash });
  });

  it('refuses a non-integer seq', () => {
    const chain = buildChain(2);
    chain[1] = { ...chain[1], seq: 2.5 };
    expect(verifyChain(chain)).toMatchObject({ valid: false, firstInvalidSeq: 2.5, failure: 'SEQ' });
  });

  it('cannot see deleted last entries on its own (a head checkpoint is needed)', () => {
    const chain = buildChain(5);
    const result = verifyChain(chain.slice(0, 3));
    expect(result.valid).toBe(true);
    expect(result.headHash).not.toBe(chain[4].hash);
  });
});

describe('ChainVerifier (page by page)', () => {
  it('gives the same answer as verifyChain across pages', () => {
    const chain = buildChain(7);
    const v = new ChainVerifier(GENESIS_HASH, { startSeq: 1 });
    for (const page of [chain.slice(0, 3), chain.slice(3, 6), chain.slice(6)]) for (const e of page) v.push(e);
    expect(v.result()).toEqual(verifyChain(chain));
  });

  it('stops at the first bad entry', () => {
    const chain = buildChain(4);
    chain[1] = { ...chain[1], operation: 'X' };
    const v = new ChainVerifier();
    expect(chain.map((e) => v.push(e))).toEqual([true, false, false, false]);
    expect(v.result()).toMatchObject({ checked: 2, firstInvalidSeq: 2 });
  });
});
