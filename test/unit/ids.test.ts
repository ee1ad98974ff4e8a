import { isId, newId, RANDOM_POOL_BYTES, takeRandomBytes } from '../../src/db/ids';

describe('pooled random bytes', () => {
  it('never hands out the same bytes twice, also across refills of the pool', () => {
    // 7-byte draws do not divide the pool: some draws meet its end and take a fresh pool.
    const draws = Array.from({ length: Math.ceil((3 * RANDOM_POOL_BYTES) / 7) }, () => takeRandomBytes(7));
    expect(draws.every((d) => d.length === 7)).toBe(true);
    expect(new Set(draws.map((d) => d.toString('hex'))).size).toBe(draws.length);
  });

  it('what one caller modifies is not seen by the next draw', () => {
    const a = takeRandomBytes(16);
    a.fill(0);
    const b = takeRandomBytes(16);
    expect(b.equals(Buffer.alloc(16))).toBe(false);
  });

  it('draws larger than the pool come straight from the operating system', () => {
    expect(takeRandomBytes(RANDOM_POOL_BYTES + 1)).toHaveLength(RANDOM_POOL_BYTES + 1);
  });
});

describe('newId', () => {
  it('makes 100,000 distinct UUIDv7s, strictly increasing, with version and variant bits set', () => {
    const ids = Array.from({ length: 100_000 }, () => newId());
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every(isId)).toBe(true);
    expect(ids.every((id) => id[14] === '7' && '89ab'.includes(id[19]!))).toBe(true);
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
  });
});
