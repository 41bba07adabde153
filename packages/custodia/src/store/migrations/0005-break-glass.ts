/** Migration 0004: break-the-glass sessions and their review queue. */
import type { SqlDialect } from '../schema.js';

export function breakGlassSchema(dialect: SqlDialect): string[] {
  const text = dialect === 'postgres' ? 'TEXT COLLATE "C"' : 'TEXT';
  const big = dialect === 'postgres' ? 'BIGINT' : 'INTEGER';
  return [
    `CREATE TABLE break_glass_sessions (
      id ${text} PRIMARY KEY,
      user_id ${text} NOT NULL,
      patient_id ${text} NOT NULL,
      reason TEXT NOT NULL,
      started_at ${big} NOT NULL,
      expires_at ${big} NOT NULL,
      review ${text} NOT NULL,
      reviewer ${text},
      review_note TEXT,
      reviewed_at ${big}
    )`,
    `CREATE INDEX break_glass_active ON break_glass_sessions (user_id, expires_at)`,
    `CREATE INDEX break_glass_review ON break_glass_sessions (review, started_at)`,
  ];
}
