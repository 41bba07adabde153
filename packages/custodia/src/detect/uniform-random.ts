/**
 * Uniform numbers drawn from the kernel's `Random` (a byte source): doubles in [0, 1)
 * with 53 random bits, as `Math.random` promises but reproducible, and unbiased integers
 * below a bound by rejection (the method of Java's `Random.nextInt(bound)`).
 *
 * Bytes are fetched 4 KiB at a time, so a seeded source (SHA-256 in counter mode) costs
 * one hash per 32 bytes, not one call per number. The same seed gives the same numbers.
 */
import type { Random } from '../kernel/index.js';

const CHUNK = 4096;
const TWO_53 = 2 ** 53;

export class UniformRandom {
  readonly #source: Random;
  #pool: Buffer = Buffer.alloc(0);
  #at = 0;

  constructor(source: Random) {
    this.#source = source;
  }

  #uint32(): number {
    if (this.#at + 4 > this.#pool.length) {
      this.#pool = this.#source.bytes(CHUNK);
      this.#at = 0;
    }
    const v = this.#pool.readUInt32LE(this.#at);
    this.#at += 4;
    return v;
  }

  /**
   * A double in [0, 1) with 53 random bits.
   *
   * @example
   *   new UniformRandom(seededRandom(7)).next(); // the same number on every run
   */
  next(): number {
    const high = this.#uint32() >>> 11; // 21 bits
    const low = this.#uint32(); // 32 bits
    return (high * 2 ** 32 + low) / TWO_53;
  }

  /**
   * A double in the open interval (0, 1): never 0, so a split drawn in (min, max) never
   * lands on min.
   */
  nextOpen(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return u;
  }

  /**
   * An integer uniform in [0, bound), `bound` a positive integer below 2^32, without the
   * bias of `floor(u · bound)` or of a modulo.
   *
   * @example
   *   rng.below(6) + 1; // a fair die
   */
  below(bound: number): number {
    if (!Number.isInteger(bound) || bound < 1 || bound > 2 ** 32) throw new RangeError('bound must be an integer in [1, 2^32]');
    // Largest multiple of bound not above 2^32; values at or past it are redrawn.
    const limit = 2 ** 32 - (2 ** 32 % bound);
    let v = this.#uint32();
    while (v >= limit) v = this.#uint32();
    return v % bound;
  }
}
