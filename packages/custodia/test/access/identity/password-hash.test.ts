/**
 * scrypt password hashes: self-describing PHC strings, round trip, parameter upgrades,
 * production strength, and comparison with crypto.timingSafeEqual.
 */
import * as crypto from 'node:crypto';
import { fc, test } from '@fast-check/vitest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { seededRandom } from '../../../src/kernel/index.js';
import { MINIMUM_PRODUCTION_SCRYPT, PRODUCTION_SCRYPT, ScryptHasher, decodeScrypt, encodeScrypt, normalizePassword } from '../../../src/access/index.js';
import { TEST_SCRYPT } from './identity-fixtures.js';

vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:crypto')>();
  return { ...original, timingSafeEqual: vi.fn(original.timingSafeEqual) };
});

const hasher = new ScryptHasher(seededRandom('hash-test'), TEST_SCRYPT);

describe('scrypt hashes', () => {
  afterEach(() => vi.mocked(crypto.timingSafeEqual).mockClear());

  it('are PHC strings naming algorithm, N (as log2), r, p, salt and hash', async () => {
    const h = await hasher.hash('correct horse battery staple');
    expect(h).toMatch(/^\$scrypt\$ln=4,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    const d = decodeScrypt(h)!;
    expect(d.params).toEqual(TEST_SCRYPT);
    expect(d.salt).toHaveLength(16);
    expect(d.hash).toHaveLength(32);
    expect(encodeScrypt(d.params, d.salt, d.hash)).toBe(h);
  });

  it('use a fresh salt each time', async () => {
    expect(await hasher.hash('same password here')).not.toBe(await hasher.hash('same password here'));
  });

  test.prop([fc.string({ minLength: 1, maxLength: 40 }), fc.string({ minLength: 1, maxLength: 40 })], { numRuns: 40 })('verify round trip: the password matches, any other does not', async (a, b) => {
    const h = await hasher.hash(a);
    expect(await hasher.verify(a, h)).toBe(true);
    if (a !== b) expect(await hasher.verify(b, h)).toBe(false);
  });

  it('compare with crypto.timingSafeEqual', async () => {
    const h = await hasher.hash('tick tock goes the clock');
    vi.mocked(crypto.timingSafeEqual).mockClear();
    expect(await hasher.verify('tick tock goes the clock!', h)).toBe(false);
    expect(vi.mocked(crypto.timingSafeEqual)).toHaveBeenCalledTimes(1);
  });

  it('are checked with the parameters they name, so old hashes keep working and can be upgraded', async () => {
    const old = new ScryptHasher(seededRandom('old'), { logN: 3, r: 8, p: 1 });
    const h = await old.hash('a passphrase from 2020');
    expect(await hasher.verify('a passphrase from 2020', h)).toBe(true);
    expect(hasher.needsRehash(h)).toBe(true);
    expect(hasher.needsRehash(await hasher.hash('x'))).toBe(false);
  });

  it('refuse malformed or absurd stored values without throwing', async () => {
    for (const bad of ['', 'plain', '$scrypt$ln=99,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA']) {
      expect(await hasher.verify('anything', bad)).toBe(false);
      expect(hasher.needsRehash(bad)).toBe(true);
    }
  });

  it('dummy hashes have the hasher parameters and match nothing', async () => {
    const dummy = hasher.dummyHash();
    expect(decodeScrypt(dummy)?.params).toEqual(TEST_SCRYPT);
    expect(await hasher.verify('', dummy)).toBe(false);
  });

  it('production parameters are at least N=2^15, r=8, p=1 (defaults: OWASP N=2^17)', async () => {
    expect(PRODUCTION_SCRYPT.logN).toBeGreaterThanOrEqual(15);
    expect(PRODUCTION_SCRYPT).toEqual({ logN: 17, r: 8, p: 1 });
    expect(MINIMUM_PRODUCTION_SCRYPT).toEqual({ logN: 15, r: 8, p: 1 });
    const prod = new ScryptHasher(seededRandom('prod'));
    const h = await prod.hash(normalizePassword('ﬁrst day on the ward'));
    expect(h.startsWith('$scrypt$ln=17,r=8,p=1$')).toBe(true);
    expect(await prod.verify(normalizePassword('first day on the ward'), h)).toBe(true);
  });
});
