/**
 * The common/breached password list that ships in the repository
 * (`data/common-passwords.txt.gz`, 49,233 entries from zxcvbn-ts, MIT; see
 * data/PROVENANCE.md). Loaded on first use, once per process: a vault that never sets a
 * password never pays for it. A missing or unreadable list fails closed: no password can
 * be set until it is back.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { CustodiaError } from '../kernel/index.js';
import { parseCommonPasswords, type CommonPasswordList } from '../access/index.js';

/** src/app and dist/app sit at the same depth below the package root. */
export const COMMON_PASSWORDS_FILE = fileURLToPath(new URL('../../data/common-passwords.txt.gz', import.meta.url));

let loaded: ReadonlySet<string> | undefined;

function load(): ReadonlySet<string> {
  if (loaded === undefined) {
    try {
      loaded = parseCommonPasswords(gunzipSync(readFileSync(COMMON_PASSWORDS_FILE), { maxOutputLength: 16 * 1024 * 1024 }).toString('utf8'));
    } catch (e) {
      throw new CustodiaError('config-invalid', 'The common-password list data/common-passwords.txt.gz cannot be read', { cause: e });
    }
  }
  return loaded;
}

/** The shipped list, loaded when first consulted. */
export const commonPasswords: CommonPasswordList = Object.freeze({
  has: (lowerCasePassword: string) => load().has(lowerCasePassword),
  get size() {
    return load().size;
  },
});
