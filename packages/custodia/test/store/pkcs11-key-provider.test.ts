/**
 * The PKCS#11 key provider (store/pkcs11-key-provider.ts) against a real SoftHSM2 token,
 * a fresh one per test in a temp directory: the KeyProvider contract, then what only an
 * HSM has (KEKs that never leave the token, untrusted token contents, login, one module
 * per process). Needs CUSTODIA_TEST_SOFTHSM=1 and SoftHSM2 (scripts/install-softhsm.sh);
 * skipped otherwise, and the run says so.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { wrapKey } from '../../src/crypto/index.js';
import type { KeyProvider } from '../../src/crypto/index.js';
import { ManualClock, secureRandom, systemClock, type Clock } from '../../src/kernel/index.js';
import { openPkcs11KeyProvider } from '../../src/store/index.js';
import { keyProviderContract } from '../helpers/key-provider-contract.js';
import { findByLabel, SOFTHSM_ENABLED, testToken, useToken, withRawSession, type RawSession, type TestToken } from '../helpers/softhsm.js';

const SKIPPED = SOFTHSM_ENABLED ? undefined : 'CUSTODIA_TEST_SOFTHSM is not set';

function openOn(token: TestToken, o: { pin?: string; tokenLabel?: string; module?: string; clock?: Clock } = {}): KeyProvider {
  useToken(token);
  return openPkcs11KeyProvider({
    module: o.module ?? token.module,
    tokenLabel: o.tokenLabel ?? token.tokenLabel,
    pin: o.pin ?? token.pin,
    random: secureRandom,
    clock: o.clock ?? systemClock,
  });
}

keyProviderContract('PKCS#11 (SoftHSM2)', (dir) => openOn(testToken(dir)), { skip: SKIPPED });

const code = (c: string): unknown => expect.objectContaining({ name: 'CustodiaError', code: c });
const flag = (s: RawSession, handle: Buffer, type: number): boolean => s.lib.C_GetAttributeValue(s.session, handle, [{ type }])[0]!.value[0] === 1;
/** CKA_ID as the provider writes it: creation time (u64 big-endian) then the label's 8 random bytes. */
const kekObjectId = (createdAt: number, hex: string): Buffer => Buffer.concat([Buffer.from(createdAt.toString(16).padStart(16, '0'), 'hex'), Buffer.from(hex, 'hex')]);

describe.skipIf(!SOFTHSM_ENABLED)('PKCS#11 key provider on SoftHSM2', () => {
  const dirs: string[] = [];
  const opened: KeyProvider[] = [];
  const token = (label?: string): TestToken => {
    const d = mkdtempSync(join(tmpdir(), 'custodia-hsm-'));
    dirs.push(d);
    return testToken(d, label);
  };
  const open = (t: TestToken, o: Parameters<typeof openOn>[1] = {}): KeyProvider => {
    const k = openOn(t, o);
    opened.push(k);
    return k;
  };
  afterEach(() => {
    for (const k of opened.splice(0)) k.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('keeps each KEK in the token: generated there, sensitive, never extractable, for wrapping only', () => {
    const t = token();
    const keys = open(t);
    keys.rotate();
    const ids = keys.keks().map((k) => k.id);
    keys.close();
    withRawSession(t, (s) => {
      const { ck, lib, session } = s;
      for (const id of ids) {
        const [kek, ...more] = findByLabel(s, id);
        expect(kek).toBeDefined();
        expect(more).toEqual([]);
        for (const a of [ck.CKA_TOKEN, ck.CKA_PRIVATE, ck.CKA_SENSITIVE, ck.CKA_ALWAYS_SENSITIVE, ck.CKA_NEVER_EXTRACTABLE, ck.CKA_LOCAL, ck.CKA_WRAP, ck.CKA_UNWRAP]) expect(flag(s, kek!, a), `attribute ${a}`).toBe(true);
        for (const a of [ck.CKA_EXTRACTABLE, ck.CKA_MODIFIABLE, ck.CKA_ENCRYPT, ck.CKA_DECRYPT, ck.CKA_SIGN, ck.CKA_DERIVE]) expect(flag(s, kek!, a), `attribute ${a}`).toBe(false);
        expect(lib.C_GetAttributeValue(session, kek!, [{ type: ck.CKA_VALUE_LEN }])[0]!.value.readUIntLE(0, 4)).toBe(32);
        // The key value cannot be read, wrapped out under another key, or made extractable.
        expect(() => lib.C_GetAttributeValue(session, kek!, [{ type: ck.CKA_VALUE }])).toThrow('CKR_ATTRIBUTE_SENSITIVE');
        const outer = lib.C_GenerateKey(session, { mechanism: ck.CKM_AES_KEY_GEN }, [
          { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
          { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
          { type: ck.CKA_VALUE_LEN, value: 32 },
          { type: ck.CKA_TOKEN, value: false },
          { type: ck.CKA_WRAP, value: true },
        ]);
        expect(() => lib.C_WrapKey(session, { mechanism: ck.CKM_AES_KEY_WRAP }, outer, kek!, Buffer.alloc(64))).toThrow(/CKR_KEY_UNEXTRACTABLE|CKR_KEY_NOT_WRAPPABLE/);
        expect(() => lib.C_SetAttributeValue(session, kek!, [{ type: ck.CKA_EXTRACTABLE, value: true }])).toThrow(/CKR_/);
        expect(flag(s, kek!, ck.CKA_EXTRACTABLE)).toBe(false);
      }
    });
  });

  it('wraps in RFC 3394 AES Key Wrap, the format of crypto/key-wrap.ts', () => {
    const t = token();
    const known = secureRandom.bytes(32);
    const hex = secureRandom.bytes(8).toString('hex');
    // A KEK whose value the test knows (imported, not generated), dated after any real one so it is current.
    withRawSession(t, ({ ck, lib, session }) => {
      lib.C_CreateObject(session, [
        { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
        { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
        { type: ck.CKA_TOKEN, value: true },
        { type: ck.CKA_PRIVATE, value: true },
        { type: ck.CKA_WRAP, value: true },
        { type: ck.CKA_UNWRAP, value: true },
        { type: ck.CKA_VALUE, value: known },
        { type: ck.CKA_LABEL, value: `custodia-kek-${hex}` },
        { type: ck.CKA_ID, value: kekObjectId(Date.now() + 86_400_000, hex) },
      ]);
    });
    const keys = open(t);
    expect(keys.keks().map((k) => [k.id, k.current])).toEqual([[`custodia-kek-${hex}`, true]]);
    const dataKey = secureRandom.bytes(32);
    const w = keys.wrap(dataKey);
    expect(w.kekId).toBe(`custodia-kek-${hex}`);
    expect(w.wrapped.equals(wrapKey(known, dataKey))).toBe(true);
    const other = secureRandom.bytes(32);
    expect(keys.unwrap({ kekId: w.kekId, wrapped: wrapKey(known, other) }).equals(other)).toBe(true);
  });

  it('reads the token as untrusted: objects that only look like KEKs are not KEKs', () => {
    const t = token();
    const real = open(t).keks()[0]!.id;
    opened.pop()!.close();
    const h = (): string => secureRandom.bytes(8).toString('hex');
    const fakes: string[] = [];
    withRawSession(t, ({ ck, lib, session }) => {
      const make = (label: string, id: Buffer, keyType = ck.CKK_AES): void => {
        fakes.push(label);
        lib.C_CreateObject(session, [
          { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
          { type: ck.CKA_KEY_TYPE, value: keyType },
          { type: ck.CKA_TOKEN, value: true },
          { type: ck.CKA_VALUE, value: secureRandom.bytes(32) },
          { type: ck.CKA_LABEL, value: label },
          { type: ck.CKA_ID, value: id },
        ]);
      };
      const far = Date.now() + 86_400_000;
      const a = h();
      make(`custodia-kek-${a}`, kekObjectId(far, h())); // ID disagrees with the label
      const b = h();
      make(`custodia-kek-${b}`, kekObjectId(far, b).subarray(0, 12)); // ID too short
      const c = h();
      make(`custodia-kek-${c}`, Buffer.concat([Buffer.alloc(8, 0xff), Buffer.from(c, 'hex')])); // time past 2^53
      const d = h().toUpperCase();
      make(`custodia-kek-${d}`, kekObjectId(far, d)); // not the lower-case format
      const e = h();
      make(`custodia-kek-${e}`, kekObjectId(far, e), ck.CKK_GENERIC_SECRET); // not an AES key
    });
    const keys = open(t);
    expect(keys.keks().map((k) => k.id)).toEqual([real]);
    const w = keys.wrap(secureRandom.bytes(32));
    expect(w.kekId).toBe(real);
    for (const fake of fakes) expect(() => keys.unwrap({ kekId: fake, wrapped: w.wrapped })).toThrow(code('key-unavailable'));
  });

  it('finds a KEK another process put on the token while it was open, and makes it current', () => {
    const t = token();
    const keys = open(t);
    const mine = keys.keks()[0]!.id;
    const dir = dirs.at(-1)!;
    const script = join(dir, 'other-process.cjs');
    writeFileSync(
      script,
      `const [pkcs11js, modulePath, label, pin, hex, idHex] = process.argv.slice(2);
       const ck = require(pkcs11js); const lib = new ck.PKCS11(); lib.load(modulePath); lib.C_Initialize();
       const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === label);
       const session = lib.C_OpenSession(slot, ck.CKF_SERIAL_SESSION | ck.CKF_RW_SESSION); lib.C_Login(session, ck.CKU_USER, pin);
       const kek = lib.C_GenerateKey(session, { mechanism: ck.CKM_AES_KEY_GEN }, [
         { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY }, { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES }, { type: ck.CKA_VALUE_LEN, value: 32 },
         { type: ck.CKA_TOKEN, value: true }, { type: ck.CKA_PRIVATE, value: true }, { type: ck.CKA_SENSITIVE, value: true }, { type: ck.CKA_EXTRACTABLE, value: false },
         { type: ck.CKA_WRAP, value: true }, { type: ck.CKA_UNWRAP, value: true },
         { type: ck.CKA_LABEL, value: 'custodia-kek-' + hex }, { type: ck.CKA_ID, value: Buffer.from(idHex, 'hex') }]);
       const dataKey = require('node:crypto').randomBytes(32);
       const carrier = lib.C_CreateObject(session, [{ type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY }, { type: ck.CKA_KEY_TYPE, value: ck.CKK_GENERIC_SECRET },
         { type: ck.CKA_TOKEN, value: false }, { type: ck.CKA_SENSITIVE, value: false }, { type: ck.CKA_EXTRACTABLE, value: true }, { type: ck.CKA_VALUE, value: dataKey }]);
       const wrapped = lib.C_WrapKey(session, { mechanism: ck.CKM_AES_KEY_WRAP }, kek, carrier, Buffer.alloc(64));
       process.stdout.write(JSON.stringify({ dataKey: dataKey.toString('hex'), wrapped: wrapped.toString('hex') }));
       lib.C_Logout(session); lib.C_Finalize();`,
    );
    const hex = secureRandom.bytes(8).toString('hex');
    const out = execFileSync(
      process.execPath,
      [script, createRequire(import.meta.url).resolve('pkcs11js'), t.module, t.tokenLabel, t.pin, hex, kekObjectId(Date.now() + 60_000, hex).toString('hex')],
      { env: { ...process.env, SOFTHSM2_CONF: t.conf }, encoding: 'utf8' },
    );
    const theirs = JSON.parse(out) as { dataKey: string; wrapped: string };
    expect(keys.wrap(secureRandom.bytes(32)).kekId).toBe(mine); // cached until a miss makes it look again
    const got = keys.unwrap({ kekId: `custodia-kek-${hex}`, wrapped: Buffer.from(theirs.wrapped, 'hex') });
    expect(got.toString('hex')).toBe(theirs.dataKey);
    expect(keys.keks().map((k) => [k.id, k.current])).toEqual([
      [mine, false],
      [`custodia-kek-${hex}`, true],
    ]);
    expect(keys.wrap(secureRandom.bytes(32)).kekId).toBe(`custodia-kek-${hex}`);
  });

  it('keeps the newest KEK current when the clock stands still or goes back', () => {
    const t = token();
    const clock = new ManualClock(1_800_000_000_000);
    const keys = open(t, { clock });
    const rotated = [keys.rotate(), keys.rotate(), keys.rotate()];
    clock.set(1_000);
    rotated.push(keys.rotate());
    const keks = keys.keks();
    expect(keks.at(-1)!.id).toBe(rotated.at(-1));
    const times = keks.map((k) => k.createdAt!);
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThan(times[i - 1]!);
    keys.close();
    const again = open(t, { clock });
    expect(again.keks()).toEqual(keks);
    expect(again.wrap(secureRandom.bytes(32)).kekId).toBe(rotated.at(-1));
  });

  it('refuses a wrong or empty PIN with key-unavailable and a clear message that never repeats the PIN', () => {
    const t = token();
    for (const pin of ['wrong-pin-8642', '']) {
      let thrown: unknown;
      try {
        open(t, { pin });
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toEqual(code('key-unavailable'));
      const message = (thrown as Error).message;
      expect(message).toMatch(/PIN/);
      expect(message).toMatch(/CUSTODIA_PKCS11_PIN/);
      if (pin !== '') expect(message).not.toContain(pin);
      expect(message).not.toContain(t.pin);
    }
    // The failed logins left the module finalized: the right PIN opens it.
    expect(open(t).keks()).toHaveLength(1);
  });

  it('says key-unavailable, naming what is missing, for an unknown token label or module', () => {
    const t = token('custodia-a');
    expect(() => open(t, { tokenLabel: 'custodia-b' })).toThrow(expect.objectContaining({ code: 'key-unavailable', message: expect.stringContaining('no token labelled "custodia-b"') }));
    expect(() => open(t, { module: join(dirs.at(-1)!, 'no-such-module.so') })).toThrow(expect.objectContaining({ code: 'key-unavailable', message: expect.stringContaining('no-such-module.so') }));
    expect(open(t).keks()).toHaveLength(1);
  });

  it('owns the module alone while open, and refuses work once closed', () => {
    const t = token();
    const first = open(t);
    expect(() => open(t)).toThrow(expect.objectContaining({ code: 'key-unavailable', message: expect.stringContaining('already in use') }));
    const w = first.wrap(secureRandom.bytes(32));
    expect(first.unwrap(w).length).toBe(32);
    first.close();
    first.close();
    expect(() => first.wrap(secureRandom.bytes(32))).toThrow(code('key-unavailable'));
    expect(() => first.unwrap(w)).toThrow(code('key-unavailable'));
    expect(() => first.keks()).toThrow(code('key-unavailable'));
    const second = open(t);
    expect(second.unwrap(w).length).toBe(32);
  });

  it('wraps only 32-byte data keys', () => {
    const keys = open(token());
    for (const n of [0, 16, 31, 33, 64]) expect(() => keys.wrap(secureRandom.bytes(n))).toThrow(code('internal'));
  });
});
