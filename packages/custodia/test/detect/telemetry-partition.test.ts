/**
 * Partitioning telemetry by sender (detect/telemetry-partition.ts): FNV-1a against the
 * published test vectors (draft-eastlake-fnv, "FNV-1a" 32-bit: "", "a", "foobar"), the
 * sender key a device's records share, and the shares the scorers compute each on its own:
 * they sum to the partitions, differ by at most one, and every member computes the same.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fnv1a32, partitionOf, partitionShare, senderKey } from '../../src/detect/index.js';

describe('telemetry partitions', () => {
  it('hashes with FNV-1a 32 as the FNV test vectors give it, over UTF-8 bytes', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    // Non-ASCII goes as UTF-8 bytes, not UTF-16 code units (a publisher in another language hashes the same bytes).
    expect(fnv1a32('é')).toBe(0x1e9de8c1); // bytes C3 A9; over the code unit E9 it would be 0x6c0b6c44
    expect(partitionOf('mac:02:00:00:00:10:01', 8)).toBe(0xb7da6816 % 8);
  });

  it('groups a device by its MAC when the record carries one, else by its address', () => {
    expect(senderKey({ origMac: '02:00:00:00:10:01', origAddr: '10.0.1.1' })).toBe('mac:02:00:00:00:10:01');
    expect(senderKey({ origAddr: '10.0.1.1', respMac: '02:00:00:00:10:02' })).toBe('ip:10.0.1.1');
    expect(senderKey({ respAddr: '10.0.1.1' })).toBeUndefined();
  });

  it('puts every key in a partition below the count, the same one every time', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.integer({ min: 1, max: 256 }), (key, p) => {
        const k = partitionOf(key, p);
        expect(Number.isInteger(k) && k >= 0 && k < p).toBe(true);
        expect(partitionOf(key, p)).toBe(k);
      }),
    );
  });

  it('divides the partitions among the members: shares sum to the count and differ by at most one, whoever computes them', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 256 }), fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 40 }), (p, members) => {
        const shares = members.map((m) => partitionShare(p, members, m));
        expect(shares.reduce((a, b) => a + b, 0)).toBe(p);
        expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
        // The order a member lists the others in changes nothing.
        const shuffled = [...members].reverse();
        expect(members.map((m) => partitionShare(p, shuffled, m))).toEqual(shares);
      }),
    );
    expect(partitionShare(8, ['b', 'a', 'c'], 'a')).toBe(3);
    expect(partitionShare(8, ['b', 'a', 'c'], 'c')).toBe(2);
    expect(partitionShare(8, ['a'], 'z')).toBe(0); // not a member: nothing
  });
});
