import { createHash, randomFillSync } from 'node:crypto';

/** The one source of randomness. Inject it; seed it in tests. */
export interface Random {
  bytes(n: number): Buffer;
}

const POOL_BYTES = 4096;
/** Requests this large or larger skip the pool. */
const POOLED_MAX = 256;

/**
 * Cryptographically secure randomness from the operating system (OpenSSL's CSPRNG, as
 * `crypto.randomBytes`). Small requests — a nonce per sealed version, a data key per
 * patient — are served from a pool refilled 4 KiB at a time: one call into OpenSSL per
 * few hundred nonces instead of one each. Bytes handed out are wiped from the pool, so
 * it never holds a key or nonce that is already in use.
 */
function pooledSecureRandom(): Random {
  const pool = Buffer.alloc(POOL_BYTES);
  let used = POOL_BYTES;
  return Object.freeze({
    bytes(n: number): Buffer {
      if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('random byte count');
      if (n >= POOLED_MAX) return randomFillSync(Buffer.alloc(n));
      if (used + n > POOL_BYTES) {
        randomFillSync(pool);
        used = 0;
      }
      const out = Buffer.from(pool.subarray(used, used + n));
      pool.fill(0, used, used + n);
      used += n;
      return out;
    },
  });
}

/** Cryptographically secure randomness from the operating system. */
export const secureRandom: Random = pooledSecureRandom();

/**
 * Deterministic randomness for tests and reproducible models: SHA-256 in counter mode
 * over the seed. Not for keys or tokens.
 */
export function seededRandom(seed: string | number): Random {
  const key = String(seed);
  let counter = 0;
  let pool = Buffer.alloc(0);
  return {
    bytes(n: number): Buffer {
      while (pool.length < n) {
        const block = createHash('sha256').update(key).update(':').update(String(counter++)).digest();
        pool = Buffer.concat([pool, block]);
      }
      const out = pool.subarray(0, n);
      pool = pool.subarray(n);
      return Buffer.from(out);
    },
  };
}

/** An RFC 9562 version 4 UUID from `random`. */
export function uuidV4(random: Random): string {
  const b = random.bytes(16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
