/**
 * Migration 0025: the id and expiry of every bearer token this vault issues — the
 * authorization server's access tokens (user and client) and `custodia token`'s — so that
 * a revocation by id (`custodia token revoke --jti`, `POST /admin/tokens/{jti}/revoke`) is
 * checked against what was issued and kept for as long as that token lives, instead of
 * taking any text for an id: a mistyped id was accepted, revoked nothing, and left the
 * token the operator meant to stop working.
 *
 * The user tokens still alive under a grant are copied in; client and `custodia token`
 * tokens issued before this migration have no record (the CLI revokes such an id with
 * `--unrecorded`, as before).
 */
import type { SqlDialect } from '../schema.js';

export function issuedTokenSchema(dialect: SqlDialect): string[] {
  const pg = dialect === 'postgres';
  const big = pg ? 'BIGINT' : 'INTEGER';
  const text = pg ? 'TEXT COLLATE "C"' : 'TEXT';
  return [
    `CREATE TABLE oauth_issued_tokens (jti ${text} PRIMARY KEY, expires_at ${big} NOT NULL)`,
    'CREATE INDEX oauth_issued_tokens_expiry ON oauth_issued_tokens (expires_at)',
    'INSERT INTO oauth_issued_tokens (jti, expires_at) SELECT jti, expires_at FROM oauth_grant_tokens',
  ];
}
