/**
 * HMAC-SHA256 (RFC 2104 over FIPS 180-4 SHA-256) for blind indexes: many short messages
 * under one key, and every prefix of a value. Written here, not taken from node:crypto,
 * because that API has no cheap way to continue from a saved state: each prefix cost
 * three native hash objects (copy, copy, digest) and each `createHmac` re-keys, which
 * made blind indexing the largest cost of a sealed import (issue 4 benchmark). Here the
 * keyed pads are hashed once per key and each HMAC continues from those two states in
 * plain typed arrays, with no allocation per message.
 *
 * Outputs equal node:crypto's `createHmac('sha256', key)` for every key and message: a
 * property test checks that, besides the FIPS 180-4 and RFC 4231 vectors. Only blind
 * indexes use it; everything else in the vault hashes through node:crypto.
 */

/** FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
  0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
  0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
  0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
/** FIPS 180-4 §5.3.3: the initial hash value. */
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const BLOCK = 64;
const W = new Int32Array(64);

/** FIPS 180-4 §6.2.2: one compression of the 64-byte block at `block[at…]` into `h`. */
function compress(h: Int32Array, block: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++) {
    const j = at + i * 4;
    W[i] = (block[j]! << 24) | (block[j + 1]! << 16) | (block[j + 2]! << 8) | block[j + 3]!;
  }
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15]!;
    const y = W[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = h[0]!;
  let b = h[1]!;
  let c = h[2]!;
  let d = h[3]!;
  let e = h[4]!;
  let f = h[5]!;
  let g = h[6]!;
  let k = h[7]!;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (k + s1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    k = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + b) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
  h[4] = (h[4]! + e) | 0;
  h[5] = (h[5]! + f) | 0;
  h[6] = (h[6]! + g) | 0;
  h[7] = (h[7]! + k) | 0;
}

/** A SHA-256 computation in progress, which can be saved and continued (copyFrom). */
export class Sha256State {
  readonly #h = new Int32Array(IV);
  readonly #buf = new Uint8Array(BLOCK);
  #n = 0;
  #length = 0;

  copyFrom(other: Sha256State): this {
    this.#h.set(other.#h);
    this.#buf.set(other.#buf);
    this.#n = other.#n;
    this.#length = other.#length;
    return this;
  }

  update(bytes: Uint8Array, start = 0, end = bytes.length): this {
    let i = start;
    this.#length += end - start;
    if (this.#n > 0) {
      while (i < end && this.#n < BLOCK) this.#buf[this.#n++] = bytes[i++]!;
      if (this.#n < BLOCK) return this;
      compress(this.#h, this.#buf, 0);
      this.#n = 0;
    }
    for (; i + BLOCK <= end; i += BLOCK) compress(this.#h, bytes, i);
    while (i < end) this.#buf[this.#n++] = bytes[i++]!;
    return this;
  }

  /** FIPS 180-4 §5.1.1 padding, then the digest into `out[0…32)`. Leaves this state finished: copy before if it continues. */
  finishInto(out: Uint8Array): Uint8Array {
    const bits = this.#length * 8;
    this.#buf[this.#n++] = 0x80;
    if (this.#n > BLOCK - 8) {
      this.#buf.fill(0, this.#n);
      compress(this.#h, this.#buf, 0);
      this.#n = 0;
    }
    this.#buf.fill(0, this.#n, BLOCK - 8);
    const hi = Math.floor(bits / 0x100000000);
    const lo = bits >>> 0;
    this.#buf[56] = hi >>> 24;
    this.#buf[57] = hi >>> 16;
    this.#buf[58] = hi >>> 8;
    this.#buf[59] = hi;
    this.#buf[60] = lo >>> 24;
    this.#buf[61] = lo >>> 16;
    this.#buf[62] = lo >>> 8;
    this.#buf[63] = lo;
    compress(this.#h, this.#buf, 0);
    for (let i = 0; i < 8; i++) {
      const x = this.#h[i]!;
      out[i * 4] = x >>> 24;
      out[i * 4 + 1] = x >>> 16;
      out[i * 4 + 2] = x >>> 8;
      out[i * 4 + 3] = x;
    }
    return out;
  }
}

/**
 * HMAC-SHA256 under one key (RFC 2104 §2), with the states after `K ⊕ ipad` and
 * `K ⊕ opad` kept. Not re-entrant: one instance serves one synchronous caller at a time.
 */
export class HmacSha256 {
  readonly #inner = new Sha256State();
  readonly #outer = new Sha256State();
  readonly #work = new Sha256State();
  readonly #digest = new Uint8Array(32);

  constructor(key: Uint8Array) {
    // Keys longer than a block are hashed first (RFC 2104 §2); the vault's are 32 bytes.
    const k = new Uint8Array(BLOCK);
    k.set(key.length > BLOCK ? new Sha256State().update(key).finishInto(new Uint8Array(32)) : key);
    this.#inner.update(k.map((b) => b ^ 0x36));
    this.#outer.update(k.map((b) => b ^ 0x5c));
    k.fill(0);
  }

  /** A running inner hash, started with `prefix` (continue it with update, finish with {@link finishInto}). */
  begin(into: Sha256State, prefix: Uint8Array): Sha256State {
    return into.copyFrom(this.#inner).update(prefix);
  }

  /** The HMAC of what `inner` (from {@link begin}) has taken in so far, into `out`; `inner` itself is left as it was. */
  finishInto(inner: Sha256State, out: Uint8Array): Uint8Array {
    this.#work.copyFrom(inner).finishInto(this.#digest);
    return this.#work.copyFrom(this.#outer).update(this.#digest).finishInto(out);
  }

  /** HMAC-SHA256(key, message) into `out`. */
  macInto(message: Uint8Array, out: Uint8Array): Uint8Array {
    this.#work.copyFrom(this.#inner).update(message).finishInto(this.#digest);
    return this.#work.copyFrom(this.#outer).update(this.#digest).finishInto(out);
  }
}
