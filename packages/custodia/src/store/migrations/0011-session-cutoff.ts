/**
 * Migration 0011: the instant before which a user's tokens are void (epoch ms), set when
 * the account is disabled, its password reset by the operator or its second factor reset
 * (access/user-standing.ts). Re-enabling an account does not bring older tokens back.
 */
export function sessionCutoffSchema(): string[] {
  return ['ALTER TABLE identity_users ADD COLUMN sessions_not_before BIGINT'];
}
