/**
 * Migration 0022: grants by user and client, for a sign-out (OpenID Connect RP-Initiated
 * Logout, access/oauth/end-session.ts) that ends every grant a user gave one app without
 * scanning every grant.
 */
export function grantsByUserSchema(): string[] {
  return ['CREATE INDEX oauth_grants_user_client ON oauth_grants (user_id, client_id)'];
}
