/**
 * The integer helpers are exact over every safe integer (JavaScript's bitwise operators
 * stop at 32 bits), checked against BigInt; compact ranges cover exactly, aligned and
 * maximal; outside sizes are refused unless they are non-negative safe integers.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { bitLength, checkTreeSize, largestPowerOfTwoBelow, nodeRange, popCount, rangeNodes, trailingZeros } from '../../src/ledger/tree-math.js';
import { runs } from './seeded.js';

const malformed = expect.objectContaining({ code: 'ledger-invalid' });
const safe = fc.oneof(fc.nat({ max: 1 << 20 }), fc.maxSafeNat(), fc.integer({ min: 0, max: 62 }).map((e) => Math.min(2 ** e, Number.MAX_SAFE_INTEGER)));

describe('tree arithmetic', () => {
  test.prop([safe], runs(500))('bitLength, popCount and trailingZeros match BigInt', (n) => {
    const b = BigInt(n);
    expect(bitLength(n)).toBe(b.toString(2).replace(/^0+/, '').length);
    expect(popCount(n)).toBe([...b.toString(2)].filter((c) => c === '1').length);
    expect(trailingZeros(n)).toBe(n === 0 ? 64 : b.toString(2).length - b.toString(2).replace(/0+$/, '').length);
  });

  it('is exact just around 2^32 and at the top of the safe range', () => {
    for (const n of [2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 52, Number.MAX_SAFE_INTEGER]) {
      expect(bitLength(n)).toBe(BigInt(n).toString(2).length);
    }
    expect(trailingZeros(2 ** 40)).toBe(40);
    expect(popCount(Number.MAX_SAFE_INTEGER)).toBe(53);
    expect(largestPowerOfTwoBelow(2 ** 40 + 1)).toBe(2 ** 40);
  });

  test.prop([fc.integer({ min: 2, max: Number.MAX_SAFE_INTEGER })], runs(300))('largestPowerOfTwoBelow(n) is the largest power of two < n (RFC 9162 §2.1.1)', (n) => {
    const k = largestPowerOfTwoBelow(n);
    expect(popCount(k)).toBe(1);
    expect(k < n && 2 * k >= n).toBe(true);
  });

  test.prop([fc.maxSafeNat(), fc.nat({ max: 5000 })], runs(300))('rangeNodes covers [begin, end) with aligned, maximal subtrees', (begin, length) => {
    const end = Math.min(begin + length, Number.MAX_SAFE_INTEGER);
    const nodes = rangeNodes(begin, end);
    let at = begin;
    for (const node of nodes) {
      const { start, end: stop } = nodeRange(node);
      expect(start).toBe(at);
      // maximal: the next larger aligned subtree at this start would not fit or is not aligned
      const width = stop - start;
      expect(start % (2 * width) !== 0 || start + 2 * width > end).toBe(true);
      at = stop;
    }
    expect(at).toBe(Math.max(begin, end));
    expect(nodes.length).toBeLessThanOrEqual(2 * 53);
  });

  it('gives the frontier of a tree size, one subtree per one bit, largest first', () => {
    expect(rangeNodes(0, 7)).toEqual([
      { level: 2, index: 0 },
      { level: 1, index: 2 },
      { level: 0, index: 6 },
    ]);
    expect(rangeNodes(0, 0)).toEqual([]);
    expect(rangeNodes(3, 8)).toEqual([
      { level: 0, index: 3 },
      { level: 2, index: 1 },
    ]);
  });

  it('refuses tree sizes and indexes that are not non-negative safe integers (attacker-controlled)', () => {
    expect(checkTreeSize(0, 'tree size')).toBe(0);
    expect(checkTreeSize(Number.MAX_SAFE_INTEGER, 'tree size')).toBe(Number.MAX_SAFE_INTEGER);
    for (const bad of [-1, 1.5, Number.NaN, Infinity, 2 ** 53, 2 ** 64, '3', 3n, null, undefined, {}]) {
      expect(() => checkTreeSize(bad, 'leaf index')).toThrow(malformed);
    }
  });
});
