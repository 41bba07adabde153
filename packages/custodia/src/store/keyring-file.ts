/**
 * The local keyring on disk: `<data-dir>/keys/keyring.json`, mode 0600 in a 0700
 * directory, next to but never inside the database (crypto/keyring.ts is the format).
 * Created on first start; refused when other users can read it. Every save writes a new
 * file beside it, flushes it, and renames it over the old one, so a crash leaves either
 * the old keyring or the new one, never half of one.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { writeFileAtomically } from './atomic-file.js';
import { join } from 'node:path';
import { CustodiaError, type Random } from '../kernel/index.js';
import { newKeyring, parseKeyring, serializeKeyring, type Keyring, type KeyringProtection } from '../crypto/index.js';
import { keysDir } from './signing-key-file.js';

const FILE = 'keyring.json';

export function keyringPath(dataDir: string): string {
  return join(keysDir(dataDir), FILE);
}

function checkPrivate(path: string): void {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) throw new CustodiaError('config-invalid', `${path} is readable by other users (mode ${mode.toString(8)}); chmod 600 it`);
}

/** Saves the keyring under `protection` (a passphrase, or none). */
export function saveKeyring(dataDir: string, keyring: Keyring, protection: KeyringProtection, random: Random): void {
  const dir = keysDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  writeFileAtomically(keyringPath(dataDir), serializeKeyring(keyring, protection, random), 0o600, random);
}

/**
 * The keyring of a data directory; with `create`, a new one (one fresh KEK) when there is
 * none. `passphrase` opens a protected keyring, and protects one it creates.
 */
export function loadKeyring(dataDir: string, o: { readonly create: boolean; readonly passphrase?: string; readonly random: Random; readonly now: number }): Keyring {
  const path = keyringPath(dataDir);
  if (!existsSync(path)) {
    if (!o.create) throw new CustodiaError('key-unavailable', `No keyring in ${keysDir(dataDir)}; start the server once to create it`);
    const keyring = newKeyring(o.random, o.now);
    saveKeyring(dataDir, keyring, o.passphrase === undefined ? { kind: 'none' } : { kind: 'passphrase', passphrase: o.passphrase }, o.random);
    return keyring;
  }
  checkPrivate(path);
  return parseKeyring(readFileSync(path, 'utf8'), o.passphrase);
}
