/**
 * Migration 0004: identities. Users (role, fhirUser, status, password hash, TOTP
 * enrolment with its last used time step, failure count and lock), their recovery codes,
 * client applications, and per-role policies.
 *
 * Timestamps are epoch milliseconds; flags are 0/1 integers; names that are looked up
 * are byte-ordered (`COLLATE "C"` on PostgreSQL) and normalised in the domain, so both
 * dialects answer alike. Secrets are stored only as hashes, except the TOTP secret,
 * which verification needs in the clear (encryption at rest arrives with issue 4).
 */
import type { SqlDialect } from '../schema.js';

function statements(d: SqlDialect): string[] {
  const text = d === 'postgres' ? 'TEXT COLLATE "C"' : 'TEXT';
  const big = d === 'postgres' ? 'BIGINT' : 'INTEGER';
  const flag = d === 'postgres' ? 'SMALLINT' : 'INTEGER';
  const rowId = d === 'postgres' ? 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY' : 'INTEGER PRIMARY KEY';
  return [
    `CREATE TABLE identity_users (
      id ${text} PRIMARY KEY,
      username ${text} NOT NULL UNIQUE,
      role ${text} NOT NULL,
      fhir_user ${text},
      status ${text} NOT NULL,
      password_hash TEXT NOT NULL,
      totp_secret TEXT,
      totp_algorithm TEXT,
      totp_digits INTEGER,
      totp_confirmed ${flag} NOT NULL DEFAULT 0,
      totp_last_step ${big},
      failed_logins INTEGER NOT NULL DEFAULT 0,
      locked_until ${big},
      created_at ${big} NOT NULL,
      updated_at ${big} NOT NULL
    )`,
    `CREATE INDEX identity_users_fhir_user ON identity_users (fhir_user)`,
    `CREATE TABLE identity_recovery_codes (
      id ${rowId},
      user_id ${text} NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
      code_hash TEXT NOT NULL,
      used_at ${big},
      created_at ${big} NOT NULL
    )`,
    `CREATE INDEX identity_recovery_codes_user ON identity_recovery_codes (user_id)`,
    `CREATE TABLE identity_clients (
      client_id ${text} PRIMARY KEY,
      name TEXT NOT NULL,
      kind ${text} NOT NULL,
      redirect_uris TEXT NOT NULL,
      scope TEXT NOT NULL,
      secret_hash TEXT,
      jwks TEXT,
      jwks_uri TEXT,
      status ${text} NOT NULL,
      created_at ${big} NOT NULL,
      updated_at ${big} NOT NULL
    )`,
    `CREATE TABLE identity_role_policies (
      role ${text} PRIMARY KEY,
      mfa_required ${flag} NOT NULL,
      updated_at ${big} NOT NULL
    )`,
  ];
}

export function identitySchema(dialect: SqlDialect): string[] {
  return statements(dialect);
}
