/**
 * Migration 0027: the device baselines the detection stream keeps between runs
 * (store/baseline-store.ts; detect/baseline-snapshot.ts), one row per device, so that a
 * restart or a partition of the telemetry bus moving to another scorer does not send every
 * device back to its learning period. The snapshot holds a device's recent vital signs,
 * which are patient data: it is sealed under the tenant key, bound to the device. Rows
 * not saved for longer than the baselines' window are deleted as new ones are kept.
 */
import type { SqlDialect } from '../schema.js';

export function deviceBaselineSchema(dialect: SqlDialect): string[] {
  const pg = dialect === 'postgres';
  const text = pg ? 'TEXT COLLATE "C"' : 'TEXT';
  const big = pg ? 'BIGINT' : 'INTEGER';
  return [
    `CREATE TABLE detect_baselines (
      device ${text} PRIMARY KEY,
      saved_at ${big} NOT NULL,
      snapshot ${pg ? 'BYTEA' : 'BLOB'} NOT NULL
    )`,
    'CREATE INDEX detect_baselines_saved ON detect_baselines (saved_at)',
  ];
}
