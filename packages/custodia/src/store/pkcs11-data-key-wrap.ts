/**
 * Wrapping a 32-byte data key under a KEK inside the token: AES Key Wrap, RFC 3394
 * (CKM_AES_KEY_WRAP, PKCS#11 v2.40 Current Mechanisms §2.14), the same 40-byte format the
 * keyring file's crypto/key-wrap.ts writes. Its integrity check value (RFC 3394 §2.2.3)
 * makes a changed byte, or another KEK, fail.
 *
 * Tokens offer the mechanism for C_WrapKey / C_UnwrapKey only (SoftHSM 2.6 has no
 * C_Encrypt with it), and those move keys, not bytes: the data key becomes a short-lived
 * session object (CKA_TOKEN false, destroyed in `finally`) that is wrapped, or is the
 * result of unwrapping and is read back. The KEK itself only ever wraps and unwraps.
 */
import { CustodiaError } from '../kernel/index.js';
import type { Pkcs11Driver, Pkcs11Handle } from './pkcs11-binding.js';
import { ckrName, tokenFailure, WRAPPED_KEY_DAMAGED } from './pkcs11-failure.js';

export const DATA_KEY_BYTES = 32;
/** RFC 3394 §2.2.1: n 64-bit blocks wrap to n+1. */
export const WRAPPED_DATA_KEY_BYTES = DATA_KEY_BYTES + 8;

/** The template of the transient session object that carries a data key. */
function dataKeyTemplate(ck: Pkcs11Driver['ck']): { type: number; value: number | boolean }[] {
  return [
    { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
    { type: ck.CKA_KEY_TYPE, value: ck.CKK_GENERIC_SECRET },
    { type: ck.CKA_TOKEN, value: false },
    { type: ck.CKA_PRIVATE, value: true },
    { type: ck.CKA_SENSITIVE, value: false },
    { type: ck.CKA_EXTRACTABLE, value: true },
  ];
}

function destroyQuietly({ lib }: Pkcs11Driver, session: Pkcs11Handle, handle: Pkcs11Handle): void {
  try {
    lib.C_DestroyObject(session, handle);
  } catch {
    // A session object goes away with the session at the latest.
  }
}

/** Wraps `dataKey` under the KEK `kek`: 40 bytes. */
export function wrapDataKey(driver: Pkcs11Driver, session: Pkcs11Handle, kek: Pkcs11Handle, dataKey: Uint8Array): Buffer {
  const { ck, lib } = driver;
  if (dataKey.length !== DATA_KEY_BYTES) throw new CustodiaError('internal', `A data key is ${DATA_KEY_BYTES} bytes`);
  let carrier: Pkcs11Handle;
  const value = Buffer.from(dataKey);
  try {
    carrier = lib.C_CreateObject(session, [...dataKeyTemplate(ck), { type: ck.CKA_VALUE, value }]);
  } catch (e) {
    throw tokenFailure('loading a data key to wrap', e);
  } finally {
    value.fill(0);
  }
  try {
    const wrapped = lib.C_WrapKey(session, { mechanism: ck.CKM_AES_KEY_WRAP }, kek, carrier, Buffer.alloc(WRAPPED_DATA_KEY_BYTES + 16));
    if (wrapped.length !== WRAPPED_DATA_KEY_BYTES) throw new CustodiaError('key-unavailable', `PKCS#11: C_WrapKey returned ${wrapped.length} bytes, not ${WRAPPED_DATA_KEY_BYTES}`);
    return Buffer.from(wrapped);
  } catch (e) {
    if (e instanceof CustodiaError) throw e;
    throw tokenFailure('wrapping a data key', e);
  } finally {
    destroyQuietly(driver, session, carrier);
  }
}

/**
 * Unwraps `wrapped` (read from the database: attacker-reachable, so its length is checked
 * here and its integrity by the token) with the KEK `kek`. `decrypt-failed` when the bytes
 * are not intact under this KEK; `key-unavailable` when the token cannot answer.
 */
export function unwrapDataKey(driver: Pkcs11Driver, session: Pkcs11Handle, kek: Pkcs11Handle, wrapped: Uint8Array): Buffer {
  const { ck, lib } = driver;
  const damaged = (cause?: unknown): CustodiaError => new CustodiaError('decrypt-failed', 'A wrapped key failed its integrity check', cause === undefined ? undefined : { cause });
  if (wrapped.length !== WRAPPED_DATA_KEY_BYTES) throw damaged();
  let carrier: Pkcs11Handle;
  try {
    carrier = lib.C_UnwrapKey(session, { mechanism: ck.CKM_AES_KEY_WRAP }, kek, Buffer.from(wrapped), dataKeyTemplate(ck));
  } catch (e) {
    const name = ckrName(e);
    if (name !== undefined && WRAPPED_KEY_DAMAGED.has(name)) throw damaged(e);
    throw tokenFailure('unwrapping a data key', e);
  }
  try {
    // The token's answer is input too: exactly one value of exactly 32 bytes.
    const value = lib.C_GetAttributeValue(session, carrier, [{ type: ck.CKA_VALUE }]).find((a) => a.type === ck.CKA_VALUE)?.value;
    if (value === undefined || value.length !== DATA_KEY_BYTES) throw damaged();
    const dataKey = Buffer.from(value);
    value.fill(0);
    return dataKey;
  } catch (e) {
    if (e instanceof CustodiaError) throw e;
    throw tokenFailure('reading an unwrapped data key', e);
  } finally {
    destroyQuietly(driver, session, carrier);
  }
}
