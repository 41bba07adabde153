/**
 * Migration 0013: legal holds (issue 4, erasure). A patient under a hold cannot be erased
 * (GDPR Art. 17(3)(e): claims and litigation) until the hold is released; the row says
 * who placed it, when and why.
 */
import type { SqlDialect } from '../schema.js';

export function legalHoldSchema(dialect: SqlDialect): string[] {
  const text = dialect === 'postgres' ? 'TEXT COLLATE "C"' : 'TEXT';
  return [`CREATE TABLE legal_holds (patient_id ${text} PRIMARY KEY, reason TEXT NOT NULL, placed_by TEXT NOT NULL, placed_at BIGINT NOT NULL)`];
}
