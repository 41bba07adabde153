/**
 * The bounded walks the patch formats measure hostile values with: exact below the limit,
 * never far past it, and never recursing on a deep value.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { countNodes, nestsDeeperThan } from '../../../src/fhir/rest/json-extent.js';

/** The reference count: one per value, recursively. */
const nodes = (v: unknown): number => 1 + (typeof v === 'object' && v !== null ? (Array.isArray(v) ? v : Object.values(v)).reduce((s: number, c) => s + nodes(c), 0) : 0);
const depth = (v: unknown): number => (typeof v === 'object' && v !== null ? 1 + Math.max(0, ...(Array.isArray(v) ? v : Object.values(v)).map(depth)) : 0);

describe('countNodes', () => {
  it('counts every object, array and primitive, and stops one past the limit', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(200), (v, limit) => {
        expect(countNodes(v, Number.MAX_SAFE_INTEGER)).toBe(nodes(v));
        expect(countNodes(v, limit)).toBe(Math.min(nodes(v), limit + 1));
      }),
    );
    expect(countNodes({ resourceType: 'Patient', name: [{ given: ['a', 'b'] }] }, 100)).toBe(7);
  });

  it('walks a value nested far deeper than the stack would allow recursion', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(countNodes(deep, Number.MAX_SAFE_INTEGER)).toBe(200_001);
    expect(countNodes(deep, 10)).toBe(11);
    expect(nestsDeeperThan(deep, 100)).toBe(true);
  });
});

describe('nestsDeeperThan', () => {
  it('agrees with the depth of arrays and objects', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(8), (v, max) => {
        expect(nestsDeeperThan(v, max)).toBe(depth(v) > max);
      }),
    );
  });
});
