/** Migration 0008: sensitive-data clearances an administrator grants to a user (a JSON array of v3 codes). */
export function clearanceSchema(): string[] {
  return [`ALTER TABLE identity_users ADD COLUMN clearances TEXT NOT NULL DEFAULT '[]'`];
}
