/**
 * Migration 0006: the SMART / OAuth 2.0 authorization server's state, shared by every
 * server process. Codes, refresh tokens, launch ids and pending-request handles are
 * stored only as SHA-256 (base64url); times are epoch milliseconds; looked-up text is
 * byte-ordered (`COLLATE "C"` on PostgreSQL). Rows are deleted once expired
 * (`OAuthStore.purgeExpired`).
 *
 * - oauth_pending: sign-ins in progress (validated request as JSON, stage, user).
 * - oauth_grants: one per authorization (a refresh-token family), its context as JSON.
 * - oauth_codes: authorization codes, kept (used) while their grant lives, to detect reuse.
 * - oauth_refresh_tokens: every refresh token of a family; `used_at` once rotated.
 * - oauth_grant_tokens: access-token ids issued under a grant, to revoke them with it.
 * - oauth_revoked_tokens: the revocation list the token service checks.
 * - oauth_assertion_ids: client-assertion `jti`s seen (RFC 7523 §3 replay defence).
 * - oauth_launches: EHR launch contexts.
 */
import type { SqlDialect } from '../schema.js';

export function oauthSchema(d: SqlDialect): string[] {
  const text = d === 'postgres' ? 'TEXT COLLATE "C"' : 'TEXT';
  const big = d === 'postgres' ? 'BIGINT' : 'INTEGER';
  return [
    `CREATE TABLE oauth_pending (
      handle_hash ${text} PRIMARY KEY,
      browser_hash TEXT NOT NULL,
      csrf_hash TEXT NOT NULL,
      client_id ${text} NOT NULL,
      request TEXT NOT NULL,
      stage ${text} NOT NULL,
      version INTEGER NOT NULL,
      user_id ${text},
      auth_time ${big},
      candidates TEXT,
      attempts INTEGER NOT NULL,
      created_at ${big} NOT NULL,
      expires_at ${big} NOT NULL
    )`,
    `CREATE INDEX oauth_pending_expiry ON oauth_pending (expires_at)`,
    `CREATE TABLE oauth_grants (
      id ${text} PRIMARY KEY,
      client_id ${text} NOT NULL,
      user_id ${text} NOT NULL,
      context TEXT NOT NULL,
      created_at ${big} NOT NULL,
      expires_at ${big} NOT NULL,
      revoked_at ${big}
    )`,
    `CREATE INDEX oauth_grants_expiry ON oauth_grants (expires_at)`,
    `CREATE TABLE oauth_codes (
      code_hash ${text} PRIMARY KEY,
      grant_id ${text} NOT NULL,
      client_id ${text} NOT NULL,
      redirect_uri TEXT NOT NULL,
      code_challenge TEXT NOT NULL,
      expires_at ${big} NOT NULL,
      used_at ${big}
    )`,
    `CREATE INDEX oauth_codes_grant ON oauth_codes (grant_id)`,
    `CREATE TABLE oauth_refresh_tokens (
      token_hash ${text} PRIMARY KEY,
      grant_id ${text} NOT NULL,
      created_at ${big} NOT NULL,
      expires_at ${big} NOT NULL,
      used_at ${big}
    )`,
    `CREATE INDEX oauth_refresh_tokens_grant ON oauth_refresh_tokens (grant_id)`,
    `CREATE TABLE oauth_grant_tokens (
      jti ${text} PRIMARY KEY,
      grant_id ${text} NOT NULL,
      expires_at ${big} NOT NULL
    )`,
    `CREATE INDEX oauth_grant_tokens_grant ON oauth_grant_tokens (grant_id)`,
    `CREATE TABLE oauth_revoked_tokens (
      jti ${text} PRIMARY KEY,
      expires_at ${big} NOT NULL
    )`,
    `CREATE INDEX oauth_revoked_tokens_expiry ON oauth_revoked_tokens (expires_at)`,
    `CREATE TABLE oauth_assertion_ids (
      client_id ${text} NOT NULL,
      jti ${text} NOT NULL,
      expires_at ${big} NOT NULL,
      PRIMARY KEY (client_id, jti)
    )`,
    `CREATE INDEX oauth_assertion_ids_expiry ON oauth_assertion_ids (expires_at)`,
    `CREATE TABLE oauth_launches (
      id_hash ${text} PRIMARY KEY,
      patient ${text} NOT NULL,
      encounter ${text},
      created_by ${text} NOT NULL,
      bound_user ${text},
      created_at ${big} NOT NULL,
      expires_at ${big} NOT NULL
    )`,
    `CREATE INDEX oauth_launches_expiry ON oauth_launches (expires_at)`,
  ];
}
