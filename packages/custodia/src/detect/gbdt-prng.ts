/**
 * A fast seeded generator for the sampling inside training (row bagging, feature
 * fractions, validation splits): xoshiro128** (Blackman & Vigna, "Scrambled linear
 * pseudorandom number generators", ACM TOMS 2021), whose 128-bit state is drawn once from
 * the kernel's injected {@link Random}. The kernel's seeded Random hashes SHA-256 per 32
 * bytes, far too slow for millions of draws, but it keeps one seed → one model.
 */
import type { Random } from '../kernel/index.js';

export interface Prng {
  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** A uniform number in [0, 1) with 32 bits of resolution. */
  nextFloat(): number;
}

/**
 * A xoshiro128** generator seeded from 16 bytes of `random`.
 *
 * @example
 *   const prng = seededPrng(seededRandom(7));
 *   prng.nextFloat(); // the same number for seed 7, every time
 */
export function seededPrng(random: Random): Prng {
  const seed = random.bytes(16);
  let a = seed.readUInt32LE(0);
  let b = seed.readUInt32LE(4);
  let c = seed.readUInt32LE(8);
  let d = seed.readUInt32LE(12);
  if ((a | b | c | d) === 0) a = 0x9e3779b9; // the all-zero state is a fixed point
  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  return { nextUint32, nextFloat: () => nextUint32() / 4294967296 };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Knuth's selection sampling (TAOCP vol. 2, §3.4.2, Algorithm S): exactly `m` of the
 * indexes `0 … n-1`, uniformly, returned in increasing order (so rows are then visited
 * in memory order).
 */
export function sampleSorted(prng: Prng, n: number, m: number): Uint32Array {
  const out = new Uint32Array(m);
  let chosen = 0;
  for (let i = 0; i < n && chosen < m; i++) {
    if ((n - i) * prng.nextFloat() < m - chosen) out[chosen++] = i;
  }
  return out;
}

/** Fisher–Yates shuffle in place (Knuth's Algorithm P). */
export function shuffle(prng: Prng, a: Uint32Array): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(prng.nextFloat() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}
