/**
 * A Custodia KEK as a PKCS#11 object: an AES-256 secret key generated inside the token
 * (C_GenerateKey, CKM_AES_KEY_GEN), persistent (CKA_TOKEN), never readable in clear
 * (CKA_SENSITIVE, not CKA_EXTRACTABLE) and good for nothing but wrapping and unwrapping
 * keys (CKA_WRAP / CKA_UNWRAP; no encrypt, decrypt, sign or derive). OASIS PKCS#11 v2.40
 * §4.4 (storage objects), §4.7 (key objects), §4.9 (secret key objects); Current
 * Mechanisms §2.8 (AES).
 *
 * Naming and dating: CKA_LABEL is the KEK id, `custodia-kek-<16 hex>`; CKA_ID is 16 bytes,
 * the creation time (epoch ms, unsigned 64-bit big-endian) followed by the same 8 random
 * bytes as the label. The current KEK is the newest one; creating a key object is the one
 * step that rotates, so there is no separate "current" marker to get out of step with the
 * keys after a crash. CKA_MODIFIABLE is false, so neither can be changed after creation.
 */
import { CustodiaError, type Random } from '../kernel/index.js';
import type { Pkcs11Driver, Pkcs11Handle } from './pkcs11-binding.js';
import { tokenFailure } from './pkcs11-failure.js';

/** The format of a KEK id (and of its CKA_LABEL). */
export const PKCS11_KEK_ID = /^custodia-kek-([0-9a-f]{16})$/;
const PREFIX = 'custodia-kek-';
const KEK_BYTES = 32;
const FIND_BATCH = 64;
/** More objects than any vault rotates to: a token holding more is not read to the end. */
const MAX_OBJECTS = 10_000;

export interface TokenKek {
  readonly id: string;
  readonly createdAt: number;
  readonly handle: Pkcs11Handle;
}

/** The CKA_ID of a KEK: its creation time and its random part. */
function objectId(createdAt: number, random: Buffer): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(BigInt(createdAt), 0);
  random.copy(b, 8);
  return b;
}

/**
 * Reads a KEK from the label and CKA_ID a token returned. Both are untrusted input (another
 * application with the PIN can create objects; a faulty or hostile module can return any
 * bytes): the label must have the exact format, the ID exactly 16 bytes agreeing with the
 * label, and the time be a safe integer. Anything else is not a Custodia KEK: undefined.
 */
export function parseTokenKek(label: Buffer | undefined, id: Buffer | undefined, handle: Pkcs11Handle): TokenKek | undefined {
  if (label === undefined || id === undefined || label.length !== PREFIX.length + 16 || id.length !== 16) return undefined;
  const text = label.toString('latin1');
  const m = PKCS11_KEK_ID.exec(text);
  if (m === null || id.subarray(8).toString('hex') !== m[1]) return undefined;
  const createdAt = id.readBigUInt64BE(0);
  if (createdAt > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return { id: text, createdAt: Number(createdAt), handle };
}

/** Every Custodia KEK on the token the session is logged in to, oldest first. */
export function findTokenKeks({ ck, lib }: Pkcs11Driver, session: Pkcs11Handle): TokenKek[] {
  const handles: Pkcs11Handle[] = [];
  try {
    lib.C_FindObjectsInit(session, [
      { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
      { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
      { type: ck.CKA_TOKEN, value: true },
    ]);
    try {
      for (;;) {
        const batch = lib.C_FindObjects(session, FIND_BATCH);
        handles.push(...batch);
        if (batch.length < FIND_BATCH || handles.length >= MAX_OBJECTS) break;
      }
    } finally {
      lib.C_FindObjectsFinal(session);
    }
  } catch (e) {
    throw tokenFailure('finding the KEKs on the token', e);
  }
  const keks: TokenKek[] = [];
  for (const handle of handles) {
    let attrs: { type: number; value: Buffer }[];
    try {
      attrs = lib.C_GetAttributeValue(session, handle, [{ type: ck.CKA_LABEL }, { type: ck.CKA_ID }]);
    } catch (e) {
      throw tokenFailure('reading a key object', e);
    }
    const kek = parseTokenKek(attrs.find((a) => a.type === ck.CKA_LABEL)?.value, attrs.find((a) => a.type === ck.CKA_ID)?.value, handle);
    if (kek !== undefined) keks.push(kek);
  }
  const ids = new Set(keks.map((k) => k.id));
  if (ids.size !== keks.length) throw new CustodiaError('key-unavailable', 'PKCS#11: the token holds two KEK objects with the same label; remove the stray one');
  return keks.sort(byAge);
}

/** Oldest first; equal times ordered by id, so every reader picks the same newest KEK. */
export function byAge(a: { id: string; createdAt: number }, b: { id: string; createdAt: number }): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Generates a KEK on the token, dated `createdAt` and named from `random` (a name the
 * token already has is drawn again).
 */
export function generateTokenKek({ ck, lib }: Pkcs11Driver, session: Pkcs11Handle, o: { readonly random: Random; readonly createdAt: number; readonly taken: ReadonlySet<string> }): TokenKek {
  let random = o.random.bytes(8);
  for (let tries = 0; o.taken.has(`${PREFIX}${random.toString('hex')}`); tries++) {
    if (tries >= 8) throw new CustodiaError('internal', 'The random source keeps repeating KEK ids');
    random = o.random.bytes(8);
  }
  const id = `${PREFIX}${random.toString('hex')}`;
  try {
    const handle = lib.C_GenerateKey(session, { mechanism: ck.CKM_AES_KEY_GEN }, [
      { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
      { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
      { type: ck.CKA_VALUE_LEN, value: KEK_BYTES },
      { type: ck.CKA_TOKEN, value: true },
      { type: ck.CKA_PRIVATE, value: true },
      { type: ck.CKA_SENSITIVE, value: true },
      { type: ck.CKA_EXTRACTABLE, value: false },
      { type: ck.CKA_MODIFIABLE, value: false },
      { type: ck.CKA_WRAP, value: true },
      { type: ck.CKA_UNWRAP, value: true },
      { type: ck.CKA_ENCRYPT, value: false },
      { type: ck.CKA_DECRYPT, value: false },
      { type: ck.CKA_SIGN, value: false },
      { type: ck.CKA_VERIFY, value: false },
      { type: ck.CKA_DERIVE, value: false },
      { type: ck.CKA_LABEL, value: id },
      { type: ck.CKA_ID, value: objectId(o.createdAt, random) },
    ]);
    return { id, createdAt: o.createdAt, handle };
  } catch (e) {
    throw tokenFailure('generating a KEK', e);
  }
}
