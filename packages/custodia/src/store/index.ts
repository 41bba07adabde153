export { openStore, isPostgresUrl, type StoreOptions } from './open-store.js';
export { loadSigningKey, keysDir } from './signing-key-file.js';
