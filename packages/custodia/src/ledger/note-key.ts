/**
 * Key names, key IDs and the text encodings of note keys (C2SP signed-note §Signatures
 * and §Verifier keys), for the two Ed25519 signature types the ledger uses:
 * `0x01` (plain Ed25519 note signatures, the log's checkpoint key) and `0x04`
 * (c2sp.org/tlog-cosignature timestamped cosignatures, a witness's key).
 *
 *     key ID = SHA-256(key name ‖ 0x0A ‖ signature type ‖ 32-byte public key)[:4]
 *     vkey   = <name>+<hex key ID>+base64(signature type ‖ public key)
 *     skey   = PRIVATE+KEY+<name>+<hex key ID>+base64(signature type ‖ seed)
 *
 * The skey form is golang.org/x/mod/sumdb/note's (not part of the C2SP spec). Keys come
 * from configuration, so a bad encoding is `config-invalid`; messages never quote a key.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { CustodiaError, type Random } from '../kernel/index.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import { ED25519_KEY_BYTES, ed25519FromSeed } from './ed25519.js';
import { isValidKeyName } from './signed-note.js';

/** signed-note §Signature types: `0x01`, Ed25519 signatures over the note text. */
export const SIGNATURE_TYPE_ED25519 = 0x01;
/** signed-note §Signature types: `0x04`, timestamped Ed25519 checkpoint cosignatures (tlog-cosignature). */
export const SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04;

/** The signature types this module handles; both are Ed25519 keys of 32 bytes. */
export type NoteSignatureType = typeof SIGNATURE_TYPE_ED25519 | typeof SIGNATURE_TYPE_COSIGNATURE_V1;

/** A decoded verifier key. */
export interface VerifierKey {
  readonly name: string;
  readonly keyId: number;
  readonly type: NoteSignatureType;
  /** The 32-byte Ed25519 public key. */
  readonly publicKey: Buffer;
}

/** A decoded private key: the KeyObject, never the seed. */
export interface NotePrivateKey {
  readonly name: string;
  readonly keyId: number;
  readonly type: NoteSignatureType;
  readonly privateKey: KeyObject;
  readonly publicKey: Buffer;
}

const HEX_KEY_ID = /^[0-9a-f]{8}$/;
const PRIVATE_PREFIX = 'PRIVATE+KEY+';

const badKey = (why: string): CustodiaError => new CustodiaError('config-invalid', `Invalid note key: ${why}`);

function checkName(name: string): void {
  if (!isValidKeyName(name)) throw badKey('the key name is empty or holds a space, a plus or a control character');
}

function checkType(type: number): asserts type is NoteSignatureType {
  if (type !== SIGNATURE_TYPE_ED25519 && type !== SIGNATURE_TYPE_COSIGNATURE_V1) throw badKey('unsupported signature type');
}

/**
 * signed-note §Signatures: the recommended key ID, which both supported types use.
 *
 * @example
 *   noteKeyId('example.com/foo', 0x01, publicKey); // 0x530d903a for the spec's example key
 */
export function noteKeyId(name: string, type: NoteSignatureType, publicKey: Uint8Array): number {
  return createHash('sha256').update(name, 'utf8').update('\n').update(Uint8Array.of(type)).update(publicKey).digest().readUInt32BE(0);
}

const hexKeyId = (keyId: number): string => keyId.toString(16).padStart(8, '0');

/**
 * signed-note §Verifier keys: `<name>+<hex key ID>+base64(type ‖ public key)`.
 *
 * @example
 *   formatVerifierKey('example.com/foo', 0x01, publicKey); // 'example.com/foo+530d903a+Aeky…3U2k'
 */
export function formatVerifierKey(name: string, type: NoteSignatureType, publicKey: Uint8Array): string {
  checkName(name);
  checkType(type);
  if (publicKey.length !== ED25519_KEY_BYTES) throw badKey('an Ed25519 public key is 32 bytes');
  return `${name}+${hexKeyId(noteKeyId(name, type, publicKey))}+${encodeBase64(Buffer.concat([Uint8Array.of(type), publicKey]))}`;
}

/** Splits `<name>+<hex>+<base64>` (the base64 may itself hold `+`) and decodes the type-prefixed key material. */
function splitKey(text: string): { name: string; keyId: number; type: NoteSignatureType; material: Buffer } {
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (second < 0) throw badKey('expected <name>+<key ID>+<key>');
  const name = text.slice(0, first);
  const hex = text.slice(first + 1, second);
  checkName(name);
  if (!HEX_KEY_ID.test(hex)) throw badKey('the key ID is not 8 lowercase hex digits');
  const key = decodeBase64(text.slice(second + 1));
  if (key === undefined || key.length < 1) throw badKey('the key is not canonical base64');
  try {
    const type = key[0]!;
    checkType(type);
    if (key.length !== 1 + ED25519_KEY_BYTES) throw badKey('an Ed25519 key is 32 bytes');
    return { name, keyId: Number.parseInt(hex, 16), type, material: Buffer.from(key.subarray(1)) };
  } finally {
    key.fill(0); // it may hold a seed
  }
}

/**
 * Parses a vkey defensively: name rules, exactly 8 lowercase hex digits, canonical
 * base64, a supported type, a 32-byte key, and a key ID that matches the key.
 *
 * @example
 *   parseVerifierKey('PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW');
 *   // { name: 'PeterNeumann', keyId: 0xc74f20a3, type: 1, publicKey: <32 bytes> }
 */
export function parseVerifierKey(vkey: string): VerifierKey {
  const { name, keyId, type, material } = splitKey(vkey);
  if (noteKeyId(name, type, material) !== keyId) throw badKey('the key ID does not match the key');
  return { name, keyId, type, publicKey: Buffer.from(material) };
}

/**
 * The x/mod/sumdb/note private-key encoding: `PRIVATE+KEY+<name>+<hex key ID>+base64(type ‖ seed)`.
 * The key ID is that of the public key the seed derives.
 */
export function formatPrivateKey(name: string, type: NoteSignatureType, seed: Uint8Array): string {
  checkName(name);
  checkType(type);
  const { publicKey } = ed25519FromSeed(seed);
  const key = Buffer.concat([Uint8Array.of(type), seed]);
  try {
    return `${PRIVATE_PREFIX}${name}+${hexKeyId(noteKeyId(name, type, publicKey))}+${encodeBase64(key)}`;
  } finally {
    key.fill(0);
  }
}

/**
 * Parses a private key (a secret from configuration): its seed becomes a KeyObject and
 * the decoded copy is wiped. The key ID must match the derived public key.
 *
 * @example
 *   parsePrivateKey('PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz').keyId; // 0xc74f20a3
 */
export function parsePrivateKey(skey: string): NotePrivateKey {
  if (!skey.startsWith(PRIVATE_PREFIX)) throw badKey('a private key starts with PRIVATE+KEY+');
  const { name, keyId, type, material } = splitKey(skey.slice(PRIVATE_PREFIX.length));
  try {
    const { privateKey, publicKey } = ed25519FromSeed(material);
    if (noteKeyId(name, type, publicKey) !== keyId) throw badKey('the key ID does not match the key');
    return { name, keyId, type, privateKey, publicKey };
  } finally {
    material.fill(0);
  }
}

/**
 * A fresh key pair in both encodings, from injected randomness.
 *
 * @example
 *   const { privateKey, verifierKey } = generateNoteKey('custodia.example/ledger', SIGNATURE_TYPE_ED25519, secureRandom);
 */
export function generateNoteKey(name: string, type: NoteSignatureType, random: Random): { privateKey: string; verifierKey: string } {
  const seed = random.bytes(ED25519_KEY_BYTES);
  try {
    const privateKey = formatPrivateKey(name, type, seed);
    return { privateKey, verifierKey: formatVerifierKey(name, type, ed25519FromSeed(seed).publicKey) };
  } finally {
    seed.fill(0);
  }
}
