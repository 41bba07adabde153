/**
 * Migration 0010: a sign-in that enrols an authenticator remembers which secret it showed
 * (its SHA-256), so only that secret can be confirmed through it
 * (access/oauth/authorization-flow.ts).
 */
export function pendingEnrolmentSchema(): string[] {
  return ['ALTER TABLE oauth_pending ADD COLUMN enrolment_hash TEXT'];
}
