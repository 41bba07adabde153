/**
 * The KeyProvider (crypto/key-provider.ts) for a PKCS#11 hardware security module: the
 * KEKs are AES-256 keys generated in and never leaving the token (pkcs11-kek-object.ts),
 * data keys are wrapped under them by the token with AES Key Wrap, RFC 3394
 * (pkcs11-data-key-wrap.ts). Tested against SoftHSM2; any PKCS#11 v2.40 module that offers
 * CKM_AES_KEY_GEN and CKM_AES_KEY_WRAP for C_WrapKey / C_UnwrapKey should do.
 *
 * The current KEK is the newest on the token (CKA_ID carries the creation time). A token
 * without a KEK gets one on first open. Handles are cached; a KEK id the cache does not
 * know is looked for on the token once more before `key-unavailable`, so KEKs another
 * process created are found. One logged-in session lives as long as the provider.
 *
 * @example
 *   const keys = openPkcs11KeyProvider({
 *     module: '/usr/lib/softhsm/libsofthsm2.so',
 *     tokenLabel: 'custodia',
 *     pin: process.env.CUSTODIA_PKCS11_PIN ?? '',
 *     random: secureRandom,
 *     clock: systemClock,
 *   });
 *   const w = keys.wrap(dataKey);
 *   keys.unwrap(w).equals(dataKey); // true
 *   keys.close();
 */
import { CustodiaError, type Clock, type Random } from '../kernel/index.js';
import type { KekInfo, KeyProvider, WrappedKey } from '../crypto/index.js';
import { unwrapDataKey, wrapDataKey } from './pkcs11-data-key-wrap.js';
import { findTokenKeks, generateTokenKek, PKCS11_KEK_ID, type TokenKek } from './pkcs11-kek-object.js';
import { ckrName, tokenFailure } from './pkcs11-failure.js';
import { openTokenSession, type TokenSession } from './pkcs11-token-session.js';

export interface Pkcs11KeyProviderOptions {
  /** Path of the vendor's PKCS#11 module; Debian's SoftHSM2: /usr/lib/softhsm/libsofthsm2.so. */
  readonly module: string;
  /** The label of the token (CK_TOKEN_INFO.label, without its blank padding). */
  readonly tokenLabel: string;
  /** The user PIN (from CUSTODIA_PKCS11_PIN, never a flag); used for C_Login and not kept. */
  readonly pin: string;
  /** Names new KEKs (the key material itself comes from the token's generator). */
  readonly random: Random;
  /** Dates new KEKs. */
  readonly clock: Clock;
}

const HANDLE_GONE = new Set(['CKR_KEY_HANDLE_INVALID', 'CKR_OBJECT_HANDLE_INVALID', 'CKR_WRAPPING_KEY_HANDLE_INVALID', 'CKR_UNWRAPPING_KEY_HANDLE_INVALID']);

class Pkcs11KeyProvider implements KeyProvider {
  readonly kind = 'pkcs11';
  readonly #token: TokenSession;
  readonly #random: Random;
  readonly #clock: Clock;
  /** Every KEK on the token, oldest first; the last is current. */
  #keks: TokenKek[] = [];
  #closed = false;

  constructor(token: TokenSession, random: Random, clock: Clock) {
    this.#token = token;
    this.#random = random;
    this.#clock = clock;
    this.#rescan();
    if (this.#keks.length === 0) this.#create();
  }

  keks(): readonly KekInfo[] {
    this.#open();
    const current = this.#current();
    return this.#keks.map((k) => ({ id: k.id, createdAt: k.createdAt, current: k === current }));
  }

  wrap(dataKey: Uint8Array): WrappedKey {
    this.#open();
    const kek = this.#current();
    const wrapped = this.#withHandle(kek, () => wrapDataKey(this.#token.driver, this.#token.session, kek.handle, dataKey));
    return { kekId: kek.id, wrapped };
  }

  unwrap(key: WrappedKey): Buffer {
    this.#open();
    const kek = this.#find(key.kekId);
    return this.#withHandle(kek, () => unwrapDataKey(this.#token.driver, this.#token.session, kek.handle, key.wrapped));
  }

  rotate(): string {
    this.#open();
    this.#rescan();
    return this.#create().id;
  }

  destroy(kekId: string): void {
    this.#open();
    const kek = this.#find(kekId);
    if (kek === this.#current()) throw new CustodiaError('request-malformed', `${kek.id} is the current KEK; rotate first, rewrap, then destroy it`);
    try {
      this.#token.driver.lib.C_DestroyObject(this.#token.session, kek.handle);
    } catch (e) {
      throw tokenFailure(`destroying ${kek.id}`, e);
    }
    this.#keks = this.#keks.filter((k) => k !== kek);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#keks = [];
    this.#token.close();
  }

  #open(): void {
    if (this.#closed) throw new CustodiaError('key-unavailable', 'The PKCS#11 key provider is closed');
  }

  #current(): TokenKek {
    const kek = this.#keks.at(-1);
    if (kek === undefined) throw new CustodiaError('key-unavailable', `PKCS#11: token "${this.#token.tokenLabel}" holds no KEK`);
    return kek;
  }

  #rescan(): void {
    this.#keks = findTokenKeks(this.#token.driver, this.#token.session);
  }

  /** A new current KEK, strictly newer than every other so that a clock set back cannot demote it. */
  #create(): TokenKek {
    const newest = this.#keks.at(-1)?.createdAt ?? -1;
    const now = Math.floor(this.#clock.now());
    const createdAt = Math.max(Number.isSafeInteger(now) ? now : 0, newest + 1, 0);
    const kek = generateTokenKek(this.#token.driver, this.#token.session, { random: this.#random, createdAt, taken: new Set(this.#keks.map((k) => k.id)) });
    this.#keks = [...this.#keks, kek];
    return kek;
  }

  /** The KEK named `kekId` (from the database: untrusted, only looked up), looking on the token again on a miss. */
  #find(kekId: string): TokenKek {
    const wellFormed = typeof kekId === 'string' && PKCS11_KEK_ID.test(kekId);
    if (wellFormed) {
      const cached = this.#keks.find((k) => k.id === kekId);
      if (cached !== undefined) return cached;
      this.#rescan();
      const found = this.#keks.find((k) => k.id === kekId);
      if (found !== undefined) return found;
    }
    throw new CustodiaError('key-unavailable', `PKCS#11: token "${this.#token.tokenLabel}" has no KEK ${wellFormed ? kekId : '(malformed id)'}; it was destroyed, or the data was wrapped by another token or provider`);
  }

  /** Runs a call on `kek`; a handle the token no longer knows (destroyed elsewhere) drops the cache and is `key-unavailable`. */
  #withHandle<T>(kek: TokenKek, f: () => T): T {
    try {
      return f();
    } catch (e) {
      const name = e instanceof CustodiaError && e.code === 'key-unavailable' ? ckrName(e.cause) : undefined;
      if (name !== undefined && HANDLE_GONE.has(name)) {
        this.#rescan();
        throw new CustodiaError('key-unavailable', `PKCS#11: ${kek.id} is no longer on token "${this.#token.tokenLabel}"`, { cause: e });
      }
      throw e;
    }
  }
}

/**
 * Opens the token, logs in and loads its KEKs (creating the first one on a new token).
 * Every failure to reach the token (module, label, PIN, session) is `key-unavailable`.
 */
export function openPkcs11KeyProvider(o: Pkcs11KeyProviderOptions): KeyProvider {
  const token = openTokenSession({ module: o.module, tokenLabel: o.tokenLabel, pin: o.pin });
  try {
    return new Pkcs11KeyProvider(token, o.random, o.clock);
  } catch (e) {
    token.close();
    throw e;
  }
}
