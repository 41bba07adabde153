export { openStore, openDatabase, isPostgresUrl, type StoreOptions, type DatabaseHandle, type VaultDatabase } from './open-store.js';
export { loadSigningKey, keysDir } from './signing-key-file.js';
export { loadKeyring, saveKeyring, keyringPath } from './keyring-file.js';
export { KeyStore, keyStoreProviderKind, TENANT_OWNER, type KeyLookup, type KeyCount, type DataKeyState } from './key-store.js';
export { openKeyringProvider } from './keyring-provider.js';
export { CLEAR_AT_REST, sealedAtRest, ownerOf, type AtRest } from './at-rest.js';
export type { SealedDataStore, KeyUsage, SealedRow, ErasedCounts, CompartmentEntry } from './sealed-data-store.js';
export type { LegalHold, LegalHoldStore } from './legal-hold-store.js';
export { openPkcs11KeyProvider, type Pkcs11KeyProviderOptions } from './pkcs11-key-provider.js';
