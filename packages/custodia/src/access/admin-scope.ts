/**
 * The scope that opens the administration API (`/admin/*`). Holding an administrative role
 * is not enough: the token must also have been issued for administration, so an app that
 * signed an administrator in for `openid fhirUser` or for clinical scopes cannot act as
 * an administrator with that token (least privilege; RFC 6749 §3.3 scope as the limit of
 * what a token may do). Granted only to administrators and privacy officers, only to
 * clients registered with it, and minted by `custodia token --user` for those roles.
 */
import type { Role } from './identity/roles.js';

export const ADMIN_SCOPE = 'custodia/admin';

/** The roles the administration scope is granted to. */
export const ADMIN_ROLES: readonly Role[] = ['admin', 'privacy-officer'];

export function hasAdminScope(scope: string): boolean {
  return scope.split(' ').includes(ADMIN_SCOPE);
}

/** `scopes` without the administration scope unless `role` may hold it. */
export function scopesForRole(scopes: readonly string[], role: Role): string[] {
  return ADMIN_ROLES.includes(role) ? [...scopes] : scopes.filter((s) => s !== ADMIN_SCOPE);
}
