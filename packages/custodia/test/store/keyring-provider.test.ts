/**
 * The local keyring file as a KeyProvider: the same contract the PKCS#11 provider meets
 * (test/helpers/key-provider-contract.ts), unprotected and passphrase-sealed, plus what
 * only a file can get wrong: another process rotating it while this one holds it open.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openKeyringProvider } from '../../src/store/index.js';
import { secureRandom } from '../../src/kernel/index.js';
import { keyProviderContract } from '../helpers/key-provider-contract.js';

const now = (): number => Date.now();

keyProviderContract('keyring file', (dir) => openKeyringProvider({ dataDir: dir, random: secureRandom, now }));
keyProviderContract('keyring file sealed by a passphrase', (dir) => openKeyringProvider({ dataDir: dir, random: secureRandom, now, passphrase: 'correct horse battery staple' }));

describe('keyring file shared by two processes', () => {
  it('sees a KEK another holder added, and wraps under it once it is current', () => {
    const dir = mkdtempSync(join(tmpdir(), 'custodia-keyring-'));
    try {
      const server = openKeyringProvider({ dataDir: dir, random: secureRandom, now });
      const cli = openKeyringProvider({ dataDir: dir, random: secureRandom, now });
      const key = secureRandom.bytes(32);
      const fresh = cli.rotate();
      // The server never wraps under a KEK the other holder has already replaced…
      expect(server.wrap(key).kekId).toBe(fresh);
      // …and unwraps what the other wrapped under a KEK it had not seen yet.
      expect(server.unwrap(cli.wrap(key)).equals(key)).toBe(true);
      expect(server.keks().find((k) => k.current)?.id).toBe(fresh);
      server.close();
      cli.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
