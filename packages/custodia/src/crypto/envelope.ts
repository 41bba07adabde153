/**
 * The envelope every encrypted value is stored in: which key sealed it travels with it, so
 * that keys can be rotated and several generations read side by side.
 *
 *   byte 0        format version (1)
 *   byte 1        length L of the key id (1–64)
 *   bytes 2..2+L  key id (ASCII letters, digits, `.`, `_`, `:`, `-`)
 *   the rest      AES-256-GCM sealed message (aead.ts): nonce ‖ ciphertext ‖ tag
 *
 * The header is authenticated too: the GCM associated data is the caller's AAD followed
 * by the header, so a key id cannot be swapped without the tag failing.
 */
import { CustodiaError, type Random } from '../kernel/index.js';
import { open, sealedLength, sealInto } from './aead.js';

export const ENVELOPE_VERSION = 1;

/** A data key and the id stored next to everything it seals. */
export interface DataKey {
  readonly id: string;
  readonly key: Uint8Array;
}

const KEY_ID = /^[A-Za-z0-9._:-]{1,64}$/;

const malformed = (): CustodiaError => new CustodiaError('decrypt-failed', 'The stored envelope is malformed');


/**
 * Seals `plaintext` under `dataKey`, bound to `aad`.
 *
 * @example
 *   const stored = sealEnvelope({ id: 'dk:patient:123:1', key }, json, resourceVersionAad('Observation', 'o1', 3), secureRandom);
 *   envelopeKeyId(stored); // 'dk:patient:123:1'
 */
export function sealEnvelope(dataKey: DataKey, plaintext: Uint8Array, aad: Uint8Array, random: Random): Buffer {
  if (!KEY_ID.test(dataKey.id)) throw new CustodiaError('internal', 'A key id is 1–64 letters, digits, or . _ : -');
  const headerLength = 2 + dataKey.id.length;
  const out = Buffer.allocUnsafe(headerLength + sealedLength(plaintext.length));
  out[0] = ENVELOPE_VERSION;
  out[1] = dataKey.id.length;
  out.write(dataKey.id, 2, 'ascii');
  const header = out.subarray(0, headerLength);
  sealInto(out.subarray(headerLength), dataKey.key, plaintext, Buffer.concat([aad, header]), random);
  return out;
}

/** The header of stored bytes (attacker-reachable: a database copy). */
function parseHeader(stored: Uint8Array): { keyId: string; headerLength: number } {
  if (stored.length < 2 || stored[0] !== ENVELOPE_VERSION) throw malformed();
  const length = stored[1]!;
  const headerLength = 2 + length;
  if (length === 0 || length > 64 || stored.length < headerLength) throw malformed();
  const keyId = Buffer.from(stored.subarray(2, headerLength)).toString('ascii');
  if (!KEY_ID.test(keyId)) throw malformed();
  return { keyId, headerLength };
}

/** Which key sealed these bytes (to fetch or unwrap it before {@link openEnvelope}). */
export function envelopeKeyId(stored: Uint8Array): string {
  return parseHeader(stored).keyId;
}

/**
 * Opens stored bytes with the key `lookup` gives for their key id: `key-unavailable` when
 * it has none (erased, or the key store is missing), `decrypt-failed` when anything does
 * not match (other AAD, another key, a changed byte).
 */
export function openEnvelope(lookup: (keyId: string) => Uint8Array | undefined, stored: Uint8Array, aad: Uint8Array): Buffer {
  const { keyId, headerLength } = parseHeader(stored);
  const key = lookup(keyId);
  if (key === undefined) throw new CustodiaError('key-unavailable', 'The key that sealed this data is not available');
  return open(key, stored.subarray(headerLength), Buffer.concat([aad, stored.subarray(0, headerLength)]));
}
