/**
 * Builds encryption at rest from the config (issue 4): the KeyProvider that holds the
 * KEKs (the local keyring, or a PKCS#11 HSM), the key store of data keys beside it in
 * `<data-dir>/keys/`, and the AtRest codec the store seals and blinds with.
 */
import { join } from 'node:path';
import type { Clock, Random } from '../kernel/index.js';
import type { KeyProvider } from '../crypto/index.js';
import { CLEAR_AT_REST, KeyStore, keysDir, openKeyringProvider, sealedAtRest, type AtRest } from '../store/index.js';
import type { VaultConfig } from './config.js';

export interface KeyManagement {
  readonly atRest: AtRest;
  /** The key store, when encryption is on. */
  readonly keys?: KeyStore;
  close(): void;
}

export function keyStorePath(dataDir: string): string {
  return join(keysDir(dataDir), 'keystore.db');
}

function openProvider(config: VaultConfig, clock: Clock, random: Random): KeyProvider {
  const p = config.encryption.provider;
  if (p.kind === 'keyring') return openKeyringProvider({ dataDir: config.dataDir, random, now: () => clock.now(), ...(p.passphrase === undefined ? {} : { passphrase: p.passphrase }) });
  throw new Error('pkcs11 provider is wired in the next step');
}

export function openKeyManagement(config: VaultConfig, clock: Clock, random: Random): KeyManagement {
  if (!config.encryption.enabled) return { atRest: CLEAR_AT_REST, close: () => undefined };
  const keys = new KeyStore(keyStorePath(config.dataDir), openProvider(config, clock, random), random, () => clock.now());
  return { atRest: sealedAtRest(keys, random), keys, close: () => keys.close() };
}
