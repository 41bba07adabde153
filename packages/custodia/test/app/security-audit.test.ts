/**
 * The mapping of security events to audit records (app/security-audit.ts): every kind of
 * event, whatever the attacker-controlled text in it (a typed username, a presented
 * client id, a break-the-glass reason in any script, a forwarded address), becomes a
 * record the ledger accepts (isAuditRecord) and an auditor can decode — a malformed record
 * would make a successful sign-in fail closed for nothing. The text that does not fit is
 * cut, never at half a character.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeEntry, decodeEntry, isAuditRecord } from '../../src/ledger/index.js';
import type { SecurityEvent } from '../../src/access/index.js';
import { eventQuery, securityRecord } from '../../src/app/security-audit.js';

const user = { id: '6f1c2b1e-1d0f-4c5e-9a43-0c3c9b7f5a10', role: 'clinician', fhirUser: 'Practitioner/alice' } as const;
const place = { client: 'web-app', address: '203.0.113.9' };
const SALT = Buffer.alloc(32, 7).toString('base64');

/** One event of every kind, with `text` wherever an event carries free or attacker-controlled text. */
function everyKind(text: string, address: string): SecurityEvent[] {
  const at = { client: text.slice(0, 128) || 'c', address };
  return [
    { kind: 'login-succeeded', user, secondFactor: 'none', ...place },
    { kind: 'login-succeeded', user: { id: 'u1' }, secondFactor: 'recovery-code', ...at },
    { kind: 'login-failed', username: text.slice(0, 64), ...at },
    { kind: 'login-throttled', step: 'password', username: text.slice(0, 64), ...at },
    { kind: 'login-throttled', step: 'second-factor', user: { id: 'u1' }, ...at },
    { kind: 'mfa-succeeded', user, ...at },
    { kind: 'recovery-code-used', user, ...at },
    { kind: 'mfa-failed', user: { id: 'u1' }, method: 'recovery-code', enrolment: false, ...at },
    { kind: 'mfa-failed', user: { id: 'u1' }, method: 'totp', enrolment: true, ...at },
    { kind: 'mfa-enrolled', user, ...at },
    { kind: 'consent-granted', user, scope: `openid ${text}`.slice(0, 2000), patient: 'p-1', grant: 'g-1', ...at },
    { kind: 'token-issued', grantType: 'authorization_code', client: at.client, user, scope: 'openid', patient: 'p-1', grant: 'g-1', address },
    { kind: 'token-issued', grantType: 'client_credentials', client: at.client, scope: 'system/Patient.rs' },
    { kind: 'token-refused', grantType: 'other', client: at.client, error: 'unsupported_grant_type', address },
    { kind: 'token-revoked', client: at.client, token: 'grant', reason: 'refresh-reuse', grant: 'g-1', address },
    { kind: 'token-revoked', client: at.client, token: 'access_token', reason: 'client-request', user, patient: 'p-1' },
    { kind: 'logout', user, client: at.client, via: 'revocation', grants: ['g-1'], patients: ['p-1'], address },
    { kind: 'logout', user: { id: 'u1' }, client: text.slice(0, 128), via: 'end-session', grants: [], patients: [] },
    { kind: 'token-introspected', client: at.client, outcome: 'active', token: 'refresh_token', address },
    { kind: 'token-introspected', client: at.client, outcome: 'inactive' },
    { kind: 'token-introspected', client: at.client, outcome: 'refused', error: 'invalid_client', address },
    { kind: 'client-auth-failed', endpoint: 'introspection', method: 'unknown', clientId: text.slice(0, 128), error: 'invalid_client', address },
    { kind: 'client-auth-failed', endpoint: 'token', method: 'private_key_jwt', error: 'invalid_client' },
    { kind: 'break-glass-opened', user, client: 'web-app', patient: 'p-1', reason: text.slice(0, 2000), session: 's-1', expiresAt: Date.UTC(2026, 10, 1), address },
  ];
}

describe('security events as audit records', () => {
  it('maps every kind to a record the ledger accepts and decodes unchanged, whatever the text in it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 2500 }), fc.string({ maxLength: 100 }), (text, address) => {
        for (const e of everyKind(text, address)) {
          const record = securityRecord(e, 1_790_000_000_000);
          expect(isAuditRecord(record), `${e.kind}: ${JSON.stringify(record).slice(0, 300)}`).toBe(true);
          expect(decodeEntry(encodeEntry({ kind: 'audit', salt: SALT, event: record }))).toEqual({ kind: 'audit', salt: SALT, event: record });
        }
      }),
      { numRuns: 200 },
    );
  });

  it('keeps a typed username and a reason in the query only, and names user, client and address in the agent', () => {
    const failed = securityRecord({ kind: 'login-failed', username: 'alice typed this', ...place }, 1);
    expect(failed).toEqual({ at: 1, type: 'authn-failure', subtype: 'password', action: 'E', outcome: '4', outcomeCode: 'login-failed', agent: { who: 'anonymous', ...place }, patients: [], entities: [], query: 'username=alice+typed+this' });
    const btg = securityRecord({ kind: 'break-glass-opened', user, patient: 'p-1', reason: 'Unconscious & bleeding', session: 's-1', expiresAt: Date.UTC(2026, 10, 1) }, 1);
    expect(btg.agent).toEqual({ who: 'Practitioner/alice', onBehalfOf: `user:${user.id}`, roles: ['clinician'] });
    expect(new URLSearchParams(btg.query).get('reason')).toBe('Unconscious & bleeding');
    expect(JSON.stringify({ ...btg, query: undefined })).not.toContain('Unconscious');
  });

  it('records a logout as the user signing out of the client: the grants it ended and their patients, once each', () => {
    const logout = securityRecord({ kind: 'logout', user, via: 'end-session', grants: ['g-1', 'g-2'], patients: ['p-1', 'p-1'], ...place }, 1);
    expect(logout).toEqual({
      at: 1,
      type: 'logout',
      subtype: 'end-session',
      action: 'E',
      outcome: '0',
      agent: { who: 'Practitioner/alice', client: place.client, onBehalfOf: `user:${user.id}`, roles: ['clinician'], address: place.address },
      patients: ['p-1'],
      entities: ['oauth-grant/g-1', 'oauth-grant/g-2'],
    });
  });

  it('cuts a query that does not fit before an incomplete escape or character', () => {
    for (const ch of ['é', '急', '🚑', 'a']) {
      const reason = ch.repeat(2000);
      const q = eventQuery([['reason', reason]])!;
      expect(q.length).toBeLessThanOrEqual(4096);
      const decoded = new URLSearchParams(q).get('reason')!;
      expect(decoded).not.toContain('\uFFFD');
      expect(reason.startsWith(decoded)).toBe(true);
      expect(decoded.length).toBeGreaterThan(ch === 'a' ? 1999 : 300);
    }
    expect(eventQuery([['username', ''], ['other', undefined]])).toBeUndefined();
  });
});
