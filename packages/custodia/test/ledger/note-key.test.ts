/**
 * Key IDs and the vkey / private-key encodings: the spec's and x/mod's known answers, and
 * x/mod's mangling tests (every proper substring and every one-byte change of a valid key
 * must be refused).
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/kernel/index.js';
import {
  formatPrivateKey,
  formatVerifierKey,
  generateNoteKey,
  noteKeyId,
  parsePrivateKey,
  parseVerifierKey,
  SIGNATURE_TYPE_COSIGNATURE_V1,
  SIGNATURE_TYPE_ED25519,
} from '../../src/ledger/note-key.js';
import { C2SP, TD, XMOD } from './note-fixtures.js';

const invalid = expect.objectContaining({ code: 'config-invalid' });

/** x/mod TestNewVerifier / TestNewSigner: every proper substring and every single-byte increment must fail. */
function mangled(key: string): string[] {
  const out: string[] = [];
  for (let i = 0; i <= key.length; i++) for (let j = i + 1; j <= key.length; j++) if (i !== 0 || j !== key.length) out.push(key.slice(i, j));
  for (let i = 0; i < key.length; i++) out.push(key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) + 1) + key.slice(i + 1));
  return out;
}

describe('verifier keys', () => {
  it('decode the C2SP example and give its key ID', () => {
    const k = parseVerifierKey(C2SP.vkey);
    expect(k).toMatchObject({ name: 'example.com/foo', keyId: 0x530d903a, type: SIGNATURE_TYPE_ED25519 });
    expect(noteKeyId(k.name, k.type, k.publicKey)).toBe(0x530d903a);
    expect(formatVerifierKey(k.name, k.type, k.publicKey)).toBe(C2SP.vkey);
  });

  it('decode the x/mod keys and a native cosignature (0x04) key of transparency-dev', () => {
    expect(parseVerifierKey(XMOD.peterVerifierKey)).toMatchObject({ name: 'PeterNeumann', keyId: 0xc74f20a3 });
    expect(parseVerifierKey(XMOD.enochVerifierKey)).toMatchObject({ name: 'EnochRoot', keyId: 0xaf0cfe78 });
    const w = parseVerifierKey(TD.cosignatureVerifierKey);
    expect(w).toMatchObject({ name: 'remora.n621.de', keyId: 0xda77ade7, type: SIGNATURE_TYPE_COSIGNATURE_V1 });
    expect(formatVerifierKey(w.name, w.type, w.publicKey)).toBe(TD.cosignatureVerifierKey);
    // A base64 key that holds a '+' itself.
    expect(parseVerifierKey(TD.ed25519VerifierKey)).toMatchObject({ name: 'TEST', keyId: 0x7997405c });
  });

  it('give a different key ID for the same key under another type or name', () => {
    const k = parseVerifierKey(C2SP.vkey);
    expect(noteKeyId(k.name, SIGNATURE_TYPE_COSIGNATURE_V1, k.publicKey)).not.toBe(k.keyId);
    expect(noteKeyId('example.com/bar', SIGNATURE_TYPE_ED25519, k.publicKey)).not.toBe(k.keyId);
  });

  it.each(Object.entries({ ...XMOD.badVerifierKeys, ...TD.badVerifierKeys }))('refuse a key with %s', (_why, vkey) => {
    expect(() => parseVerifierKey(vkey)).toThrow(invalid);
  });

  it.each([
    ['an uppercase key ID', C2SP.vkey.replace('530d903a', '530D903A')],
    ['a short key ID', C2SP.vkey.replace('530d903a', '530d903')],
    ['a wrong key ID', C2SP.vkey.replace('530d903a', '530d903b')],
    ['an empty name', C2SP.vkey.replace('example.com/foo', '')],
    ['a name with a space', `a b${C2SP.vkey.slice('example.com/foo'.length)}`],
    ['no key', 'example.com/foo+530d903a+'],
    ['a type byte only', 'example.com/foo+530d903a+AQ=='],
    ['a 31-byte key', `example.com/foo+530d903a+${Buffer.concat([Buffer.from([1]), Buffer.alloc(31)]).toString('base64')}`],
    ['an unpadded key', C2SP.vkey.replace(/=*$/, '').slice(0, -1)],
    ['surrounding whitespace', ` ${C2SP.vkey}`],
  ])('refuse %s', (_why, vkey) => {
    expect(() => parseVerifierKey(vkey)).toThrow(invalid);
  });

  it('refuse every mangling of a valid key (x/mod TestNewVerifier)', () => {
    for (const bad of mangled(XMOD.peterVerifierKey)) expect(() => parseVerifierKey(bad), bad).toThrow(invalid);
  });

  it('are not made for invalid names, types or key sizes', () => {
    const pk = parseVerifierKey(C2SP.vkey).publicKey;
    expect(() => formatVerifierKey('a+b', SIGNATURE_TYPE_ED25519, pk)).toThrow(invalid);
    expect(() => formatVerifierKey('a', 0x02 as never, pk)).toThrow(invalid);
    expect(() => formatVerifierKey('a', SIGNATURE_TYPE_ED25519, pk.subarray(1))).toThrow(invalid);
  });
});

describe('private keys', () => {
  it('decode the x/mod key, whose key ID matches its public key', () => {
    const k = parsePrivateKey(XMOD.peterPrivateKey);
    expect(k).toMatchObject({ name: 'PeterNeumann', keyId: 0xc74f20a3, type: SIGNATURE_TYPE_ED25519 });
    expect(formatVerifierKey(k.name, k.type, k.publicKey)).toBe(XMOD.peterVerifierKey);
  });

  it('refuse every mangling of a valid key (x/mod TestNewSigner)', () => {
    for (const bad of mangled(XMOD.peterPrivateKey)) expect(() => parsePrivateKey(bad), bad).toThrow(invalid);
  });

  it('refuse a verifier key, and a key ID that is not the derived one', () => {
    expect(() => parsePrivateKey(XMOD.peterVerifierKey)).toThrow(invalid);
    expect(() => parsePrivateKey(XMOD.peterPrivateKey.replace('c74f20a3', 'c74f20a4'))).toThrow(invalid);
  });

  it('never put the key material in an error message', () => {
    const secret = XMOD.peterPrivateKey.split('+').at(-1)!;
    for (const bad of [XMOD.peterPrivateKey.replace('c74f20a3', 'c74f20a4'), XMOD.peterPrivateKey.replace('PeterNeumann', 'Peter Neumann')]) {
      try {
        parsePrivateKey(bad);
        expect.unreachable();
      } catch (e) {
        expect(String((e as Error).message)).not.toContain(secret);
      }
    }
  });

  it('are made only from 32-byte seeds and valid names', () => {
    expect(() => formatPrivateKey('n', SIGNATURE_TYPE_ED25519, Buffer.alloc(31))).toThrow(invalid);
    expect(() => formatPrivateKey('', SIGNATURE_TYPE_ED25519, Buffer.alloc(32))).toThrow(invalid);
    expect(() => formatPrivateKey('n', 0x05 as never, Buffer.alloc(32))).toThrow(invalid);
  });
});

describe('generated keys', () => {
  test.prop([fc.constantFrom(SIGNATURE_TYPE_ED25519, SIGNATURE_TYPE_COSIGNATURE_V1), fc.string({ minLength: 1, maxLength: 12 }).filter((s) => /^[a-z0-9./-]+$/.test(s)), fc.integer()])(
    'decode to matching halves, deterministically from the injected randomness',
    (type, name, seed) => {
      const a = generateNoteKey(name, type, seededRandom(seed));
      expect(generateNoteKey(name, type, seededRandom(seed))).toEqual(a);
      const priv = parsePrivateKey(a.privateKey);
      const pub = parseVerifierKey(a.verifierKey);
      expect(priv).toMatchObject({ name, type, keyId: pub.keyId });
      expect(priv.publicKey.equals(pub.publicKey)).toBe(true);
      expect(a.verifierKey.startsWith(`${name}+`)).toBe(true);
    },
  );
});
