/**
 * A witness's cosigning key (C2SP tlog-cosignature, signature type 0x04, Ed25519), kept in
 * `<dir>/keys/witness-note.key` (mode 0600, folder 0700) and created on first start: by
 * `custodia witness serve --data-dir <dir>`, and by a vault started with `--witness-for`
 * (its data directory). The key's name is the witness's name, fixed at creation, as the
 * ledger key's is the log's origin (ledger-key-file.ts).
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CustodiaError, type Random } from '../kernel/index.js';
import { generateNoteKey, parsePrivateKey, SIGNATURE_TYPE_COSIGNATURE_V1, type NotePrivateKey } from '../ledger/index.js';
import { writeFileAtomically } from './atomic-file.js';
import { keysDir } from './signing-key-file.js';

const FILE = 'witness-note.key';

export function witnessKeyPath(dataDir: string): string {
  return join(keysDir(dataDir), FILE);
}

/**
 * The witness's key; created under `name.explicit ?? name.fallback` when there is none and
 * `create` is set. An explicit name must be the key's. The file is attacker-reachable
 * configuration: its mode, format and signature type are checked.
 *
 * @example
 *   const key = loadWitnessKey(dir, { fallback: 'witness.example/w1' }, secureRandom, true);
 */
export function loadWitnessKey(dataDir: string, name: { readonly explicit?: string; readonly fallback: string }, random: Random, create: boolean): NotePrivateKey {
  const path = witnessKeyPath(dataDir);
  if (!existsSync(path)) {
    if (!create) throw new CustodiaError('config-invalid', `No witness key in ${keysDir(dataDir)}; start the witness once to create it`);
    mkdirSync(keysDir(dataDir), { recursive: true, mode: 0o700 });
    const { privateKey } = generateNoteKey(name.explicit ?? name.fallback, SIGNATURE_TYPE_COSIGNATURE_V1, random);
    writeFileAtomically(path, `${privateKey}\n`, 0o600, random);
  }
  if ((statSync(path).mode & 0o077) !== 0) throw new CustodiaError('config-invalid', `${path} must be readable by its owner only (chmod 600)`);
  const key = parsePrivateKey(readFileSync(path, 'utf8').trim());
  if (key.type !== SIGNATURE_TYPE_COSIGNATURE_V1) throw new CustodiaError('config-invalid', `${path} does not hold a cosignature key (signature type 0x04)`);
  if (name.explicit !== undefined && key.name !== name.explicit) {
    throw new CustodiaError('config-invalid', `The witness's name is "${key.name}" (fixed when its key was created), not "${name.explicit}"`);
  }
  return key;
}
