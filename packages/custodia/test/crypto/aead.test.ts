/**
 * AES-256-GCM and AES Key Wrap against their standards' known answers
 * (test/crypto/vectors/PROVENANCE.md), and the properties the vault relies on:
 * decrypt(encrypt(x)) = x; any bit flip, other AAD or another key fails with a typed
 * error, never with garbage.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { encryptWithNonce, open, seal, unwrapKey, wrapKey } from '../../src/crypto/index.js';
import { secureRandom, seededRandom } from '../../src/kernel/index.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const decryptFailed = expect.objectContaining({ code: 'decrypt-failed' });

/** McGrew & Viega, GCM, Appendix B: the AES-256 cases with a 96-bit IV. */
const GCM = [
  { name: 'test case 13', key: '00'.repeat(32), iv: '00'.repeat(12), pt: '', aad: '', ct: '', tag: '530f8afbc74536b9a963b4f1c4cb738b' },
  { name: 'test case 14', key: '00'.repeat(32), iv: '00'.repeat(12), pt: '00'.repeat(16), aad: '', ct: 'cea7403d4d606b6e074ec5d3baf39d18', tag: 'd0d1c8a799996bf0265b98b5d48ab919' },
  {
    name: 'test case 16',
    key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308',
    iv: 'cafebabefacedbaddecaf888',
    pt: 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    ct: '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
    tag: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
];

/** RFC 3394 §4.3 and §4.6. */
const KEY_WRAP = [
  { name: '§4.3', kek: '000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F', key: '00112233445566778899AABBCCDDEEFF', wrapped: '64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7' },
  {
    name: '§4.6',
    kek: '000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F',
    key: '00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F',
    wrapped: '28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21',
  },
];

describe('AES-256-GCM', () => {
  it.each(GCM)('gives the known answer of $name, and opens it again', (v) => {
    const sealed = encryptWithNonce(hex(v.key), hex(v.iv), hex(v.pt), hex(v.aad));
    expect(sealed.toString('hex')).toBe(v.ct + v.tag);
    expect(open(hex(v.key), Buffer.concat([hex(v.iv), sealed]), hex(v.aad)).toString('hex')).toBe(v.pt);
  });

  const key = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const bytes = fc.uint8Array({ maxLength: 512 });

  test.prop([key, bytes, bytes])('opens what it sealed', (k, pt, aad) => {
    expect(Buffer.compare(open(k, seal(k, pt, aad, secureRandom), aad), Buffer.from(pt))).toBe(0);
  });

  test.prop([key, bytes, bytes, fc.nat(), fc.integer({ min: 0, max: 7 })])('fails on any flipped bit', (k, pt, aad, at, bit) => {
    const sealed = seal(k, pt, aad, secureRandom);
    sealed[at % sealed.length]! ^= 1 << bit;
    expect(() => open(k, sealed, aad)).toThrow(decryptFailed);
  });

  test.prop([key, bytes, bytes, bytes])('fails with other associated data', (k, pt, aad, other) => {
    fc.pre(Buffer.compare(Buffer.from(aad), Buffer.from(other)) !== 0);
    expect(() => open(k, seal(k, pt, aad, secureRandom), other)).toThrow(decryptFailed);
  });

  test.prop([key, key, bytes])('fails with another key', (k, other, pt) => {
    fc.pre(Buffer.compare(Buffer.from(k), Buffer.from(other)) !== 0);
    expect(() => open(other, seal(k, pt, Buffer.alloc(0), secureRandom), Buffer.alloc(0))).toThrow(decryptFailed);
  });

  it('fails on truncated input and never reuses a nonce across seals', () => {
    const k = Buffer.alloc(32, 7);
    expect(() => open(k, Buffer.alloc(27), Buffer.alloc(0))).toThrow(decryptFailed);
    const random = seededRandom('nonces');
    const nonces = new Set(Array.from({ length: 1000 }, () => seal(k, Buffer.from('x'), Buffer.alloc(0), random).subarray(0, 12).toString('hex')));
    expect(nonces.size).toBe(1000);
    expect(() => seal(Buffer.alloc(16), Buffer.from('x'), Buffer.alloc(0), random)).toThrow(/32 bytes/);
  });
});

describe('AES Key Wrap', () => {
  it.each(KEY_WRAP)('gives the known answer of RFC 3394 $name, and unwraps it', (v) => {
    expect(wrapKey(hex(v.kek), hex(v.key)).toString('hex').toUpperCase()).toBe(v.wrapped);
    expect(unwrapKey(hex(v.kek), hex(v.wrapped)).toString('hex').toUpperCase()).toBe(v.key);
  });

  test.prop([fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(), fc.integer({ min: 0, max: 7 })])(
    'unwraps what it wrapped, and refuses a flipped bit or another KEK',
    (kek, key, at, bit) => {
      const wrapped = wrapKey(kek, key);
      expect(Buffer.compare(unwrapKey(kek, wrapped), Buffer.from(key))).toBe(0);
      const flipped = Buffer.from(wrapped);
      flipped[at % flipped.length]! ^= 1 << bit;
      expect(() => unwrapKey(kek, flipped)).toThrow(decryptFailed);
      const other = Buffer.from(kek);
      other[0]! ^= 1;
      expect(() => unwrapKey(other, wrapped)).toThrow(decryptFailed);
    },
  );

  it('refuses malformed input with a typed error', () => {
    const kek = Buffer.alloc(32, 1);
    for (const bad of [Buffer.alloc(0), Buffer.alloc(16), Buffer.alloc(41)]) expect(() => unwrapKey(kek, bad)).toThrow(decryptFailed);
  });
});
