/**
 * The roles of the vault's users. A role says what kind of person signs in; what each
 * role may read or change is the access decision's business (built on top of this).
 */
export const ROLES = ['clinician', 'nurse', 'admin', 'privacy-officer', 'patient'] as const;

export type Role = (typeof ROLES)[number];

/** True when `s` names a role (operator or request input: check before trusting it). */
export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

/** Per-role settings an administrator may change. */
export interface RolePolicy {
  /** Every user of the role must pass a second factor (TOTP or a recovery code) to sign in. */
  readonly mfaRequired: boolean;
}

/** What a role gets when no administrator has set anything. */
export const DEFAULT_ROLE_POLICY: RolePolicy = Object.freeze({ mfaRequired: false });
