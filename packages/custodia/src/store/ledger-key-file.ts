/**
 * The log's checkpoint-signing key (a C2SP note key, Ed25519), kept in
 * `<data-dir>/keys/ledger-note.key` (mode 0600, folder 0700) and created on first start.
 * Like every key it stays out of the database: whoever holds a copy of the database (or
 * write access to it) cannot sign a checkpoint for a history they rewrote. The key's name
 * is the log's origin, fixed at creation: a log cannot be renamed.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CustodiaError, type Random } from '../kernel/index.js';
import { generateNoteKey, parsePrivateKey, SIGNATURE_TYPE_ED25519, type NotePrivateKey } from '../ledger/index.js';
import { writeFileAtomically } from './atomic-file.js';
import { keysDir } from './signing-key-file.js';

const FILE = 'ledger-note.key';

export function ledgerKeyPath(dataDir: string): string {
  return join(keysDir(dataDir), FILE);
}

/**
 * The log's signing key; created under `origin.explicit ?? origin.fallback` when there is
 * none and `create` is set. An explicit origin must be the key's. The file is
 * attacker-reachable configuration: its mode and format are checked.
 */
export function loadLedgerKey(dataDir: string, origin: { readonly explicit?: string; readonly fallback: string }, random: Random, create: boolean): NotePrivateKey {
  const path = ledgerKeyPath(dataDir);
  if (!existsSync(path)) {
    if (!create) throw new CustodiaError('config-invalid', `No ledger signing key in ${keysDir(dataDir)}; start the server once to create it`);
    mkdirSync(keysDir(dataDir), { recursive: true, mode: 0o700 });
    const { privateKey } = generateNoteKey(origin.explicit ?? origin.fallback, SIGNATURE_TYPE_ED25519, random);
    writeFileAtomically(path, `${privateKey}\n`, 0o600, random);
  }
  if ((statSync(path).mode & 0o077) !== 0) throw new CustodiaError('config-invalid', `${path} must be readable by its owner only (chmod 600)`);
  const key = parsePrivateKey(readFileSync(path, 'utf8').trim());
  if (origin.explicit !== undefined && key.name !== origin.explicit) {
    throw new CustodiaError('config-invalid', `The ledger's origin is "${key.name}" (fixed when the log was created), not "${origin.explicit}"`);
  }
  return key;
}
