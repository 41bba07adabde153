/**
 * Password hashing with scrypt (RFC 7914) from node:crypto, stored in the PHC string
 * format so that each hash names its own parameters and can be re-hashed with stronger
 * ones later:
 *
 *   $scrypt$ln=17,r=8,p=1$<salt, base64 without padding>$<hash, base64 without padding>
 *
 * `ln` is log2(N). The production default N = 2^17, r = 8, p = 1 (128 MiB, ~0.4 s on
 * the reference machine) is OWASP's recommendation for scrypt; NIST SP 800-63B §5.1.1.2
 * asks for a memory-hard function with a salt of at least 32 bits (we use 128) and a
 * cost "as high as practical".
 */
import { scrypt, timingSafeEqual } from 'node:crypto';
import { CustodiaError, type Random } from '../../kernel/index.js';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  readonly logN: number;
  /** Block size. */
  readonly r: number;
  /** Parallelisation. */
  readonly p: number;
}

/** Production parameters (OWASP Password Storage Cheat Sheet: N=2^17, r=8, p=1). */
export const PRODUCTION_SCRYPT: ScryptParams = Object.freeze({ logN: 17, r: 8, p: 1 });
/** The weakest parameters a production configuration may use. */
export const MINIMUM_PRODUCTION_SCRYPT: ScryptParams = Object.freeze({ logN: 15, r: 8, p: 1 });

const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Bounds on parameters read back from storage, so a corrupted row cannot ask for 16 GiB. */
const LIMITS = { logN: [1, 20], r: [1, 32], p: [1, 16] } as const;

/** What the identity service needs from a password hasher (tests wrap it to count work). */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Constant-time comparison; false for a malformed stored hash. */
  verify(password: string, encoded: string): Promise<boolean>;
  /** The stored hash uses other (older) parameters than this hasher's. */
  needsRehash(encoded: string): boolean;
  /**
   * A well-formed hash that no password matches, with this hasher's parameters:
   * verifying against it costs exactly what verifying a real password does.
   */
  dummyHash(): string;
}

interface Decoded {
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function within(v: number, [lo, hi]: readonly [number, number]): boolean {
  return Number.isInteger(v) && v >= lo && v <= hi;
}

export function checkScryptParams(p: ScryptParams): void {
  if (!within(p.logN, LIMITS.logN) || !within(p.r, LIMITS.r) || !within(p.p, LIMITS.p)) {
    throw new CustodiaError('config-invalid', 'scrypt parameters out of range');
  }
}

const b64 = (b: Buffer): string => b.toString('base64').replace(/=+$/, '');

export function encodeScrypt(params: ScryptParams, salt: Buffer, hash: Buffer): string {
  return `$scrypt$ln=${params.logN},r=${params.r},p=${params.p}$${b64(salt)}$${b64(hash)}`;
}

const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{11,88})\$([A-Za-z0-9+/]{22,88})$/;

/** Parses a stored hash; undefined when it is not a scrypt PHC string within the limits. */
export function decodeScrypt(encoded: string): Decoded | undefined {
  const m = PHC.exec(encoded);
  if (m === null) return undefined;
  const params = { logN: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (!within(params.logN, LIMITS.logN) || !within(params.r, LIMITS.r) || !within(params.p, LIMITS.p)) return undefined;
  return { params, salt: Buffer.from(m[4]!, 'base64'), hash: Buffer.from(m[5]!, 'base64') };
}

function derive(password: string, salt: Buffer, params: ScryptParams, length: number): Promise<Buffer> {
  const N = 2 ** params.logN;
  return new Promise((resolve, reject) => {
    // maxmem: scrypt needs 128·N·r bytes (plus p·128·r); Node's default cap is 32 MiB.
    scrypt(Buffer.from(password, 'utf8'), salt, length, { N, r: params.r, p: params.p, maxmem: 256 * N * params.r + 1024 * params.p * params.r }, (err, key) =>
      err === null ? resolve(key) : reject(new CustodiaError('internal', 'Password hashing failed', { cause: err })),
    );
  });
}

/** scrypt with the given parameters and salts from `random`. Passwords must already be normalised (NFKC). */
export class ScryptHasher implements PasswordHasher {
  constructor(
    private readonly random: Random,
    private readonly params: ScryptParams = PRODUCTION_SCRYPT,
  ) {
    checkScryptParams(params);
  }

  async hash(password: string): Promise<string> {
    const salt = this.random.bytes(SALT_BYTES);
    return encodeScrypt(this.params, salt, await derive(password, salt, this.params, HASH_BYTES));
  }

  async verify(password: string, encoded: string): Promise<boolean> {
    const d = decodeScrypt(encoded);
    if (d === undefined || d.hash.length < 16) return false;
    const actual = await derive(password, d.salt, d.params, d.hash.length);
    return timingSafeEqual(actual, d.hash);
  }

  needsRehash(encoded: string): boolean {
    const d = decodeScrypt(encoded);
    return d === undefined || d.params.logN !== this.params.logN || d.params.r !== this.params.r || d.params.p !== this.params.p || d.hash.length !== HASH_BYTES;
  }

  dummyHash(): string {
    return encodeScrypt(this.params, this.random.bytes(SALT_BYTES), this.random.bytes(HASH_BYTES));
  }
}
