/**
 * AES Key Wrap (RFC 3394) with a 256-bit key-encryption key: how data keys are stored
 * under a KEK (envelope encryption). Deterministic and authenticated by its integrity
 * check value (RFC 3394 §2.2.3): unwrapping with another KEK, or a changed byte, fails
 * with a typed error. Node's `id-aes256-wrap` is OpenSSL's implementation of it.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { CustodiaError } from '../kernel/index.js';
import { KEY_BYTES } from './aead.js';

/** RFC 3394 §2.2.3.1: the default initial value. */
const DEFAULT_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');

function checkKek(kek: Uint8Array): void {
  if (kek.length !== KEY_BYTES) throw new CustodiaError('internal', 'A key-encryption key is 32 bytes');
}

/**
 * Wraps `key` (a multiple of 8 bytes, at least 16) under `kek`.
 *
 * @example
 *   const wrapped = wrapKey(kek, dataKey); // 40 bytes for a 32-byte data key
 *   unwrapKey(kek, wrapped).equals(dataKey); // true
 */
export function wrapKey(kek: Uint8Array, key: Uint8Array): Buffer {
  checkKek(kek);
  if (key.length < 16 || key.length % 8 !== 0) throw new CustodiaError('internal', 'Key Wrap takes a key of 16 or more bytes, a multiple of 8');
  const c = createCipheriv('id-aes256-wrap', kek, DEFAULT_IV);
  return Buffer.concat([c.update(key), c.final()]);
}

/** Unwraps stored bytes (attacker-reachable: a database copy); `decrypt-failed` when the check value does not hold. */
export function unwrapKey(kek: Uint8Array, wrapped: Uint8Array): Buffer {
  checkKek(kek);
  if (wrapped.length < 24 || wrapped.length % 8 !== 0) throw new CustodiaError('decrypt-failed', 'A wrapped key failed its integrity check');
  try {
    const d = createDecipheriv('id-aes256-wrap', kek, DEFAULT_IV);
    return Buffer.concat([d.update(wrapped), d.final()]);
  } catch (e) {
    throw new CustodiaError('decrypt-failed', 'A wrapped key failed its integrity check', { cause: e });
  }
}
