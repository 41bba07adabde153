/** The administration scope: which flows and roles it reaches (access/admin-scope.ts, oauth/scope-grant.ts). */
import { describe, expect, it } from 'vitest';
import { ADMIN_SCOPE, hasAdminScope, scopesForRole } from '../../src/access/index.js';
import { grantScopes } from '../../src/access/oauth/index.js';

describe('the custodia/admin scope', () => {
  it('is granted by the authorization code flow only to clients registered with it', () => {
    expect(grantScopes(['openid', ADMIN_SCOPE], `openid ${ADMIN_SCOPE}`, 'authorization_code')).toEqual(['openid', ADMIN_SCOPE]);
    expect(grantScopes(['openid', ADMIN_SCOPE], 'openid user/*.cruds', 'authorization_code')).toEqual(['openid']);
    expect(() => grantScopes([ADMIN_SCOPE], `system/*.rs ${ADMIN_SCOPE}`, 'client_credentials')).toThrow(/None of the requested scopes/);
  });

  it('is kept only for administrators and privacy officers', () => {
    const asked = ['openid', 'user/*.rs', ADMIN_SCOPE];
    expect(scopesForRole(asked, 'admin')).toEqual(asked);
    expect(scopesForRole(asked, 'privacy-officer')).toEqual(asked);
    for (const role of ['clinician', 'nurse', 'patient'] as const) expect(scopesForRole(asked, role)).toEqual(['openid', 'user/*.rs']);
  });

  it('is recognised as a whole scope token only', () => {
    expect(hasAdminScope(`openid ${ADMIN_SCOPE}`)).toBe(true);
    expect(hasAdminScope('custodia/admins openid')).toBe(false);
    expect(hasAdminScope('')).toBe(false);
  });
});
