/**
 * The stored-hash sequence (golang.org/x/mod/sumdb/tlog's scheme): a bijection between
 * sequence numbers and complete subtrees, in the order the tree builder reports them.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { storedHashCount, storedHashIndex, storedHashNode } from '../../src/ledger/stored-hash-index.js';
import { TreeBuilder } from '../../src/ledger/tree-builder.js';
import type { TreeNode } from '../../src/ledger/tree-math.js';
import { runs } from './seeded.js';

const malformed = expect.objectContaining({ code: 'ledger-invalid' });

describe('stored hash index', () => {
  it('numbers the nodes of a growing tree in append order', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map(storedHashNode)).toEqual([
      { level: 0, index: 0 },
      { level: 0, index: 1 },
      { level: 1, index: 0 },
      { level: 0, index: 2 },
      { level: 0, index: 3 },
      { level: 1, index: 1 },
      { level: 2, index: 0 },
    ]);
    expect([0, 1, 2, 3, 4, 5, 8].map(storedHashCount)).toEqual([0, 1, 3, 4, 7, 8, 15]);
  });

  it('is the order of TreeBuilder.onNode, and each size stores storedHashCount hashes', () => {
    const order: TreeNode[] = [];
    const tree = new TreeBuilder({ onNode: (node) => order.push(node) });
    for (let n = 1; n <= 1000; n++) {
      tree.append(Buffer.alloc(32, n));
      expect(order.length).toBe(storedHashCount(n));
    }
    order.forEach((node, i) => {
      expect(storedHashIndex(node)).toBe(i);
      expect(storedHashNode(i)).toEqual(node);
    });
  });

  test.prop([fc.integer({ min: 0, max: 2 ** 51 - 1 })], runs(500))('storedHashNode inverts storedHashIndex up to 2^51 leaves', (i) => {
    const node = storedHashNode(i);
    expect(storedHashIndex(node)).toBe(i);
    expect((node.index + 1) * 2 ** node.level).toBeLessThanOrEqual(2 ** 51);
  });

  test.prop([fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 2 ** 40 })], runs(500))('storedHashIndex is the count before the completing leaf, plus the level', (level, raw) => {
    const index = Math.floor(raw / 2 ** Math.max(0, level - 10));
    fc.pre((index + 1) * 2 ** level <= 2 ** 51);
    const last = (index + 1) * 2 ** level - 1;
    expect(storedHashIndex({ level, index })).toBe(storedHashCount(last) + level);
  });

  it('refuses nodes and indexes beyond 2^51 leaves or not integers', () => {
    expect(() => storedHashIndex({ level: 52, index: 0 })).toThrow(malformed);
    expect(() => storedHashIndex({ level: 0, index: -1 })).toThrow(malformed);
    expect(() => storedHashIndex({ level: 1.5, index: 0 })).toThrow(malformed);
    expect(() => storedHashNode(2 ** 52)).toThrow(malformed);
    expect(() => storedHashNode(-1)).toThrow(malformed);
    expect(() => storedHashCount(2 ** 51 + 1)).toThrow(malformed);
    expect(storedHashCount(2 ** 51)).toBe(2 ** 52 - 1);
  });
});
