/**
 * Security events (access/security-events.ts) as audit records in the ledger (issue 5
 * §1), in the BALP shape of ledger/audit-record.ts:
 *
 * | event              | type          | subtype                               | action | outcome |
 * |--------------------|---------------|---------------------------------------|--------|---------|
 * | login-succeeded    | login         | password, password+totp, …            | E      | 0       |
 * | login-failed       | authn-failure | password                              | E      | 4       |
 * | login-throttled    | authn-failure | password, second-factor               | E      | 4       |
 * | mfa-succeeded      | mfa           | totp                                  | E      | 0       |
 * | recovery-code-used | mfa           | recovery-code                         | E      | 0       |
 * | mfa-failed         | mfa           | totp, recovery-code, totp-enrolment   | E      | 4       |
 * | mfa-enrolled       | mfa           | totp-enrolment                        | C      | 0       |
 * | consent-granted    | consent       | smart-authorization                   | C      | 0       |
 * | token-issued       | token         | the grant type                        | C      | 0       |
 * | token-refused      | token         | the grant type, or `other`            | E      | 4       |
 * | token-revoked      | token         | revoke                                | D      | 0       |
 * | logout             | logout        | revocation, end-session               | E      | 0       |
 * | token-introspected | token         | introspect                            | E      | 0 or 4  |
 * | client-auth-failed | authn-failure | client                                | E      | 4       |
 * | break-glass-opened | break-glass   | open                                  | C      | 0       |
 *
 * The agent is the user (their fhirUser, on behalf of `user:<id>`, as for FHIR requests),
 * `client:<id>` for a backend service, or `anonymous` before anyone is known; with the
 * OAuth client and the network address. `patients` names the patient context of a grant
 * or token (every grant a logout ended) and the patient of a break-the-glass session, so those records are sealed
 * under that patient's key and listed in the patient's audit index. `outcomeCode` is the
 * vault's error code (`login-failed`, `login-throttled`) or the RFC 6749 §5.2 OAuth error
 * code (`invalid_grant`, `invalid_client`, …). `query` carries the event's parameters,
 * form-encoded (scope, second factor, reason for revocation, and — in the sealed entry
 * only, as every audit entry is sealed — the username typed into a failed sign-in and a
 * break-the-glass reason). Nothing a caller could authenticate with is ever recorded.
 *
 * A logout is action E (Execute), as a login is: IHE ATNA's User Authentication event
 * (DICOM 110114, subtype 110123 Logout) records both with E; the grants it ended are its
 * entities, as for a revocation (D), which it takes the place of.
 */
import type { EventUser, SecurityEvent, SecurityEventSink } from '../access/index.js';
import { MAX_ENTITIES, type AuditAgent, type AuditRecord } from '../ledger/index.js';
import type { AuditTrail } from './audit-trail.js';

const MAX_QUERY = 4096;

/** The sink of the vault: each event is one audit record, durable when `record` resolves (`audit-unavailable` otherwise). */
export function auditedSecurityEvents(audit: Pick<AuditTrail, 'record' | 'clock'>): SecurityEventSink {
  return { record: (e) => audit.record([securityRecord(e, audit.clock.now())]) };
}

/** `client` and `address` as the record holds them: bounded, and absent rather than empty (a record the ledger refuses would fail a sign-in for nothing). */
function whereFrom(client: string | undefined, address: string | undefined): Pick<AuditAgent, 'client' | 'address'> {
  return { ...(client === undefined || client === '' ? {} : { client: client.slice(0, 256) }), ...(address === undefined || address === '' ? {} : { address: address.slice(0, 64) }) };
}

function userAgent(u: EventUser, client: string | undefined, address: string | undefined): AuditAgent {
  const { client: c, address: a } = whereFrom(client, address);
  return {
    who: (u.fhirUser ?? `user:${u.id}`).slice(0, 256),
    ...(c === undefined ? {} : { client: c }),
    ...(u.fhirUser === undefined ? {} : { onBehalfOf: `user:${u.id}`.slice(0, 256) }),
    ...(u.role === undefined ? {} : { roles: [u.role] }),
    ...(a === undefined ? {} : { address: a }),
  };
}

function otherAgent(who: string, client: string | undefined, address: string | undefined): AuditAgent {
  return { who: who.slice(0, 256), ...whereFrom(client, address) };
}

/**
 * `application/x-www-form-urlencoded` pairs, at most {@link MAX_QUERY} characters: a
 * longer text (a long break-the-glass reason written in a non-Latin script) is cut
 * before an incomplete escape or UTF-8 sequence.
 */
export function eventQuery(pairs: readonly (readonly [string, string | undefined])[]): string | undefined {
  const text = new URLSearchParams(pairs.filter((p): p is [string, string] => p[1] !== undefined && p[1] !== '')).toString();
  if (text.length <= MAX_QUERY) return text === '' ? undefined : text;
  let cut = text.slice(0, MAX_QUERY).replace(/%[0-9A-F]?$/, '');
  const tail = /(?:%[C-F][0-9A-F])(?:%[89AB][0-9A-F])*$/.exec(cut);
  if (tail !== null) {
    const lead = parseInt(tail[0].slice(1, 3), 16);
    const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    if (tail[0].length / 3 < length) cut = cut.slice(0, tail.index);
  }
  return cut;
}

const patientsOf = (patient: string | undefined): string[] => (patient === undefined || patient === '' ? [] : [patient.slice(0, 64)]);
const grantEntity = (grant: string | undefined): string[] => (grant === undefined ? [] : [`oauth-grant/${grant}`.slice(0, 256)]);

type Shape = Omit<AuditRecord, 'at' | 'patients' | 'entities' | 'query'> & { patients?: readonly string[]; entities?: readonly string[]; query?: string | undefined };

function shapeOf(e: SecurityEvent): Shape {
  const ok = { outcome: '0' } as const;
  const refused = (outcomeCode: string) => ({ outcome: '4', outcomeCode: outcomeCode.slice(0, 64) }) as const;
  switch (e.kind) {
    case 'login-succeeded':
      return {
        type: 'login',
        subtype: e.secondFactor === 'none' ? 'password' : e.secondFactor === 'enrolled' ? 'password+totp-enrolment' : `password+${e.secondFactor}`,
        action: 'E',
        ...ok,
        agent: userAgent(e.user, e.client, e.address),
      };
    case 'login-failed':
      return { type: 'authn-failure', subtype: 'password', action: 'E', ...refused('login-failed'), agent: otherAgent('anonymous', e.client, e.address), query: eventQuery([['username', e.username]]) };
    case 'login-throttled':
      return {
        type: 'authn-failure',
        subtype: e.step,
        action: 'E',
        ...refused('login-throttled'),
        agent: e.user === undefined ? otherAgent('anonymous', e.client, e.address) : userAgent(e.user, e.client, e.address),
        query: eventQuery([['username', e.username]]),
      };
    case 'mfa-succeeded':
      return { type: 'mfa', subtype: 'totp', action: 'E', ...ok, agent: userAgent(e.user, e.client, e.address) };
    case 'recovery-code-used':
      return { type: 'mfa', subtype: 'recovery-code', action: 'E', ...ok, agent: userAgent(e.user, e.client, e.address) };
    case 'mfa-failed':
      return { type: 'mfa', subtype: e.enrolment ? 'totp-enrolment' : e.method, action: 'E', ...refused('login-failed'), agent: userAgent(e.user, e.client, e.address) };
    case 'mfa-enrolled':
      return { type: 'mfa', subtype: 'totp-enrolment', action: 'C', ...ok, agent: userAgent(e.user, e.client, e.address) };
    case 'consent-granted':
      return {
        type: 'consent',
        subtype: 'smart-authorization',
        action: 'C',
        ...ok,
        agent: userAgent(e.user, e.client, e.address),
        patients: patientsOf(e.patient),
        entities: grantEntity(e.grant),
        query: eventQuery([['scope', e.scope]]),
      };
    case 'token-issued':
      return {
        type: 'token',
        subtype: e.grantType,
        action: 'C',
        ...ok,
        // The issued token's id: AuditEvent?policy= finds this issuance with every use of the token.
        agent: { ...(e.user === undefined ? otherAgent(`client:${e.client}`, undefined, e.address) : userAgent(e.user, e.client, e.address)), ...(e.tokenId === undefined ? {} : { token: e.tokenId.slice(0, 256) }) },
        patients: patientsOf(e.patient),
        entities: grantEntity(e.grant),
        query: eventQuery([['scope', e.scope]]),
      };
    case 'token-refused':
      return { type: 'token', subtype: e.grantType, action: 'E', ...refused(e.error), agent: otherAgent(`client:${e.client}`, undefined, e.address) };
    case 'token-revoked':
      return {
        type: 'token',
        subtype: 'revoke',
        action: 'D',
        ...ok,
        // A client revokes for its user (sign-out) or for itself; the server ends a family it no longer trusts.
        agent: e.reason !== 'client-request' ? otherAgent('custodia', e.client, e.address) : e.user === undefined ? otherAgent(`client:${e.client}`, undefined, e.address) : userAgent(e.user, e.client, e.address),
        patients: patientsOf(e.patient),
        entities: grantEntity(e.grant),
        query: eventQuery([
          ['token', e.token],
          ['reason', e.reason],
        ]),
      };
    case 'logout':
      return {
        type: 'logout',
        subtype: e.via,
        action: 'E',
        ...ok,
        agent: userAgent(e.user, e.client, e.address),
        patients: [...new Set(e.patients.flatMap(patientsOf))],
        entities: e.grants.flatMap(grantEntity),
      };
    case 'token-introspected':
      // The client learned about a token; which one, and whose, is not recorded (no token, no subject).
      return {
        type: 'token',
        subtype: 'introspect',
        action: 'E',
        ...(e.outcome === 'refused' ? refused(e.error ?? 'invalid_request') : ok),
        agent: otherAgent(`client:${e.client}`, undefined, e.address),
        query: eventQuery([
          ['active', e.outcome === 'refused' ? undefined : String(e.outcome === 'active')],
          ['token', e.token],
        ]),
      };
    case 'client-auth-failed':
      return {
        type: 'authn-failure',
        subtype: 'client',
        action: 'E',
        ...refused(e.error),
        agent: otherAgent('anonymous', undefined, e.address),
        query: eventQuery([
          ['client_id', e.clientId],
          ['method', e.method],
          ['endpoint', e.endpoint],
        ]),
      };
    case 'break-glass-opened':
      return {
        type: 'break-glass',
        subtype: 'open',
        action: 'C',
        ...ok,
        agent: userAgent(e.user, e.client, e.address),
        purposeOfUse: 'BTG',
        breakGlass: true,
        patients: patientsOf(e.patient),
        entities: [`Patient/${e.patient}`.slice(0, 256), `break-glass/${e.session}`.slice(0, 256)],
        query: eventQuery([
          ['expires', new Date(e.expiresAt).toISOString()],
          ['reason', e.reason],
        ]),
      };
  }
}

/** The audit record of a security event at `at` (epoch ms). */
export function securityRecord(e: SecurityEvent, at: number): AuditRecord {
  const { patients = [], entities = [], query, ...rest } = shapeOf(e);
  return { at, ...rest, patients: patients.slice(0, MAX_ENTITIES), entities: entities.slice(0, MAX_ENTITIES), ...(query === undefined ? {} : { query }) };
}
