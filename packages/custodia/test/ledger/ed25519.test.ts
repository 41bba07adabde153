/** Raw Ed25519 keys through node:crypto, against RFC 8032 §7.1's known answers. */
import { describe, expect, it } from 'vitest';
import { ed25519FromSeed, ed25519PublicKey, ed25519Sign, ed25519Verify } from '../../src/ledger/ed25519.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

/** RFC 8032 §7.1, TEST 1 (empty message) and TEST 2 (one byte). */
const RFC8032 = [
  {
    name: 'TEST 1',
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2',
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
];

describe('Ed25519', () => {
  it.each(RFC8032)('gives the known answer of RFC 8032 $name', (v) => {
    const { privateKey, publicKey } = ed25519FromSeed(hex(v.seed));
    expect(publicKey.toString('hex')).toBe(v.publicKey);
    expect(ed25519Sign(privateKey, hex(v.message)).toString('hex')).toBe(v.signature);
    const pub = ed25519PublicKey(hex(v.publicKey));
    expect(ed25519Verify(pub, hex(v.message), hex(v.signature))).toBe(true);
    const bad = hex(v.signature);
    bad[0]! ^= 1;
    expect(ed25519Verify(pub, hex(v.message), bad)).toBe(false);
    expect(ed25519Verify(pub, hex(v.message), hex(v.signature).subarray(1))).toBe(false);
  });

  it('refuses keys of the wrong size, and any 32 bytes that are not a point just fail to verify', () => {
    expect(() => ed25519FromSeed(Buffer.alloc(31))).toThrow(expect.objectContaining({ code: 'config-invalid' }));
    expect(() => ed25519PublicKey(Buffer.alloc(33))).toThrow(expect.objectContaining({ code: 'config-invalid' }));
    expect(ed25519Verify(ed25519PublicKey(Buffer.alloc(32, 0xff)), Buffer.alloc(0), Buffer.alloc(64))).toBe(false);
  });
});
