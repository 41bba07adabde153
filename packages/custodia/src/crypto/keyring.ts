/**
 * The local keyring: the key-encryption keys (KEKs) that wrap the vault's data keys, kept
 * outside the database (issue 4: a database file, dump or backup alone never holds what is
 * needed to decrypt it). This file is the format, pure and without I/O; store/keyring-file.ts
 * keeps it on disk (mode 0600 in a 0700 directory).
 *
 * On disk it is JSON. Unprotected, the keys are base64 in it; protected by a passphrase,
 * the key list is sealed with AES-256-GCM (aead.ts) under a key derived by scrypt
 * (RFC 7914) from the passphrase, and only the scrypt parameters and salt are in clear.
 * A wrong passphrase and a damaged file both fail the tag: `key-unavailable`.
 */
import { scryptSync } from 'node:crypto';
import { CustodiaError, type Random } from '../kernel/index.js';
import { KEY_BYTES, open, seal } from './aead.js';

export interface Kek {
  readonly id: string;
  readonly key: Buffer;
  /** Epoch ms. */
  readonly createdAt: number;
}

export interface Keyring {
  /** Every KEK, oldest first: older ones still unwrap data keys wrapped before a rotation. */
  readonly keks: readonly Kek[];
  /** The KEK new data keys are wrapped with. */
  readonly current: string;
}

export type KeyringProtection = { readonly kind: 'none' } | { readonly kind: 'passphrase'; readonly passphrase: string; readonly cost?: ScryptCost };

export interface ScryptCost {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** OWASP's scrypt parameters for interactive use (N=2^17, r=8, p=1). */
export const KEYRING_SCRYPT: ScryptCost = { N: 2 ** 17, r: 8, p: 1 };

const FORMAT = 'custodia-keyring';
const VERSION = 1;
const AAD = Buffer.from('custodia/keyring/v1', 'utf8');
const KEK_ID = /^kek-[0-9a-f]{16}$/;

const damaged = (why: string, cause?: unknown): CustodiaError =>
  new CustodiaError('config-invalid', `The keyring is damaged: ${why}`, cause === undefined ? undefined : { cause });

function newKek(random: Random, now: number): Kek {
  return { id: `kek-${random.bytes(8).toString('hex')}`, key: random.bytes(KEY_BYTES), createdAt: now };
}

/** A keyring with one fresh KEK (first start). */
export function newKeyring(random: Random, now: number): Keyring {
  const kek = newKek(random, now);
  return { keks: [kek], current: kek.id };
}

/** Adds a fresh KEK and makes it current (KEK rotation: data keys are rewrapped afterwards, data untouched). */
export function rotateKek(k: Keyring, random: Random, now: number): Keyring {
  const kek = newKek(random, now);
  return { keks: [...k.keks, kek], current: kek.id };
}

export function currentKek(k: Keyring): Kek {
  const kek = k.keks.find((x) => x.id === k.current);
  if (kek === undefined) throw damaged('its current KEK is missing');
  return kek;
}

function deriveKey(passphrase: string, salt: Buffer, cost: ScryptCost): Buffer {
  return scryptSync(passphrase.normalize('NFKC'), salt, KEY_BYTES, { N: cost.N, r: cost.r, p: cost.p, maxmem: 129 * cost.N * cost.r * cost.p + 1024 * 1024 });
}

const keysJson = (k: Keyring): string => JSON.stringify({ current: k.current, keks: k.keks.map((x) => ({ id: x.id, key: x.key.toString('base64'), createdAt: x.createdAt })) });

/**
 * The keyring as file text.
 *
 * @example
 *   const text = serializeKeyring(newKeyring(secureRandom, Date.now()), { kind: 'passphrase', passphrase }, secureRandom);
 *   parseKeyring(text, passphrase).keks.length; // 1
 */
export function serializeKeyring(k: Keyring, protection: KeyringProtection, random: Random): string {
  currentKek(k);
  if (protection.kind === 'none') return `${JSON.stringify({ format: FORMAT, version: VERSION, protection: 'none', keys: JSON.parse(keysJson(k)) }, null, 2)}\n`;
  if (protection.passphrase.length === 0) throw new CustodiaError('config-invalid', 'The keyring passphrase is empty');
  const cost = protection.cost ?? KEYRING_SCRYPT;
  const salt = random.bytes(16);
  const sealed = seal(deriveKey(protection.passphrase, salt, cost), Buffer.from(keysJson(k), 'utf8'), AAD, random);
  const body = { format: FORMAT, version: VERSION, protection: 'scrypt', scrypt: { ...cost, salt: salt.toString('base64') }, sealed: sealed.toString('base64') };
  return `${JSON.stringify(body, null, 2)}\n`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function readKeys(v: unknown): Keyring {
  if (!isObject(v) || typeof v['current'] !== 'string' || !Array.isArray(v['keks']) || v['keks'].length === 0 || v['keks'].length > 1000) throw damaged('no key list');
  const keks = v['keks'].map((x): Kek => {
    if (!isObject(x) || typeof x['id'] !== 'string' || !KEK_ID.test(x['id']) || typeof x['key'] !== 'string' || !B64.test(x['key']) || typeof x['createdAt'] !== 'number') throw damaged('a malformed KEK');
    const key = Buffer.from(x['key'], 'base64');
    if (key.length !== KEY_BYTES) throw damaged('a KEK of the wrong length');
    return { id: x['id'], key, createdAt: x['createdAt'] };
  });
  if (new Set(keks.map((x) => x.id)).size !== keks.length) throw damaged('a KEK id twice');
  const k = { keks, current: v['current'] };
  currentKek(k);
  return k;
}

/** Reads file text (operator input, but a damaged or swapped file must not crash or mislead). */
export function parseKeyring(text: string, passphrase?: string): Keyring {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw damaged('not JSON', e);
  }
  if (!isObject(doc) || doc['format'] !== FORMAT || doc['version'] !== VERSION) throw damaged('not a Custodia keyring of version 1');
  if (doc['protection'] === 'none') return readKeys(doc['keys']);
  if (doc['protection'] !== 'scrypt') throw damaged('an unknown protection');
  if (passphrase === undefined || passphrase.length === 0) throw new CustodiaError('key-unavailable', 'The keyring is protected by a passphrase; give it (CUSTODIA_KEYRING_PASSPHRASE)');
  const s = doc['scrypt'];
  if (!isObject(s) || typeof s['salt'] !== 'string' || !B64.test(s['salt']) || typeof doc['sealed'] !== 'string' || !B64.test(doc['sealed'])) throw damaged('malformed scrypt parameters');
  const cost = { N: s['N'], r: s['r'], p: s['p'] };
  // Bounded both ways: a file must not make the server spend minutes or gigabytes, nor weaken the derivation.
  const ok = (n: unknown, lo: number, hi: number): n is number => typeof n === 'number' && Number.isInteger(n) && n >= lo && n <= hi;
  if (!ok(cost.N, 2 ** 14, 2 ** 20) || (cost.N & (cost.N - 1)) !== 0 || !ok(cost.r, 8, 32) || !ok(cost.p, 1, 16) || cost.N * cost.r > 2 ** 23) {
    throw damaged('scrypt parameters out of range');
  }
  const key = deriveKey(passphrase, Buffer.from(s['salt'], 'base64'), cost as ScryptCost);
  let plain: Buffer;
  try {
    plain = open(key, Buffer.from(doc['sealed'], 'base64'), AAD);
  } catch (e) {
    throw new CustodiaError('key-unavailable', 'The keyring passphrase is wrong, or the keyring is damaged', { cause: e });
  }
  let keys: unknown;
  try {
    keys = JSON.parse(plain.toString('utf8'));
  } catch (e) {
    throw damaged('a sealed key list that is not JSON', e);
  }
  return readKeys(keys);
}
