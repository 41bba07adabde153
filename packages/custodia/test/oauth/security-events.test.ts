/**
 * Security events in the audit ledger (issue 5 §1: "login, logout, failed authentication
 * and MFA events; token issuance, consent changes, break-the-glass"), driven over real
 * HTTP through the sign-in pages, the token, introspection and revocation endpoints and the FHIR API,
 * then read back from the ledger and decoded as an auditor would: who, from where,
 * through which client, what happened, for which patient. No password, code, token or
 * secret reaches any entry or the stored bytes; the username typed into a failed sign-in
 * and a break-the-glass reason are in the sealed entry only. When the ledger cannot be
 * written, a sign-in, a consent, a token, an active introspection answer or a
 * break-the-glass session does not happen, while a refusal stays the same refusal and a
 * revocation still holds. On SQLite and
 * PostgreSQL.
 */
import { existsSync, readFileSync } from 'node:fs';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base32Decode, totpAt } from '../../src/access/index.js';
import { auditEventResource, verifyLedger } from '../../src/app/index.js';
import { decodeEntry, type AuditRecord } from '../../src/ledger/index.js';
import type { LedgerLog } from '../../src/store/index.js';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { scan } from '../helpers/plaintext-scan.js';
import { openRawDatabase, type RawDatabase } from '../helpers/raw-database.js';
import { authorizeUrl, basicAuth, Browser, createPatient, parseForm, pkce, postForm, PASSWORD, REDIRECT, signIn, startOAuthServer, type OAuthHarness, type Page } from './oauth-harness.js';

const APP_SCOPE = 'openid fhirUser launch/patient offline_access patient/*.rs user/*.rs';
const SERVER_SCOPE = 'openid user/Patient.rs offline_access';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const BTG_REASON = 'Unconscious in the emergency department; allergies unknown';
/** Three attempts per address, practically never refilled: each test signs in from addresses of its own. */
const THROTTLE = { capacity: 3, refillPerMinute: 0.001 };

interface Appended {
  readonly idx: number;
  readonly keyId: string | null;
  readonly record: AuditRecord;
}

/** `s` as a form-encoded value (how an audit record's `query` carries text). */
const formEncoded = (s: string): string => new URLSearchParams([['x', s]]).toString().slice(2);
/** The forms a secret could take in a record: as is, form-encoded, percent-encoded. */
const formsOf = (s: string): string[] => [...new Set([s, formEncoded(s), encodeURIComponent(s)])];
const ledgerLog = (h: OAuthHarness): LedgerLog => (h.vault.ledger as unknown as { log: LedgerLog }).log;
const agentAt = (address: string) => ({ address });

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`security events in the audit ledger on ${name}`, () => {
    let h: OAuthHarness;
    let raw: RawDatabase;
    let patientId: string;
    let aliceId: string;
    let bobId: string;
    let ninaId: string;
    let serverSecret: string;
    let bobTotp: { secret: string; algorithm: 'SHA1' | 'SHA256' | 'SHA512'; digits: number; period: number };
    let bobRecovery: readonly string[];
    let lastAddress = 0;
    /** Everything a caller could authenticate with that went over the wire in these tests: none of it may be recorded. */
    const secrets = new Set<string>([PASSWORD]);
    /** Text that may be in a sealed entry but never in the stored bytes. */
    const sealedOnly = new Set<string>([BTG_REASON]);

    /** A fresh client address (the harness trusts X-Forwarded-For from 127.0.0.1), so the sign-in throttle counts each test apart. */
    const nextAddress = (): string => `198.51.100.${++lastAddress}`;

    /** Runs `fn`; the audit records it appended, decoded, with the key each leaf is sealed under. */
    const appendedBy = async (fn: () => Promise<unknown>): Promise<Appended[]> => {
      const from = await ledgerLog(h).appendedSize();
      await fn();
      const leaves = await ledgerLog(h).scanLeaves(from, 10_000);
      return leaves.flatMap((l) => {
        const entry = decodeEntry(ledgerLog(h).openLeaf(l));
        return entry.kind === 'audit' ? [{ idx: l.idx, keyId: l.keyId, record: entry.event }] : [];
      });
    };
    /** The security events among them (not the FHIR requests). */
    const security = (a: readonly Appended[]): AuditRecord[] => a.filter((x) => x.record.type !== 'rest').map((x) => x.record);
    const summary = (r: AuditRecord): string => `${r.type}/${r.subtype}/${r.outcome}${r.outcomeCode === undefined ? '' : `/${r.outcomeCode}`}`;
    const paramsOf = (r: AuditRecord): URLSearchParams => new URLSearchParams(r.query ?? '');

    const block = async (): Promise<void> => {
      if (name === 'sqlite') {
        await raw.query(`CREATE TRIGGER test_block_ledger BEFORE INSERT ON ledger_leaves BEGIN SELECT RAISE(ABORT, 'ledger blocked by test'); END`);
      } else {
        await raw.query(`CREATE FUNCTION test_block_ledger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'ledger blocked by test'; END $$`);
        await raw.query('CREATE TRIGGER test_block_ledger BEFORE INSERT ON ledger_leaves FOR EACH ROW EXECUTE FUNCTION test_block_ledger()');
      }
    };
    const unblock = async (): Promise<void> => {
      if (name === 'sqlite') {
        await raw.query('DROP TRIGGER IF EXISTS test_block_ledger');
      } else {
        await raw.query('DROP TRIGGER IF EXISTS test_block_ledger ON ledger_leaves');
        await raw.query('DROP FUNCTION IF EXISTS test_block_ledger()');
      }
    };
    /** Runs `fn` with every insert into the ledger failing. */
    const whileBlocked = async <T>(fn: () => Promise<T>): Promise<T> => {
      await block();
      try {
        return await fn();
      } finally {
        await unblock();
      }
    };

    /** An authorization request of `clientId` from a browser at `address`: the sign-in page, and the PKCE verifier. */
    const start = async (address: string, clientId = 'web-app', scope = APP_SCOPE): Promise<{ browser: Browser; url: string; verifier: string }> => {
      const { verifier, challenge } = await pkce();
      secrets.add(verifier);
      const url = authorizeUrl(h, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, scope, state: 'state-1234', code_challenge: challenge, code_challenge_method: 'S256', aud: h.fhirBase });
      return { browser: new Browser({ 'x-forwarded-for': address }), url, verifier };
    };
    const codeOf = (location: string): string => {
      const code = new URL(location).searchParams.get('code');
      if (code === null) throw new Error(`no code in ${location}`);
      secrets.add(code);
      return code;
    };
    /** The token endpoint's answer to an authorization code (a public client unless `auth` is given). */
    const redeem = async (code: string, verifier: string, o: { clientId?: string; auth?: string; address?: string } = {}) => {
      const reply = await postForm(
        `${h.issuer}/oauth/token`,
        { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, ...(o.auth === undefined ? { client_id: o.clientId ?? 'web-app' } : {}) },
        { ...(o.auth === undefined ? {} : { authorization: o.auth }), ...(o.address === undefined ? {} : { 'x-forwarded-for': o.address }) },
      );
      for (const k of ['access_token', 'refresh_token', 'id_token']) if (typeof reply.body?.[k] === 'string') secrets.add(reply.body[k]);
      return reply;
    };

    beforeAll(async () => {
      h = await startOAuthServer(name, { config: { trustedProxies: ['127.0.0.1'] }, throttle: THROTTLE });
      raw = await openRawDatabase(h.db);
      patientId = await createPatient(h, 'Lovelace', 'Ada', 'MRN-1815');
      await h.vault.identity.addClient({ clientId: 'web-app', name: 'Web App', public: true, redirectUris: [REDIRECT], scope: APP_SCOPE });
      serverSecret = (await h.vault.identity.addClient({ clientId: 'server-app', name: 'Server App', redirectUris: [REDIRECT], scope: SERVER_SCOPE })).clientSecret!;
      secrets.add(serverSecret);
      aliceId = (await h.vault.identity.addUser({ username: 'alice', role: 'clinician', fhirUser: 'Practitioner/alice', password: PASSWORD })).user.id;
      bobId = (await h.vault.identity.addUser({ username: 'bob', role: 'clinician', fhirUser: 'Practitioner/bob', password: PASSWORD })).user.id;
      bobTotp = await h.vault.identity.enrollTotp(bobId);
      bobRecovery = (await h.vault.identity.confirmTotp(bobId, totpAt(base32Decode(bobTotp.secret)!, h.clock.now(), bobTotp))).recoveryCodes;
      secrets.add(bobTotp.secret);
      for (const c of bobRecovery) secrets.add(c);
      ninaId = (await h.vault.identity.addUser({ username: 'nina', role: 'nurse', password: PASSWORD })).user.id;
      await h.vault.identity.setRoleMfaRequired('nurse', true);
    });

    afterAll(async () => {
      await unblock().catch(() => undefined);
      await raw?.close();
      await h?.close();
    });

    it('records a password sign-in, the consent to the app and the tokens issued, naming user, client, address, scopes and patient', async () => {
      const address = nextAddress();
      const tokenAddress = nextAddress();
      const a = await start(address);
      let tokens: any;
      const appended = await appendedBy(async () => {
        const location = await signIn(a.browser, a.url, { username: 'alice', patientQuery: 'Lovelace' });
        const reply = await redeem(codeOf(location), a.verifier, { address: tokenAddress });
        expect(reply.status).toBe(200);
        tokens = reply.body;
      });
      expect(tokens.patient).toBe(patientId);
      const records = security(appended);
      expect(records.map(summary)).toEqual(['login/password/0', 'consent/smart-authorization/0', 'token/authorization_code/0']);
      const alice = { who: 'Practitioner/alice', client: 'web-app', onBehalfOf: `user:${aliceId}`, roles: ['clinician'] };
      const [login, consent, token] = records as [AuditRecord, AuditRecord, AuditRecord];
      expect(login).toEqual({ at: expect.any(Number), type: 'login', subtype: 'password', action: 'E', outcome: '0', agent: { ...alice, ...agentAt(address) }, patients: [], entities: [] });
      const grant = consent.entities[0]!;
      expect(grant).toMatch(/^oauth-grant\/[0-9a-f-]{36}$/);
      expect(consent).toEqual({
        at: expect.any(Number),
        type: 'consent',
        subtype: 'smart-authorization',
        action: 'C',
        outcome: '0',
        agent: { ...alice, ...agentAt(address) },
        patients: [patientId],
        entities: [grant],
        query: expect.any(String),
      });
      expect(paramsOf(consent).get('scope')).toBe(APP_SCOPE);
      expect(token).toEqual({
        at: expect.any(Number),
        type: 'token',
        subtype: 'authorization_code',
        action: 'C',
        outcome: '0',
        // The id of the access token issued, never the token: AuditEvent?policy= links it to every use.
        agent: { ...alice, ...agentAt(tokenAddress), token: decodeJwt(tokens.access_token).jti },
        patients: [patientId],
        entities: [grant],
        query: expect.any(String),
      });
      expect(paramsOf(token).get('scope')).toBe(APP_SCOPE);
      // About one patient: sealed under a data key, like a read of that patient.
      for (const x of appended.filter((y) => y.record.patients.length > 0)) expect(x.keyId).not.toBeNull();
    });

    it('records failed sign-ins with the username as typed, truncated, and answers them exactly as before', async () => {
      const address = nextAddress();
      const a = await start(address);
      const typed = `mallory-typed-this-${'x'.repeat(100)}`;
      const guesses = ['not the password, guess one', 'not the password, guess two'];
      for (const g of guesses) secrets.add(g);
      sealedOnly.add(typed.slice(0, 64));
      let pages: Page[] = [];
      const appended = await appendedBy(async () => {
        const login = await a.browser.get(a.url);
        const first = await a.browser.submit(login, { username: 'alice', password: guesses[0]! });
        const second = await a.browser.submit(first, { username: typed, password: guesses[1]! });
        pages = [first, second];
      });
      expect(pages.map((p) => p.status)).toEqual([401, 401]);
      for (const p of pages) expect(parseForm(p.text).fields['step']).toBe('login');
      const records = security(appended);
      expect(records.map(summary)).toEqual(['authn-failure/password/4/login-failed', 'authn-failure/password/4/login-failed']);
      for (const r of records) expect(r).toMatchObject({ action: 'E', agent: { who: 'anonymous', client: 'web-app', address }, patients: [], entities: [] });
      expect(records.map((r) => paramsOf(r).get('username'))).toEqual(['alice', typed.slice(0, 64)]);
    });

    it('records the throttling of an address that used up its sign-in attempts', async () => {
      const address = nextAddress();
      const a = await start(address);
      let page = await a.browser.get(a.url);
      const statuses: number[] = [];
      const appended = await appendedBy(async () => {
        for (let i = 0; i < 4; i++) {
          page = await a.browser.submit(page, { username: 'alice', password: `wrong password number ${i}` });
          secrets.add(`wrong password number ${i}`);
          statuses.push(page.status);
        }
      });
      expect(statuses).toEqual([401, 401, 401, 429]);
      const records = security(appended);
      expect(records.map(summary)).toEqual([...Array(3).fill('authn-failure/password/4/login-failed'), 'authn-failure/password/4/login-throttled']);
      expect(records[3]).toMatchObject({ agent: { who: 'anonymous', client: 'web-app', address } });
      expect(paramsOf(records[3]!).get('username')).toBe('alice');
    });

    it('records a wrong second factor, a TOTP sign-in and a recovery-code sign-in', async () => {
      const bob = { who: 'Practitioner/bob', client: 'web-app', onBehalfOf: `user:${bobId}`, roles: ['clinician'] };
      const address = nextAddress();
      const a = await start(address);
      const right = totpAt(base32Decode(bobTotp.secret)!, h.clock.now() + 30_000, bobTotp);
      const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
      let consentPage!: Page;
      const totp = await appendedBy(async () => {
        const mfa = await a.browser.submit(await a.browser.get(a.url), { username: 'bob', password: PASSWORD });
        expect(parseForm(mfa.text).fields['step']).toBe('mfa');
        const refused = await a.browser.submit(mfa, { code: wrong });
        expect(refused.status).toBe(401);
        consentPage = await a.browser.submit(refused, { code: right });
      });
      expect(parseForm(consentPage.text).fields['step']).toBe('consent');
      const records = security(totp);
      expect(records.map(summary)).toEqual(['mfa/totp/4/login-failed', 'mfa/totp/0', 'login/password+totp/0']);
      // Before the second factor is passed the server knows the account only by its id.
      expect(records[0]!.agent).toEqual({ who: `user:${bobId}`, client: 'web-app', address });
      expect(records[1]!.agent).toEqual({ ...bob, address });
      expect(records[2]!.agent).toEqual({ ...bob, address });

      const again = nextAddress();
      const b = await start(again);
      const recovery = await appendedBy(async () => {
        const mfa = await b.browser.submit(await b.browser.get(b.url), { username: 'bob', password: PASSWORD });
        expect(parseForm((await b.browser.submit(mfa, { code: bobRecovery[0]! })).text).fields['step']).toBe('consent');
      });
      expect(security(recovery).map(summary)).toEqual(['mfa/recovery-code/0', 'login/password+recovery-code/0']);
      for (const r of security(recovery)) expect(r.agent).toEqual({ ...bob, address: again });
    });

    it('records the enrolment of an authenticator at sign-in: a wrong first code, then the enrolment and the sign-in', async () => {
      const address = nextAddress();
      const a = await start(address);
      let page = await a.browser.submit(await a.browser.get(a.url), { username: 'nina', password: PASSWORD });
      expect(parseForm(page.text).fields['step']).toBe('enrol');
      const key = /Key: <code>([A-Z2-7 ]+)<\/code>/.exec(page.text)![1]!.replace(/ /g, '');
      secrets.add(key);
      const params = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
      const right = totpAt(base32Decode(key)!, h.clock.now(), params);
      const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
      const appended = await appendedBy(async () => {
        page = await a.browser.submit(page, { code: wrong });
        expect(page.status).toBe(401);
        page = await a.browser.submit(page, { code: right });
      });
      expect(parseForm(page.text).fields['step']).toBe('recovery');
      for (const m of page.text.matchAll(/<li>([A-Za-z0-9-]{8,})<\/li>/g)) secrets.add(m[1]!);
      const records = security(appended);
      expect(records.map(summary)).toEqual(['mfa/totp-enrolment/4/login-failed', 'mfa/totp-enrolment/0', 'login/password+totp-enrolment/0']);
      expect(records[1]).toMatchObject({ action: 'C', agent: { who: `user:${ninaId}`, client: 'web-app', roles: ['nurse'], address } });
    });

    it('records refreshes, a replayed refresh token with the family it revoked, and a revocation by the client', async () => {
      const auth = basicAuth('server-app', serverSecret);
      const a = await start(nextAddress(), 'server-app', SERVER_SCOPE);
      const first = (await redeem(codeOf(await signIn(a.browser, a.url, { username: 'alice' })), a.verifier, { auth })).body;
      const refresh = (token: string) => postForm(`${h.issuer}/oauth/token`, { grant_type: 'refresh_token', refresh_token: token }, { authorization: auth });

      let second: any;
      const refreshed = await appendedBy(async () => {
        second = (await refresh(first.refresh_token)).body;
        for (const k of ['access_token', 'refresh_token']) secrets.add(second[k]);
      });
      const [issued] = security(refreshed);
      expect(security(refreshed).map(summary)).toEqual(['token/refresh_token/0']);
      expect(issued).toMatchObject({ action: 'C', agent: { who: 'Practitioner/alice', client: 'server-app', onBehalfOf: `user:${aliceId}`, address: '127.0.0.1' }, patients: [] });
      expect(paramsOf(issued!).get('scope')).toBe(SERVER_SCOPE);
      const grant = issued!.entities[0]!;

      const replayed = await appendedBy(async () => expect((await refresh(first.refresh_token)).body.error).toBe('invalid_grant'));
      const records = security(replayed);
      expect(records.map(summary)).toEqual(['token/refresh_token/4/invalid_grant', 'token/revoke/0']);
      expect(records[0]!.agent).toEqual({ who: 'client:server-app', address: '127.0.0.1' });
      expect(records[1]).toMatchObject({ action: 'D', agent: { who: 'custodia', client: 'server-app' }, entities: [grant] });
      expect(Object.fromEntries(paramsOf(records[1]!))).toEqual({ token: 'grant', reason: 'refresh-reuse' });

      const b = await start(nextAddress(), 'server-app', SERVER_SCOPE);
      const third = (await redeem(codeOf(await signIn(b.browser, b.url, { username: 'alice' })), b.verifier, { auth })).body;
      const address = nextAddress();
      const revoked = await appendedBy(async () => {
        const reply = await postForm(`${h.issuer}/oauth/revoke`, { token: third.refresh_token, token_type_hint: 'refresh_token' }, { authorization: auth, 'x-forwarded-for': address });
        expect(reply.status).toBe(200);
      });
      // The app signing its user out: a logout (DICOM 110123), not a revocation.
      expect(security(revoked).map(summary)).toEqual(['logout/revocation/0']);
      expect(security(revoked)[0]).toEqual({
        at: expect.any(Number),
        type: 'logout',
        subtype: 'revocation',
        action: 'E',
        outcome: '0',
        agent: { who: 'Practitioner/alice', client: 'server-app', onBehalfOf: `user:${aliceId}`, roles: ['clinician'], address },
        patients: [],
        entities: [expect.stringMatching(/^oauth-grant\//)],
      });
      // Revoked again: the grant was over already, so no second sign-out.
      const again = await appendedBy(async () => expect((await postForm(`${h.issuer}/oauth/revoke`, { token: third.refresh_token }, { authorization: auth })).status).toBe(200));
      expect(security(again)).toEqual([]);
    });

    it("records a user's sign-out with the patient of the grant, and an access token the client revokes as a revocation", async () => {
      const a = await start(nextAddress());
      const tokens = (await redeem(codeOf(await signIn(a.browser, a.url, { username: 'alice', patientQuery: 'Lovelace' })), a.verifier)).body;
      const address = nextAddress();
      const accessRevoked = await appendedBy(async () => expect((await postForm(`${h.issuer}/oauth/revoke`, { token: tokens.access_token, client_id: 'web-app' }, { 'x-forwarded-for': address })).status).toBe(200));
      expect(security(accessRevoked).map(summary)).toEqual(['token/revoke/0']);
      expect(security(accessRevoked)[0]).toMatchObject({ action: 'D', agent: { who: 'Practitioner/alice', client: 'web-app', address }, patients: [patientId] });
      expect(Object.fromEntries(paramsOf(security(accessRevoked)[0]!))).toEqual({ token: 'access_token', reason: 'client-request' });

      const loggedOut = await appendedBy(async () => expect((await postForm(`${h.issuer}/oauth/revoke`, { token: tokens.refresh_token, client_id: 'web-app' }, { 'x-forwarded-for': address })).status).toBe(200));
      expect(security(loggedOut).map(summary)).toEqual(['logout/revocation/0']);
      expect(security(loggedOut)[0]).toMatchObject({ action: 'E', agent: { who: 'Practitioner/alice', client: 'web-app', onBehalfOf: `user:${aliceId}`, address }, patients: [patientId], entities: [expect.stringMatching(/^oauth-grant\//)] });
      expect(security(loggedOut)[0]!.query).toBeUndefined();
      // As an auditor reads it: DICOM 110114 User Authentication, 110123 Logout.
      const logout = loggedOut.find((x) => x.record.type === 'logout')!;
      expect(logout.keyId).not.toBeNull();
      const resource = auditEventResource(logout.idx, logout.record, { origin: h.issuer }) as any;
      expect(resource.type).toMatchObject({ code: '110114' });
      expect(resource.subtype).toEqual([expect.objectContaining({ code: '110123', display: 'Logout' }), expect.objectContaining({ code: 'revocation' })]);
      expect(resource.action).toBe('E');
      expect(resource.outcome).toBe('0');
    });

    it('records each introspection: the client that asked and what it was told (active, inactive, refused), never the token', async () => {
      const auth = basicAuth('server-app', serverSecret);
      const a = await start(nextAddress(), 'server-app', SERVER_SCOPE);
      const tokens = (await redeem(codeOf(await signIn(a.browser, a.url, { username: 'alice' })), a.verifier, { auth })).body;
      const address = nextAddress();
      const introspect = (form: Record<string, string>, headers: Record<string, string> = { authorization: auth }) => postForm(`${h.issuer}/oauth/introspect`, form, { ...headers, 'x-forwarded-for': address });
      const appended = await appendedBy(async () => {
        expect((await introspect({ token: tokens.access_token })).body.active).toBe(true);
        expect((await introspect({ token: tokens.refresh_token })).body.active).toBe(true);
        expect((await introspect({ token: 'not-a-token' })).body).toEqual({ active: false });
        expect((await introspect({})).body.error).toBe('invalid_request');
        expect((await introspect({ token: tokens.access_token, client_id: 'web-app' }, {})).body.error).toBe('invalid_client');
      });
      const records = security(appended);
      expect(records.map(summary)).toEqual(['token/introspect/0', 'token/introspect/0', 'token/introspect/0', 'token/introspect/4/invalid_request', 'token/introspect/4/invalid_client']);
      expect(records.map((r) => Object.fromEntries(paramsOf(r)))).toEqual([{ active: 'true', token: 'access_token' }, { active: 'true', token: 'refresh_token' }, { active: 'false' }, {}, {}]);
      expect(records[0]).toMatchObject({ action: 'E', agent: { who: 'client:server-app', address }, patients: [], entities: [] });
      expect(records[4]!.agent).toEqual({ who: 'client:web-app', address });
      const stored = JSON.stringify(records);
      for (const t of [tokens.access_token, tokens.refresh_token, 'not-a-token']) expect(stored).not.toContain(t);
    });

    it('records failed client authentication with the id presented, and refused token requests with the OAuth error', async () => {
      const wrongSecret = 'definitely-not-the-client-secret-0123456789';
      secrets.add(wrongSecret);
      const address = nextAddress();
      const appended = await appendedBy(async () => {
        const bad = await postForm(`${h.issuer}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basicAuth('server-app', wrongSecret), 'x-forwarded-for': address });
        expect(bad.status).toBe(401);
        expect(bad.body.error).toBe('invalid_client');
        const unknown = await postForm(`${h.issuer}/oauth/revoke`, { token: 'x', client_id: 'no-such-app', client_secret: wrongSecret }, { 'x-forwarded-for': address });
        expect(unknown.status).toBe(401);
        const unauthorized = await postForm(`${h.issuer}/oauth/token`, { grant_type: 'client_credentials', scope: 'system/Patient.rs' }, { authorization: basicAuth('server-app', serverSecret), 'x-forwarded-for': address });
        expect(unauthorized.body.error).toBe('unauthorized_client');
        const unsupported = await postForm(`${h.issuer}/oauth/token`, { grant_type: 'password', username: 'alice', password: PASSWORD }, { authorization: basicAuth('server-app', serverSecret), 'x-forwarded-for': address });
        expect(unsupported.body.error).toBe('unsupported_grant_type');
      });
      const records = security(appended);
      expect(records.map(summary)).toEqual(['authn-failure/client/4/invalid_client', 'authn-failure/client/4/invalid_client', 'token/client_credentials/4/unauthorized_client', 'token/other/4/unsupported_grant_type']);
      expect(records[0]!.agent).toEqual({ who: 'anonymous', address });
      expect(Object.fromEntries(paramsOf(records[0]!))).toEqual({ client_id: 'server-app', method: 'client_secret_basic', endpoint: 'token' });
      expect(Object.fromEntries(paramsOf(records[1]!))).toEqual({ client_id: 'no-such-app', method: 'client_secret_post', endpoint: 'revocation' });
      expect(records[2]!.agent).toEqual({ who: 'client:server-app', address });
    });

    it('records a backend service token (client_credentials) as the client acting for itself', async () => {
      h.clock.set(Math.max(h.clock.now(), Date.now()));
      const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
      await h.vault.identity.addClient({ clientId: 'backend', name: 'Backend', jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES384' }] }, scope: 'system/Patient.rs' });
      const now = Math.floor(Date.now() / 1000);
      const assertion = await new SignJWT({ iss: 'backend', sub: 'backend', aud: `${h.issuer}/oauth/token`, jti: randomUUID(), exp: now + 240, iat: now }).setProtectedHeader({ alg: 'ES384', kid: 'k1', typ: 'JWT' }).sign(privateKey);
      secrets.add(assertion);
      let access = '';
      const appended = await appendedBy(async () => {
        const reply = await postForm(`${h.issuer}/oauth/token`, { grant_type: 'client_credentials', scope: 'system/Patient.rs', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion });
        expect(reply.status).toBe(200);
        access = reply.body.access_token;
        secrets.add(access);
      });
      expect(security(appended)).toEqual([
        { at: expect.any(Number), type: 'token', subtype: 'client_credentials', action: 'C', outcome: '0', agent: { who: 'client:backend', address: '127.0.0.1', token: decodeJwt(access).jti }, patients: [], entities: [], query: 'scope=system%2FPatient.rs' },
      ]);
    });

    it("records a break-the-glass session with its reason, sealed under the patient's key", async () => {
      const token = await h.vault.tokens.issue({ subject: aliceId, kind: 'user', role: 'clinician', fhirUser: 'Practitioner/alice', scope: 'user/*.rs', ttlSeconds: 3600 });
      secrets.add(token);
      const address = nextAddress();
      const headers = { authorization: `Bearer ${token}`, 'x-purpose-of-use': 'BTG', 'x-break-glass-reason': BTG_REASON, 'x-break-glass-patient': patientId, 'x-forwarded-for': address };
      const appended = await appendedBy(async () => {
        const res = await fetch(`${h.fhirBase}/Patient/${patientId}`, { headers });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      });
      const [session] = await h.vault.breakGlass.list(10);
      const opened = appended.find((x) => x.record.type === 'break-glass')!;
      expect(opened.record).toEqual({
        at: expect.any(Number),
        type: 'break-glass',
        subtype: 'open',
        action: 'C',
        outcome: '0',
        agent: { who: 'Practitioner/alice', onBehalfOf: `user:${aliceId}`, roles: ['clinician'], address },
        purposeOfUse: 'BTG',
        breakGlass: true,
        patients: [patientId],
        entities: [`Patient/${patientId}`, `break-glass/${session!.id}`],
        query: expect.any(String),
      });
      expect(paramsOf(opened.record).get('reason')).toBe(BTG_REASON);
      expect(paramsOf(opened.record).get('expires')).toBe(new Date(session!.expiresAt).toISOString());
      expect(opened.keyId).not.toBeNull();
      // The read it was opened for is recorded after it, as break-the-glass.
      expect(appended.map((x) => x.record.type)).toEqual(['break-glass', 'rest']);
      expect(appended[1]!.record).toMatchObject({ breakGlass: true, purposeOfUse: 'BTG', patients: [patientId] });
      // A second request in the same session opens none.
      expect(security(await appendedBy(async () => (await fetch(`${h.fhirBase}/Patient/${patientId}`, { headers })).arrayBuffer()))).toEqual([]);
    });

    describe('when the ledger cannot be written', () => {
      it('refuses the tokens of a code (503) and revokes their grant; the code is spent', async () => {
        const a = await start(nextAddress());
        let location = '';
        const signedIn = await appendedBy(async () => {
          location = await signIn(a.browser, a.url, { username: 'alice', patientQuery: 'Lovelace' });
        });
        const grant = security(signedIn).find((r) => r.type === 'consent')!.entities[0]!;
        const revokedAt = async () => (await raw.query<{ revoked_at: number | string | null }>('SELECT revoked_at FROM oauth_grants WHERE id = ?', [grant.slice('oauth-grant/'.length)]))[0]?.revoked_at;
        expect(await revokedAt()).toBeNull();
        const code = codeOf(location);
        const nothing = await appendedBy(async () => {
          const reply = await whileBlocked(() => redeem(code, a.verifier));
          expect(reply.status).toBe(503);
          expect(reply.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
        });
        expect(nothing).toEqual([]);
        expect(await revokedAt()).not.toBeNull();
        // The code was spent: a retry is a reuse, refused and recorded as such.
        const retried = await appendedBy(async () => expect((await redeem(code, a.verifier)).body.error).toBe('invalid_grant'));
        expect(security(retried).map(summary)).toEqual(['token/authorization_code/4/invalid_grant', 'token/revoke/0']);
        expect(security(retried)[1]!.entities).toEqual([grant]);
      });

      it('refuses a refresh (503), and the family is over', async () => {
        const auth = basicAuth('server-app', serverSecret);
        const a = await start(nextAddress(), 'server-app', SERVER_SCOPE);
        const tokens = (await redeem(codeOf(await signIn(a.browser, a.url, { username: 'alice' })), a.verifier, { auth })).body;
        const refresh = () => postForm(`${h.issuer}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, { authorization: auth });
        const blocked = await whileBlocked(refresh);
        expect(blocked.status).toBe(503);
        expect(blocked.body.access_token).toBeUndefined();
        expect((await refresh()).body.error).toBe('invalid_grant');
        const fhir = await fetch(`${h.fhirBase}/Patient`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
        expect(fhir.status).toBe(401);
        await fhir.arrayBuffer();
      });

      it('stops a sign-in whose password was right (503, start again), and answers a wrong one as before', async () => {
        const a = await start(nextAddress());
        const login = await a.browser.get(a.url);
        const [wrong, right] = await whileBlocked(async () => [
          await a.browser.submit(login, { username: 'alice', password: 'not the password, guess three' }),
          await a.browser.submit(login, { username: 'alice', password: PASSWORD }),
        ]);
        secrets.add('not the password, guess three');
        expect(wrong!.status).toBe(401);
        expect(parseForm(wrong!.text).fields['step']).toBe('login');
        expect(right!.status).toBe(503);
        expect(right!.text).not.toContain('<form');
        // The sign-in is over: its forms lead nowhere now.
        expect((await a.browser.submit(login, { username: 'alice', password: PASSWORD })).status).toBe(400);
      });

      it('stops a second factor and a consent whose records cannot be written: no code', async () => {
        const a = await start(nextAddress());
        const mfa = await a.browser.submit(await a.browser.get(a.url), { username: 'bob', password: PASSWORD });
        const stopped = await whileBlocked(() => a.browser.submit(mfa, { code: bobRecovery[1]! }));
        expect(stopped.status).toBe(503);

        const b = await start(nextAddress());
        let page = await b.browser.submit(await b.browser.get(b.url), { username: 'alice', password: PASSWORD });
        expect(parseForm(page.text).fields['step']).toBe('consent');
        page = await b.browser.submit(page, { decision: 'approve' });
        page = await b.browser.submit(page, { action: 'search', query: 'Lovelace' });
        const chosen = await whileBlocked(() => b.browser.submit(page, { action: 'select', patient: parseForm(page.text).choices['patient']![0]! }));
        expect(chosen.status).toBe(503);
        expect(chosen.location).toBeUndefined();
      });

      it('opens no break-the-glass session (503)', async () => {
        const token = await h.vault.tokens.issue({ subject: bobId, kind: 'user', role: 'clinician', fhirUser: 'Practitioner/bob', scope: 'user/*.rs', ttlSeconds: 3600 });
        const res = await whileBlocked(() => fetch(`${h.fhirBase}/Patient/${patientId}`, { headers: { authorization: `Bearer ${token}`, 'x-purpose-of-use': 'BTG', 'x-break-glass-reason': BTG_REASON, 'x-break-glass-patient': patientId } }));
        expect(res.status).toBe(503);
        await res.arrayBuffer();
        expect((await h.vault.breakGlass.list(100)).filter((s) => s.userId === bobId)).toEqual([]);
      });

      it('answers no active introspection it cannot record (503), and an inactive one as before', async () => {
        const auth = basicAuth('server-app', serverSecret);
        const a = await start(nextAddress(), 'server-app', SERVER_SCOPE);
        const tokens = (await redeem(codeOf(await signIn(a.browser, a.url, { username: 'alice' })), a.verifier, { auth })).body;
        const [active, inactive] = await whileBlocked(async () => [
          await postForm(`${h.issuer}/oauth/introspect`, { token: tokens.access_token }, { authorization: auth }),
          await postForm(`${h.issuer}/oauth/introspect`, { token: 'not-a-token' }, { authorization: auth }),
        ]);
        expect(active!.status).toBe(503);
        expect(active!.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
        expect(inactive!.status).toBe(200);
        expect(inactive!.body).toEqual({ active: false });
      });

      it('still revokes a token the client revokes', async () => {
        const a = await start(nextAddress());
        const tokens = (await redeem(codeOf(await signIn(a.browser, a.url, { username: 'alice', patientQuery: 'Lovelace' })), a.verifier)).body;
        const reply = await whileBlocked(() => postForm(`${h.issuer}/oauth/revoke`, { token: tokens.access_token, client_id: 'web-app' }));
        expect(reply.status).toBe(200);
        const fhir = await fetch(`${h.fhirBase}/Patient/${patientId}`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
        expect(fhir.status).toBe(401);
        await fhir.arrayBuffer();
      });
    });

    it('leaves no password, code, token or secret in any entry or in the stored bytes, and a log that verifies', async () => {
      expect(secrets.size).toBeGreaterThan(20);
      const leaves = await ledgerLog(h).scanLeaves(0, 100_000);
      const opened = leaves.map((l) => ledgerLog(h).openLeaf(l).toString('utf8'));
      const decoded = opened.join('\n');
      for (const s of secrets) {
        for (const form of formsOf(s)) expect(decoded.includes(form), `a secret (${s.length} characters) is in a ledger entry`).toBe(false);
      }
      // What a failed sign-in typed and a break-the-glass reason are in the sealed entries…
      for (const s of sealedOnly) expect(decoded.includes(formEncoded(s))).toBe(true);
      // …and nowhere in clear in the stored bytes of the ledger (on SQLite: of the whole database).
      const stored = new Map<string, Buffer>(leaves.map((l) => [`leaf ${l.idx}`, l.stored]));
      expect(scan(stored, [...secrets, ...sealedOnly].flatMap(formsOf))).toEqual([]);
      if (name === 'sqlite') {
        const file = h.db.options.database;
        const files = new Map<string, Buffer>([[file, readFileSync(file)]]);
        if (existsSync(`${file}-wal`)) files.set(`${file}-wal`, readFileSync(`${file}-wal`));
        // The session table keeps a break-the-glass reason for the privacy officer's review sealed too (migration 0021).
        expect(scan(files, [...secrets, ...sealedOnly].flatMap(formsOf))).toEqual([]);
      }
      await h.vault.ledger.catchUp();
      expect((await verifyLedger(ledgerLog(h), h.vault.ledger.verifierKey)).problems).toEqual([]);
    });
  });
}
