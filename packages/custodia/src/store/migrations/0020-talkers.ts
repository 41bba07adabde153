/**
 * Migration 0020: the inventory of unknown talkers (issue 6 §2, store/talker-store.ts):
 * network endpoints that sent device telemetry but match no FHIR Device by MAC or IP.
 * Plain columns: an address or MAC of a device on the hospital network is not patient data.
 */
import type { SqlDialect } from '../schema.js';

export function talkerSchema(dialect: SqlDialect): string[] {
  const pg = dialect === 'postgres';
  const text = pg ? 'TEXT COLLATE "C"' : 'TEXT';
  const big = pg ? 'BIGINT' : 'INTEGER';
  return [
    `CREATE TABLE detect_talkers (
      talker ${text} PRIMARY KEY,
      mac ${text},
      address ${text},
      first_seen ${big} NOT NULL,
      last_seen ${big} NOT NULL,
      flows ${big} NOT NULL
    )`,
    'CREATE INDEX detect_talkers_seen ON detect_talkers (last_seen)',
  ];
}
