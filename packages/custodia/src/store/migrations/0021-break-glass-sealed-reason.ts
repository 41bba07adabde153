/**
 * Migration 0021: the reason of a break-the-glass session sealed at rest
 * (store/break-glass-store.ts). `reason_sealed` holds the envelope (tenant key, purpose
 * `break-glass`, subject the session id); `reason` stays for rows written before, which
 * the vault seals when it opens (`sealClearReasons`) and then empties. SQL cannot seal,
 * so the schema change is here and the data change is in the store.
 */
import type { SqlDialect } from '../schema.js';

export function breakGlassSealedReasonSchema(dialect: SqlDialect): string[] {
  return [`ALTER TABLE break_glass_sessions ADD COLUMN reason_sealed ${dialect === 'postgres' ? 'BYTEA' : 'BLOB'}`];
}
