/**
 * OpenID Connect RP-Initiated Logout 1.0 (access/oauth/end-session.ts), over real HTTP
 * with openid-client as the oracle: the end_session_endpoint is advertised; a valid
 * request ends every grant the user gave that app (and no other app's), records one
 * `logout` (DICOM 110123) naming user, client, address and patient, and returns to the
 * registered address with `state`; an expired ID token still names the user; a bad,
 * forged or foreign hint, an unregistered or missing-client return address, a wrong
 * client_id and missing or repeated parameters get an error page and change nothing; when
 * the ledger cannot be written the user is signed out all the same, with a 503; past the
 * `logout` rate limit, per address and per user and app, 429 with Retry-After and one
 * page whatever the hint, nothing done or recorded. (A client's RFC 7009 revocation as a
 * logout: security-events.test.ts.)
 * On SQLite and PostgreSQL.
 */
import { SignJWT } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEventResource } from '../../src/app/index.js';
import { decodeEntry, type AuditRecord } from '../../src/ledger/index.js';
import type { LedgerLog } from '../../src/store/index.js';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { openRawDatabase, type RawDatabase } from '../helpers/raw-database.js';
import { codeFlow, createPatient, discover, fhirStatus, PASSWORD, REDIRECT, startOAuthServer, type OAuthHarness } from './oauth-harness.js';

const SCOPE = 'openid fhirUser launch/patient patient/*.rs offline_access';
const ledgerLog = (h: OAuthHarness): LedgerLog => (h.vault.ledger as unknown as { log: LedgerLog }).log;

interface Seeded {
  readonly patientId: string;
  readonly aliceId: string;
  readonly config: client.Configuration;
  readonly otherConfig: client.Configuration;
}

/** A patient, alice, and two apps she can sign in to (server-app and other-app). */
async function seed(h: OAuthHarness): Promise<Seeded> {
  const patientId = await createPatient(h, 'Curie', 'Marie', 'MRN-1867');
  const aliceId = (await h.vault.identity.addUser({ username: 'alice', role: 'clinician', fhirUser: 'Practitioner/alice', password: PASSWORD })).user.id;
  const app = async (clientId: string, name: string) => {
    const secret = (await h.vault.identity.addClient({ clientId, name, redirectUris: [REDIRECT], scope: SCOPE })).clientSecret!;
    return discover(h, clientId, client.ClientSecretBasic(secret));
  };
  return { patientId, aliceId, config: await app('server-app', 'Server App'), otherConfig: await app('other-app', 'Other App') };
}

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`RP-initiated logout on ${name}`, () => {
    let h: OAuthHarness;
    let raw: RawDatabase;
    let config: client.Configuration;
    let otherConfig: client.Configuration;
    let patientId: string;
    let aliceId: string;

    beforeAll(async () => {
      // The default logout limit (bursts of 20 per address) would be spent by these tests, which all come
      // from one address; the limit itself is tested below on a server of its own.
      h = await startOAuthServer(name, { config: { trustedProxies: ['127.0.0.1'], rateLimits: { logout: { perSecond: 1000, burst: 1000 } } } });
      raw = await openRawDatabase(h.db);
      ({ patientId, aliceId, config, otherConfig } = await seed(h));
    });

    afterAll(async () => {
      await raw?.close();
      await h?.close();
    });

    const flow = (c = config) => codeFlow(h, c, { scope: SCOPE, username: 'alice', patientQuery: 'Curie' });
    const refreshes = async (c: client.Configuration, token: string): Promise<boolean> => {
      try {
        await client.refreshTokenGrant(c, token);
        return true;
      } catch {
        return false;
      }
    };
    const logout = (params: Record<string, string>, address = '198.51.100.7') =>
      fetch(`${h.issuer}/oauth/logout?${new URLSearchParams(params)}`, { redirect: 'manual', headers: { 'x-forwarded-for': address } });
    const appendedBy = async (fn: () => Promise<unknown>): Promise<{ idx: number; record: AuditRecord }[]> => {
      const from = await ledgerLog(h).appendedSize();
      await fn();
      const leaves = await ledgerLog(h).scanLeaves(from, 10_000);
      return leaves.flatMap((l) => {
        const entry = decodeEntry(ledgerLog(h).openLeaf(l));
        return entry.kind === 'audit' && entry.event.type !== 'rest' ? [{ idx: l.idx, record: entry.event }] : [];
      });
    };
    /** Refused: 400, an HTML page that says so, no redirect, nothing recorded, the grant alive. */
    const expectRefused = async (params: Record<string, string>, live: { access_token: string }, why: RegExp) => {
      const records = await appendedBy(async () => {
        const res = await logout(params);
        expect(res.status).toBe(400);
        expect(res.headers.get('location')).toBeNull();
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(await res.text()).toMatch(why);
      });
      expect(records).toEqual([]);
      // Its grant lives on (a refresh would rotate the token; its access token tells without).
      expect(await fhirStatus(h, live.access_token, `Patient/${patientId}`)).toBe(200);
    };

    it('advertises the end_session_endpoint in both discovery documents', async () => {
      for (const doc of ['/.well-known/openid-configuration', '/.well-known/smart-configuration']) {
        const body = (await (await fetch(`${h.issuer}${doc}`)).json()) as Record<string, unknown>;
        expect(body['end_session_endpoint']).toBe(`${h.issuer}/oauth/logout`);
      }
      expect(config.serverMetadata().end_session_endpoint).toBe(`${h.issuer}/oauth/logout`);
    });

    it("signs the user out of the app: every grant of theirs for it ends, one logout is recorded, back to the app with state", async () => {
      const first = await flow();
      const second = await flow();
      const elsewhere = await flow(otherConfig);
      const url = client.buildEndSessionUrl(config, { id_token_hint: second.id_token!, post_logout_redirect_uri: REDIRECT, state: 'bye-123' });
      let res!: Response;
      const records = await appendedBy(async () => {
        res = await fetch(url, { redirect: 'manual', headers: { 'x-forwarded-for': '198.51.100.7' } });
      });
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe(`${REDIRECT}?state=bye-123`);
      expect(res.headers.get('cache-control')).toBe('no-store');

      expect(await refreshes(config, first.refresh_token!)).toBe(false);
      expect(await refreshes(config, second.refresh_token!)).toBe(false);
      expect(await fhirStatus(h, first.access_token, `Patient/${patientId}`)).toBe(401);
      expect(await fhirStatus(h, second.access_token, `Patient/${patientId}`)).toBe(401);
      // Another app the user signed in to is not signed out.
      expect(await fhirStatus(h, elsewhere.access_token, `Patient/${patientId}`)).toBe(200);
      expect(await refreshes(otherConfig, elsewhere.refresh_token!)).toBe(true);

      expect(records.map((r) => `${r.record.type}/${r.record.subtype}/${r.record.outcome}`)).toEqual(['logout/end-session/0']);
      const [{ idx, record }] = records as [{ idx: number; record: AuditRecord }];
      expect(record).toEqual({
        at: expect.any(Number),
        type: 'logout',
        subtype: 'end-session',
        action: 'E',
        outcome: '0',
        agent: { who: 'Practitioner/alice', client: 'server-app', onBehalfOf: `user:${aliceId}`, roles: ['clinician'], address: '198.51.100.7' },
        patients: [patientId],
        entities: [expect.stringMatching(/^oauth-grant\//), expect.stringMatching(/^oauth-grant\//)],
      });
      const event = auditEventResource(idx, record, { origin: h.issuer }) as any;
      expect(event.type).toMatchObject({ code: '110114', display: 'User Authentication' });
      expect(event.subtype[0]).toMatchObject({ code: '110123', display: 'Logout' });
      expect(event.action).toBe('E');
    });

    it('accepts an expired ID token as the hint, by form POST, and shows a signed-out page without a return address', async () => {
      const tokens = await flow();
      h.clock.advance(60 * 60_000);
      let res: Response;
      try {
        res = await fetch(`${h.issuer}/oauth/logout`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ id_token_hint: tokens.id_token!, client_id: 'server-app' }).toString(),
        });
      } finally {
        // openid-client checks ID tokens against the real time.
        h.clock.set(Date.now());
      }
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('You are signed out of Server App');
      expect(await refreshes(config, tokens.refresh_token!)).toBe(false);
      // Signing out again ends nothing more, and is recorded (no grants).
      const again = await appendedBy(async () => expect((await logout({ id_token_hint: tokens.id_token! })).status).toBe(200));
      expect(again.map((r) => [r.record.type, r.record.entities])).toEqual([['logout', []]]);
    });

    it('refuses a missing, garbled, forged or foreign id_token_hint, and an access token in its place', async () => {
      const live = await flow();
      const { key, kid } = await h.signingKey();
      const now = Math.floor(h.clock.now() / 1000);
      const claims = { auth_time: now };
      const ours = (iss: string, typ = 'JWT') =>
        new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ, kid }).setIssuer(iss).setSubject(aliceId).setAudience('server-app').setIssuedAt(now).setExpirationTime(now + 600).sign(key);
      const forged = (await (await import('jose')).generateKeyPair('EdDSA', { crv: 'Ed25519' })).privateKey;
      const foreignKey = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid }).setIssuer(h.issuer).setSubject(aliceId).setAudience('server-app').setIssuedAt(now).setExpirationTime(now + 600).sign(forged);
      const noHint = /did not say who is signing out/;
      const bad = /not send a valid ID token/;
      await expectRefused({}, live, noHint);
      await expectRefused({ client_id: 'server-app', post_logout_redirect_uri: REDIRECT }, live, noHint);
      await expectRefused({ id_token_hint: 'not-a-token' }, live, bad);
      await expectRefused({ id_token_hint: 'a.b.c' }, live, bad);
      await expectRefused({ id_token_hint: 'x'.repeat(10_000) }, live, bad);
      await expectRefused({ id_token_hint: foreignKey }, live, bad);
      await expectRefused({ id_token_hint: await ours('https://evil.example') }, live, bad);
      await expectRefused({ id_token_hint: await ours(h.issuer, 'at+jwt') }, live, bad);
      await expectRefused({ id_token_hint: live.access_token }, live, bad);
    });

    it('never redirects anywhere not registered for the client, and refuses a client_id the token was not issued to', async () => {
      const live = await flow();
      const hint = live.id_token!;
      const unregistered = /post_logout_redirect_uri\) is not registered/;
      await expectRefused({ id_token_hint: hint, post_logout_redirect_uri: 'https://evil.example/callback' }, live, unregistered);
      await expectRefused({ id_token_hint: hint, post_logout_redirect_uri: `${REDIRECT}/` }, live, unregistered);
      await expectRefused({ id_token_hint: hint, post_logout_redirect_uri: `${REDIRECT}?next=https://evil.example` }, live, unregistered);
      await expectRefused({ id_token_hint: hint, client_id: 'other-app', post_logout_redirect_uri: REDIRECT }, live, /not issued to this application/);
      await expectRefused({ id_token_hint: hint, state: 's'.repeat(1025) }, live, /state is too long/);
      const repeated = await fetch(`${h.issuer}/oauth/logout?id_token_hint=${hint}&id_token_hint=${hint}`, { redirect: 'manual' });
      expect(repeated.status).toBe(400);
      await repeated.arrayBuffer();
      const json = await fetch(`${h.issuer}/oauth/logout`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id_token_hint: hint }) });
      expect(json.status).toBeGreaterThanOrEqual(400);
      expect(json.status).toBeLessThan(500);
      await json.arrayBuffer();
      expect(await refreshes(config, live.refresh_token!)).toBe(true);
    });

    it('signs the user out even when the ledger cannot be written: 503, no redirect, and a retry records it', async () => {
      const tokens = await flow();
      const blocked =
        name === 'sqlite'
          ? [`CREATE TRIGGER test_block_ledger BEFORE INSERT ON ledger_leaves BEGIN SELECT RAISE(ABORT, 'ledger blocked by test'); END`]
          : [
              `CREATE FUNCTION test_block_ledger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'ledger blocked by test'; END $$`,
              'CREATE TRIGGER test_block_ledger BEFORE INSERT ON ledger_leaves FOR EACH ROW EXECUTE FUNCTION test_block_ledger()',
            ];
      const unblocked = name === 'sqlite' ? ['DROP TRIGGER IF EXISTS test_block_ledger'] : ['DROP TRIGGER IF EXISTS test_block_ledger ON ledger_leaves', 'DROP FUNCTION IF EXISTS test_block_ledger()'];
      for (const q of blocked) await raw.query(q);
      let res: Response;
      try {
        res = await logout({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: REDIRECT, state: 's' });
      } finally {
        for (const q of unblocked) await raw.query(q);
      }
      expect(res.status).toBe(503);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('could not be recorded');
      expect(await refreshes(config, tokens.refresh_token!)).toBe(false);
      expect(await fhirStatus(h, tokens.access_token, `Patient/${patientId}`)).toBe(401);
      const retried = await appendedBy(async () => expect((await logout({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: REDIRECT, state: 's' })).status).toBe(302));
      expect(retried.map((r) => r.record.type)).toEqual(['logout']);
    });
  });

  describe.skipIf(!isAvailable(name))(`RP-initiated logout rate limits on ${name}`, () => {
    let h: OAuthHarness;
    let config: client.Configuration;
    let otherConfig: client.Configuration;
    let patientId: string;

    beforeAll(async () => {
      h = await startOAuthServer(name, { config: { trustedProxies: ['127.0.0.1'], rateLimits: { logout: { perSecond: 1, burst: 3 } } } });
      ({ patientId, config, otherConfig } = await seed(h));
    });

    afterAll(async () => {
      await h?.close();
    });

    const flow = (c = config) => codeFlow(h, c, { scope: SCOPE, username: 'alice', patientQuery: 'Curie' });
    const logout = async (params: Record<string, string>, address: string) => {
      const res = await fetch(`${h.issuer}/oauth/logout?${new URLSearchParams(params)}`, { redirect: 'manual', headers: { 'x-forwarded-for': address } });
      return { status: res.status, headers: res.headers, body: await res.text() };
    };

    it('refuses an address past its limit with 429 and Retry-After before reading the hint: the same page, valid hint or not, nothing done', async () => {
      const live = await flow();
      h.clock.advance(60_000); // full buckets
      const before = await ledgerLog(h).appendedSize();
      for (let i = 0; i < 3; i++) expect((await logout({ id_token_hint: 'not-a-token' }, '203.0.113.1')).status).toBe(400);
      const garbage = await logout({ id_token_hint: 'not-a-token' }, '203.0.113.1');
      const valid = await logout({ id_token_hint: live.id_token!, post_logout_redirect_uri: REDIRECT, state: 's' }, '203.0.113.1');
      for (const refused of [garbage, valid]) {
        expect(refused.status).toBe(429);
        expect(refused.headers.get('retry-after')).toBe('1');
        expect(refused.headers.get('location')).toBeNull();
        expect(refused.headers.get('content-type')).toMatch(/^text\/html/);
        expect(refused.headers.get('cache-control')).toBe('no-store');
      }
      // Nothing in the refusal tells a valid hint from garbage.
      expect(valid.body).toBe(garbage.body);
      expect(valid.body).toContain('Too many sign-out requests');
      // Not recorded, and the grant lives on.
      expect(await ledgerLog(h).appendedSize()).toBe(before);
      expect(await fhirStatus(h, live.access_token, `Patient/${patientId}`)).toBe(200);
      // Another address has its own budget; this one recovers with time.
      expect((await logout({ id_token_hint: 'not-a-token' }, '203.0.113.2')).status).toBe(400);
      h.clock.advance(1000);
      expect((await logout({ id_token_hint: live.id_token! }, '203.0.113.1')).status).toBe(200);
      expect(await fhirStatus(h, live.access_token, `Patient/${patientId}`)).toBe(401);
    });

    it("limits the sign-outs of one user from one app, from whatever address: one leaked ID token cannot sign them out at will", async () => {
      const tokens = await flow();
      const elsewhere = await flow(otherConfig);
      h.clock.advance(60_000);
      for (let i = 1; i <= 3; i++) expect((await logout({ id_token_hint: tokens.id_token! }, `198.51.100.${i}`)).status).toBe(200);
      const again = await flow();
      const before = await ledgerLog(h).appendedSize();
      const refused = await logout({ id_token_hint: tokens.id_token! }, '198.51.100.4');
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.body).toContain('Too many sign-out requests');
      expect(await ledgerLog(h).appendedSize()).toBe(before);
      // The grant made since is not ended by the refused request.
      expect(await fhirStatus(h, again.access_token, `Patient/${patientId}`)).toBe(200);
      // The same user signs out of another app, from the same address.
      expect((await logout({ id_token_hint: elsewhere.id_token! }, '198.51.100.4')).status).toBe(200);
      h.clock.advance(1000);
      expect((await logout({ id_token_hint: tokens.id_token! }, '198.51.100.5')).status).toBe(200);
      expect(await fhirStatus(h, again.access_token, `Patient/${patientId}`)).toBe(401);
    });
  });
}
