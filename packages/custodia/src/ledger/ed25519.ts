/**
 * Raw Ed25519 keys (RFC 8032 §5.1.5: a 32-byte seed, a 32-byte public key) as node:crypto
 * KeyObjects. Node imports raw Ed25519 keys only inside DER, so the fixed ASN.1 headers of
 * RFC 8410 §7 (PKCS#8 private key) and §4 (SubjectPublicKeyInfo) are prepended here.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { CustodiaError } from '../kernel/index.js';

export const ED25519_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

/** RFC 8410 §7: SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING (32) } }. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** RFC 8410 §4: SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (0 unused bits, 32 bytes) }. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface Ed25519KeyPair {
  readonly privateKey: KeyObject;
  /** The 32-byte RFC 8032 public key. */
  readonly publicKey: Buffer;
}

/** The key pair of a 32-byte seed. The caller should wipe its copy of the seed afterwards. */
export function ed25519FromSeed(seed: Uint8Array): Ed25519KeyPair {
  if (seed.length !== ED25519_KEY_BYTES) throw new CustodiaError('config-invalid', 'An Ed25519 seed is 32 bytes');
  const der = Buffer.concat([PKCS8_PREFIX, seed]);
  try {
    const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    const publicKey = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
    return { privateKey, publicKey: Buffer.from(publicKey) };
  } finally {
    der.fill(0);
  }
}

/** A public KeyObject for a 32-byte public key. */
export function ed25519PublicKey(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== ED25519_KEY_BYTES) throw new CustodiaError('config-invalid', 'An Ed25519 public key is 32 bytes');
  // Any 32 bytes import; a point that does not decode simply fails every verification.
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
}

/** RFC 8032 §5.1.6 signature of `message`. */
export function ed25519Sign(privateKey: KeyObject, message: Uint8Array): Buffer {
  return sign(null, message, privateKey);
}

/** RFC 8032 §5.1.7: true when `signature` (64 bytes, attacker-controlled) is valid for `message`. */
export function ed25519Verify(publicKey: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  return signature.length === ED25519_SIGNATURE_BYTES && verify(null, message, publicKey, signature);
}
