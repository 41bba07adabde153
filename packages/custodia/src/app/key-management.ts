/**
 * Builds encryption at rest from the config (issue 4): the KeyProvider that holds the
 * KEKs (the local keyring, or a PKCS#11 HSM), the key store of data keys beside it in
 * `<data-dir>/keys/`, and the AtRest codec the store seals and blinds with.
 */
import { join } from 'node:path';
import { CustodiaError, type Clock, type Random } from '../kernel/index.js';
import type { KeyProvider } from '../crypto/index.js';
import { CLEAR_AT_REST, KeyStore, keyStoreProviderKind, keysDir, openKeyringProvider, openPkcs11KeyProvider, sealedAtRest, type AtRest } from '../store/index.js';
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
  return openPkcs11KeyProvider({ module: p.module, tokenLabel: p.tokenLabel, pin: p.pin, random, clock });
}

export function openKeyManagement(config: VaultConfig, clock: Clock, random: Random): KeyManagement {
  if (!config.encryption.enabled) return { atRest: CLEAR_AT_REST, close: () => undefined };
  // Checked before the provider opens, so that a command run without the HSM settings does not create a keyring beside an HSM's key store.
  const made = keyStoreProviderKind(keyStorePath(config.dataDir));
  if (made !== undefined && made !== config.encryption.provider.kind) {
    throw new CustodiaError('config-invalid', `The key store in ${keysDir(config.dataDir)} is protected by a ${made} key provider: set --key-provider ${made} (CUSTODIA_KEY_PROVIDER=${made}) and its settings`);
  }
  const provider = openProvider(config, clock, random);
  let keys: KeyStore;
  try {
    keys = new KeyStore(keyStorePath(config.dataDir), provider, random, () => clock.now());
  } catch (e) {
    provider.close();
    throw e;
  }
  return { atRest: sealedAtRest(keys, random), keys, close: () => keys.close() };
}
