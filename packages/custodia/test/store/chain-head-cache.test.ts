/**
 * The audit writer thread's chain heads (store/chain-head-cache.ts): remembered across
 * its own commits, looked up once per name, dropped when another connection committed
 * (data_version moved) or a transaction failed, and bounded.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ChainHeadCache } from '../../src/store/chain-head-cache.js';

describe('chain head cache', () => {
  it('looks a name up once, and then answers from what its own commits wrote', () => {
    const c = new ChainHeadCache();
    let lookups = 0;
    const store = (): unknown => (lookups++, 41);
    c.begin(7);
    expect(c.head('b:a', store)).toBe(41);
    expect(c.head('b:a', store)).toBe(41);
    expect(c.head('b:none', () => (lookups++, null))).toBeNull();
    c.committed([['b:a', 50, 0], ['b:none', 51, 0], ['b:a', 52, 0]]);
    c.begin(7);
    expect(c.head('b:a', store)).toBe(52);
    expect(c.head('b:none', store)).toBe(51);
    expect(lookups).toBe(2);
  });

  it('drops everything once another connection committed (data_version moved) or a transaction failed', () => {
    const c = new ChainHeadCache();
    c.begin(1);
    c.committed([['b:a', 5, 0]]);
    c.begin(2);
    expect(c.head('b:a', () => 9)).toBe(9);
    c.forget();
    c.begin(2);
    expect(c.head('b:a', () => 10)).toBe(10);
  });

  it('agrees with the store it stands in front of, whatever commits come from where (property)', () => {
    // A model store: MAX(idx) per name. Steps: the thread commits rows, or another connection does (and data_version moves).
    const step = fc.oneof(
      fc.record({ by: fc.constant('thread' as const), names: fc.array(fc.constantFrom('b:a', 'b:b', 'b:c', 'b:d'), { minLength: 1, maxLength: 4 }) }),
      fc.record({ by: fc.constant('other' as const), names: fc.array(fc.constantFrom('b:a', 'b:b', 'b:c', 'b:d'), { minLength: 1, maxLength: 4 }) }),
      fc.record({ by: fc.constant('failed' as const), names: fc.array(fc.constantFrom('b:a', 'b:b'), { minLength: 1, maxLength: 2 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.integer({ min: 1, max: 3 }), (steps, capacity) => {
        const store = new Map<string, number>();
        const c = new ChainHeadCache(capacity);
        let version = 0;
        let next = 0;
        for (const s of steps) {
          if (s.by === 'other') {
            for (const n of s.names) store.set(n, next++);
            version++;
            continue;
          }
          c.begin(version);
          for (const n of s.names) expect(c.head(n, () => store.get(n) ?? null)).toBe(store.get(n) ?? null);
          if (s.by === 'failed') {
            c.forget();
            continue;
          }
          const rows = s.names.map((n): [string, number, number] => [n, next++, 0]);
          for (const [n, i] of rows) store.set(n, i);
          c.committed(rows);
        }
      }),
    );
  });

  it('stays within its capacity', () => {
    const c = new ChainHeadCache(3);
    c.begin(0);
    c.committed([['a', 1, 0], ['b', 2, 0], ['c', 3, 0], ['d', 4, 0]]);
    expect(c.size).toBeLessThanOrEqual(3);
  });
});
