export { openStore, isPostgresUrl, type StoreOptions } from './open-store.js';
