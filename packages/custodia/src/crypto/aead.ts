/**
 * AES-256-GCM (NIST SP 800-38D) with a random 96-bit nonce per message: the one
 * authenticated cipher of the vault. A sealed message is `nonce ‖ ciphertext ‖ tag`
 * (12 + n + 16 bytes). Opening checks the tag before anything is returned: a flipped
 * bit, other associated data or another key all end in the same typed error, never in
 * garbage. Random nonces are safe well below 2^32 messages per key (SP 800-38D §8.3);
 * data keys are per patient compartment and rotated, far from that bound.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { CustodiaError, type Random } from '../kernel/index.js';

export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

const failed = (cause?: unknown): CustodiaError =>
  new CustodiaError('decrypt-failed', 'The data failed its integrity check', cause === undefined ? undefined : { cause });

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_BYTES) throw new CustodiaError('internal', 'An AES-256 key is 32 bytes');
}

/**
 * Encrypts with an explicit nonce (for the standard test vectors; everything else uses
 * {@link seal}, which draws a fresh one). Returns `ciphertext ‖ tag`.
 */
export function encryptWithNonce(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  checkKey(key);
  if (nonce.length !== NONCE_BYTES) throw new CustodiaError('internal', 'An AES-GCM nonce is 12 bytes');
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/**
 * Seals `plaintext`, bound to `aad`.
 *
 * @example
 *   const sealed = seal(key, Buffer.from('{"resourceType":"Patient"}'), aad, secureRandom);
 *   open(key, sealed, aad).toString(); // '{"resourceType":"Patient"}'
 */
export function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, random: Random): Buffer {
  const out = Buffer.allocUnsafe(sealedLength(plaintext.length));
  sealInto(out, key, plaintext, aad, random);
  return out;
}

/** The length of {@link seal}'s output for a plaintext of `n` bytes. */
export const sealedLength = (n: number): number => NONCE_BYTES + n + TAG_BYTES;

/** {@link seal}, written into `out` (exactly {@link sealedLength} bytes): no intermediate buffers. */
export function sealInto(out: Buffer, key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, random: Random): void {
  checkKey(key);
  if (out.length !== sealedLength(plaintext.length)) throw new CustodiaError('internal', 'The output of a seal has the wrong length');
  const nonce = random.bytes(NONCE_BYTES);
  nonce.copy(out, 0);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  let at = NONCE_BYTES + cipher.update(plaintext).copy(out, NONCE_BYTES);
  at += cipher.final().copy(out, at);
  cipher.getAuthTag().copy(out, at);
}

/** Opens what {@link seal} made (attacker-reachable bytes: a stolen or edited database); `decrypt-failed` on any mismatch. */
export function open(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  checkKey(key);
  if (sealed.length < NONCE_BYTES + TAG_BYTES) throw failed();
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch (e) {
    throw failed(e);
  }
}
