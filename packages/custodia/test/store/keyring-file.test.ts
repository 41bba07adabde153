/**
 * The local keyring (crypto/keyring.ts, store/keyring-file.ts): created on first start with
 * mode 0600 in a 0700 directory, refused when others can read it, optionally sealed under a
 * passphrase (scrypt), rotated without losing older KEKs, saved atomically; a wrong
 * passphrase or a damaged file is a typed error, never a crash.
 */
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentKek, parseKeyring, rotateKek, serializeKeyring, wrapKey, unwrapKey, type ScryptCost } from '../../src/crypto/index.js';
import { seededRandom, secureRandom } from '../../src/kernel/index.js';
import { keyringPath, loadKeyring, saveKeyring } from '../../src/store/index.js';
import { tempDirs } from '../helpers/temp-dirs.js';

/** Cheaper than production (N=2^17) so the suite stays fast; the lowest the parser accepts. */
const TEST_COST: ScryptCost = { N: 2 ** 14, r: 8, p: 1 };
const dataDir = tempDirs('custodia-keyring-');

describe('the local keyring', () => {
  it('is created on first start, private to its owner, and read back the same', () => {
    const d = dataDir();
    const created = loadKeyring(d, { create: true, random: secureRandom, now: 1 });
    expect(created.keks).toHaveLength(1);
    expect(statSync(keyringPath(d)).mode & 0o777).toBe(0o600);
    expect(statSync(join(d, 'keys')).mode & 0o777).toBe(0o700);
    const again = loadKeyring(d, { create: false, random: secureRandom, now: 2 });
    expect(again.current).toBe(created.current);
    expect(currentKek(again).key.equals(currentKek(created).key)).toBe(true);
    expect(() => loadKeyring(dataDir(), { create: false, random: secureRandom, now: 1 })).toThrow(expect.objectContaining({ code: 'key-unavailable' }));
  });

  it('is refused when other users can read it', () => {
    const d = dataDir();
    loadKeyring(d, { create: true, random: secureRandom, now: 1 });
    chmodSync(keyringPath(d), 0o644);
    expect(() => loadKeyring(d, { create: false, random: secureRandom, now: 1 })).toThrow(/readable by other users/);
  });

  it('seals its keys under a passphrase: nothing of them in the file, and a wrong passphrase is key-unavailable', () => {
    const d = dataDir();
    const k = loadKeyring(d, { create: true, random: secureRandom, now: 1 });
    saveKeyring(d, k, { kind: 'passphrase', passphrase: 'correct horse battery staple', cost: TEST_COST }, secureRandom);
    const text = readFileSync(keyringPath(d), 'utf8');
    expect(text).not.toContain(currentKek(k).key.toString('base64'));
    expect(text).not.toContain(k.current);
    const opened = loadKeyring(d, { create: false, passphrase: 'correct horse battery staple', random: secureRandom, now: 2 });
    expect(currentKek(opened).key.equals(currentKek(k).key)).toBe(true);
    for (const wrong of [undefined, '', 'correct horse battery stapler']) {
      expect(() => loadKeyring(d, { create: false, ...(wrong === undefined ? {} : { passphrase: wrong }), random: secureRandom, now: 2 })).toThrow(expect.objectContaining({ code: 'key-unavailable' }));
    }
    // The passphrase is NFKC-normalised: the same phrase typed in another Unicode form opens it.
    saveKeyring(d, k, { kind: 'passphrase', passphrase: 'caf\u00e9 au lait, s\u2019il vous pla\u00eet', cost: TEST_COST }, secureRandom);
    expect(loadKeyring(d, { create: false, passphrase: 'cafe\u0301 au lait, s\u2019il vous pla\u00eet', random: secureRandom, now: 3 }).current).toBe(k.current);
  });

  it('rotates: a new current KEK, older ones kept to unwrap what they wrapped; saved atomically', () => {
    const d = dataDir();
    const random = seededRandom('rotate');
    const k1 = loadKeyring(d, { create: true, random, now: 1 });
    const dataKey = random.bytes(32);
    const wrappedOld = wrapKey(currentKek(k1).key, dataKey);
    const k2 = rotateKek(k1, random, 2);
    saveKeyring(d, k2, { kind: 'none' }, random);
    const loaded = loadKeyring(d, { create: false, random, now: 3 });
    expect(loaded.keks.map((x) => x.id)).toEqual(k2.keks.map((x) => x.id));
    expect(loaded.current).not.toBe(k1.current);
    expect(unwrapKey(loaded.keks.find((x) => x.id === k1.current)!.key, wrappedOld).equals(dataKey)).toBe(true);
    expect(readdirSync(join(d, 'keys')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('reports a damaged or foreign file as config-invalid, and bounds the scrypt cost a file may ask for', () => {
    const k = loadKeyring(dataDir(), { create: true, random: secureRandom, now: 1 });
    const plain = JSON.parse(serializeKeyring(k, { kind: 'none' }, secureRandom));
    const sealed = JSON.parse(serializeKeyring(k, { kind: 'passphrase', passphrase: 'pw for the test', cost: TEST_COST }, secureRandom));
    const variants: unknown[] = [
      'not json',
      { format: 'something else', version: 1 },
      { ...plain, version: 2 },
      { ...plain, protection: 'rot13' },
      { ...plain, keys: { current: k.current, keks: [] } },
      { ...plain, keys: { ...plain.keys, current: 'kek-0000000000000000' } },
      { ...plain, keys: { ...plain.keys, keks: [{ ...plain.keys.keks[0], key: 'c2hvcnQ=' }] } },
      { ...plain, keys: { ...plain.keys, keks: [plain.keys.keks[0], plain.keys.keks[0]] } },
      { ...sealed, scrypt: { ...sealed.scrypt, N: 2 ** 30 } },
      { ...sealed, scrypt: { ...sealed.scrypt, N: 2 ** 10 } },
      { ...sealed, scrypt: { ...sealed.scrypt, N: 3 * 2 ** 14 } },
      { ...sealed, scrypt: { ...sealed.scrypt, r: 32, N: 2 ** 20 } },
    ];
    for (const v of variants) {
      expect(() => parseKeyring(typeof v === 'string' ? v : JSON.stringify(v), 'pw for the test'), JSON.stringify(v).slice(0, 80)).toThrow(expect.objectContaining({ code: 'config-invalid' }));
    }
    const flipped = { ...sealed, sealed: Buffer.from(Buffer.from(sealed.sealed, 'base64').map((b, i) => (i === 20 ? b ^ 1 : b))).toString('base64') };
    expect(() => parseKeyring(JSON.stringify(flipped), 'pw for the test')).toThrow(expect.objectContaining({ code: 'key-unavailable' }));
    const d = dataDir();
    loadKeyring(d, { create: true, random: secureRandom, now: 1 });
    writeFileSync(keyringPath(d), '{"format":', { mode: 0o600 });
    expect(() => loadKeyring(d, { create: false, random: secureRandom, now: 1 })).toThrow(expect.objectContaining({ code: 'config-invalid' }));
  });
});
