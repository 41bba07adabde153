/**
 * Migration 0015: the tail of a blind prefix row (store/blind-search.ts). A sealed name or
 * address part keeps one index row per prefix of up to three characters (four in rows
 * written by the first release of this layout; searches find both); the blind indexes
 * of its longer prefixes are concatenated in the last row's `tail`, which a longer search
 * term checks with substr(). Rows written before this migration (one per prefix, no tail)
 * are still found: the search also looks up the term's whole prefix.
 */
import type { SqlDialect } from '../schema.js';

export function blindPrefixTailSchema(dialect: SqlDialect): string[] {
  return [`ALTER TABLE sp_string ADD COLUMN tail ${dialect === 'postgres' ? 'TEXT COLLATE "C"' : 'TEXT'}`];
}
