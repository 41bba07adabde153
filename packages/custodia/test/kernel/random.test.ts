import { describe, expect, it } from 'vitest';
import { secureRandom, seededRandom, uuidV4 } from '../../src/kernel/index.js';

describe('seededRandom', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    expect(seededRandom(1).bytes(40)).toEqual(seededRandom(1).bytes(40));
    expect(seededRandom(1).bytes(40)).not.toEqual(seededRandom(2).bytes(40));
  });
  it('streams: two reads equal one read of the same total length', () => {
    const a = seededRandom('s');
    const b = seededRandom('s');
    expect(Buffer.concat([a.bytes(7), a.bytes(50)])).toEqual(b.bytes(57));
  });
});

describe('uuidV4', () => {
  it('sets the RFC 9562 version and variant bits', () => {
    const r = seededRandom(3);
    for (let i = 0; i < 100; i++) {
      expect(uuidV4(r)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });
});

describe('secureRandom (pooled)', () => {
  it('hands out fresh, unshared bytes of any size, across pool refills', () => {
    const seen = new Set<string>();
    const outs: Buffer[] = [];
    for (let i = 0; i < 5_000; i++) {
      const b = secureRandom.bytes(12);
      expect(b).toHaveLength(12);
      seen.add(b.toString('hex'));
      outs.push(b);
    }
    expect(seen.size).toBe(5_000);
    // Copies, not views of the pool: later draws (and refills) do not change earlier ones.
    const first = Buffer.from(outs[0]!);
    for (let i = 0; i < 1_000; i++) secureRandom.bytes(200);
    expect(outs[0]).toEqual(first);
    for (const n of [0, 1, 255, 256, 4096, 10_000]) expect(secureRandom.bytes(n)).toHaveLength(n);
    expect(secureRandom.bytes(10_000).equals(Buffer.alloc(10_000))).toBe(false);
    expect(() => secureRandom.bytes(-1)).toThrow(RangeError);
  });

  it('looks uniform: every byte value turns up at about its expected rate', () => {
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 2_000; i++) for (const b of secureRandom.bytes(32)) counts[b]!++;
    // 64,000 bytes: 250 expected per value; 150 and 350 are over six standard deviations away.
    expect(Math.min(...counts)).toBeGreaterThan(150);
    expect(Math.max(...counts)).toBeLessThan(350);
  });
});
