export { openStore, openDatabase, isPostgresUrl, type StoreOptions, type DatabaseHandle, type VaultDatabase } from './open-store.js';
export { loadSigningKey, keysDir } from './signing-key-file.js';
export { loadKeyring, saveKeyring, keyringPath } from './keyring-file.js';
export { openPkcs11KeyProvider, type Pkcs11KeyProviderOptions } from './pkcs11-key-provider.js';
