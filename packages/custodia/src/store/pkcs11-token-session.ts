/**
 * One logged-in session with one token: C_Initialize, find the slot whose token has the
 * configured label, C_OpenSession (read/write, for creating and destroying KEKs), C_Login
 * as the normal user; and the reverse on close. OASIS PKCS#11 v2.40 §5.4 (general
 * purpose), §5.5 (slot and token management), §5.6 (session management).
 *
 * Cryptoki keeps its state per process, not per caller: a second C_Initialize of the same
 * module answers CKR_CRYPTOKI_ALREADY_INITIALIZED, and one C_Finalize ends every session.
 * So one provider owns the module at a time, and a second open is refused rather than
 * sharing a library that the first one's close would pull from under it.
 */
import { CustodiaError } from '../kernel/index.js';
import { loadPkcs11Driver, type Pkcs11Driver, type Pkcs11Handle } from './pkcs11-binding.js';
import { ckrName, tokenFailure } from './pkcs11-failure.js';

export interface TokenSession {
  readonly driver: Pkcs11Driver;
  readonly session: Pkcs11Handle;
  readonly tokenLabel: string;
  /** Logs out, closes the session and finalizes the module; safe to call twice. */
  close(): void;
}

export interface TokenSessionOptions {
  /** Path of the vendor's PKCS#11 module (`.so`). */
  readonly module: string;
  readonly tokenLabel: string;
  readonly pin: string;
}

/**
 * CK_TOKEN_INFO.label is 32 bytes of UTF-8 padded with blanks (v2.40 §3.2). It comes from
 * the module: untrusted, only compared, never parsed further.
 */
const tokenLabelOf = (raw: unknown): string => (typeof raw === 'string' ? raw.replace(/[ \0]+$/, '') : '');

function findSlot({ ck, lib }: Pkcs11Driver, tokenLabel: string): Pkcs11Handle {
  let slots: Pkcs11Handle[];
  try {
    slots = lib.C_GetSlotList(true);
  } catch (e) {
    throw tokenFailure('listing the slots', e);
  }
  const matches: Pkcs11Handle[] = [];
  for (const slot of slots) {
    let label: string;
    let flags: number;
    try {
      const info = lib.C_GetTokenInfo(slot);
      label = tokenLabelOf(info.label);
      flags = info.flags;
    } catch {
      continue; // a slot whose token went away meanwhile
    }
    if (label !== tokenLabel) continue;
    if ((flags & ck.CKF_USER_PIN_LOCKED) !== 0) throw new CustodiaError('key-unavailable', `PKCS#11: the user PIN of token "${tokenLabel}" is locked; the security officer must reset it`);
    matches.push(slot);
  }
  if (matches.length === 0) throw new CustodiaError('key-unavailable', `PKCS#11: no token labelled "${tokenLabel}" in any slot of the module`);
  if (matches.length > 1) throw new CustodiaError('key-unavailable', `PKCS#11: ${matches.length} tokens are labelled "${tokenLabel}"; give each a distinct label`);
  return matches[0]!;
}

function login({ ck, lib }: Pkcs11Driver, session: Pkcs11Handle, tokenLabel: string, pin: string): void {
  try {
    lib.C_Login(session, ck.CKU_USER, pin);
  } catch (e) {
    const name = ckrName(e);
    if (name === 'CKR_USER_ALREADY_LOGGED_IN') return;
    if (name === 'CKR_PIN_INCORRECT' || name === 'CKR_PIN_INVALID' || name === 'CKR_PIN_LEN_RANGE') {
      throw new CustodiaError('key-unavailable', `PKCS#11: token "${tokenLabel}" refused the PIN (${name}); check CUSTODIA_PKCS11_PIN. Repeated failures lock the PIN`, { cause: e });
    }
    if (name === 'CKR_PIN_LOCKED') throw new CustodiaError('key-unavailable', `PKCS#11: the user PIN of token "${tokenLabel}" is locked (CKR_PIN_LOCKED)`, { cause: e });
    throw tokenFailure(`logging in to token "${tokenLabel}"`, e);
  }
}

function quietly(f: () => void): void {
  try {
    f();
  } catch {
    // Closing down: the token may already have dropped the session.
  }
}

/** Opens a logged-in read/write session with the token labelled `o.tokenLabel`. */
export function openTokenSession(o: TokenSessionOptions): TokenSession {
  if (o.pin.length === 0) throw new CustodiaError('key-unavailable', `PKCS#11: no PIN for token "${o.tokenLabel}"; set CUSTODIA_PKCS11_PIN`);
  const driver = loadPkcs11Driver(o.module);
  const { ck, lib } = driver;
  try {
    lib.C_Initialize();
  } catch (e) {
    quietly(() => lib.close());
    if (ckrName(e) === 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
      throw new CustodiaError('key-unavailable', `PKCS#11: the module ${o.module} is already in use in this process; close the other key provider first`, { cause: e });
    }
    throw tokenFailure(`initializing ${o.module}`, e);
  }
  let session: Pkcs11Handle | undefined;
  try {
    const slot = findSlot(driver, o.tokenLabel);
    try {
      session = lib.C_OpenSession(slot, ck.CKF_SERIAL_SESSION | ck.CKF_RW_SESSION);
    } catch (e) {
      throw tokenFailure(`opening a session with token "${o.tokenLabel}"`, e);
    }
    login(driver, session, o.tokenLabel, o.pin);
  } catch (e) {
    const open = session;
    if (open !== undefined) quietly(() => lib.C_CloseSession(open));
    quietly(() => lib.C_Finalize());
    quietly(() => lib.close());
    throw e;
  }
  const opened = session;
  let closed = false;
  return {
    driver,
    session: opened,
    tokenLabel: o.tokenLabel,
    close() {
      if (closed) return;
      closed = true;
      quietly(() => lib.C_Logout(opened));
      quietly(() => lib.C_CloseSession(opened));
      quietly(() => lib.C_Finalize());
      quietly(() => lib.close());
    },
  };
}
