/**
 * Migration 0018: the store epoch (SQLite). A counter every transaction that may change
 * data other than the audit ledger increments before it commits. The caches of the SQLite
 * fast path (sqlite-fast-path.ts) are valid while it stands still: `PRAGMA data_version`
 * alone also moves for the audit writer thread's commits (one per batch of audited
 * reads), which change nothing a cache holds. PostgreSQL has no such caches.
 */
import type { SqlDialect } from '../schema.js';

export function storeEpochSchema(dialect: SqlDialect): string[] {
  if (dialect === 'postgres') return [];
  return ['CREATE TABLE store_epoch (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)', 'INSERT INTO store_epoch (id, n) VALUES (1, 0)'];
}
