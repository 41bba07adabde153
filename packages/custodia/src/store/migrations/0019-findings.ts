/**
 * Migration 0019: detection findings (issue 6 §4, store/finding-store.ts). The columns an
 * analyst filters and sorts on are plain; the explanation (feature values, which may be a
 * device's vital signs) and the analyst's note are one sealed `detail` (tenant key,
 * purpose `finding`, bound to the finding id). `dedup_key` finds the open finding a
 * repeat merges into; `version` makes every update a compare-and-set.
 */
import type { SqlDialect } from '../schema.js';

export function findingSchema(dialect: SqlDialect): string[] {
  const pg = dialect === 'postgres';
  const text = pg ? 'TEXT COLLATE "C"' : 'TEXT';
  const big = pg ? 'BIGINT' : 'INTEGER';
  return [
    `CREATE TABLE detect_findings (
      id ${text} PRIMARY KEY,
      dedup_key ${text} NOT NULL,
      device ${text} NOT NULL,
      detector ${text} NOT NULL,
      severity ${text} NOT NULL,
      status ${text} NOT NULL,
      count ${big} NOT NULL,
      start_at ${big} NOT NULL,
      end_at ${big} NOT NULL,
      first_seen ${big} NOT NULL,
      last_seen ${big} NOT NULL,
      updated_at ${big} NOT NULL,
      updated_by ${text},
      summary TEXT NOT NULL,
      detail ${pg ? 'BYTEA' : 'BLOB'} NOT NULL,
      version ${big} NOT NULL
    )`,
    'CREATE INDEX detect_findings_key ON detect_findings (dedup_key, last_seen)',
    'CREATE INDEX detect_findings_status ON detect_findings (status, last_seen)',
    'CREATE INDEX detect_findings_device ON detect_findings (device, last_seen)',
  ];
}
