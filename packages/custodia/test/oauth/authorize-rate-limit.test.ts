/**
 * The authorization endpoint's per-address limit (access/rate-limiter.ts `authorize`):
 * each request there starts a sign-in, a row in the database, before anyone has
 * authenticated. Past the limit an address gets 429 with Retry-After and a page — no
 * redirect (its target is not checked yet), no cookie, no row — the same for a valid
 * request as for garbage; other addresses keep their own budget. Real HTTP, both databases.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { authorizeUrl, pkce, REDIRECT, startOAuthServer, type OAuthHarness } from './oauth-harness.js';

/** Rows in `oauth_pending`: the sign-ins started. */
async function pendingRows(h: OAuthHarness): Promise<number> {
  const { database, schema } = h.db.options;
  if (h.db.name === 'sqlite') {
    const db = new Database(database, { readonly: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM oauth_pending').get() as { n: number }).n;
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  try {
    return Number((await client.query(`SELECT count(*) AS n FROM ${schema}.oauth_pending`)).rows[0].n);
  } finally {
    await client.end();
  }
}

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`authorization endpoint rate limit on ${name}`, () => {
    let h: OAuthHarness;
    let valid: string;

    beforeAll(async () => {
      h = await startOAuthServer(name, { config: { trustedProxies: ['127.0.0.1'], rateLimits: { authorize: { perSecond: 1, burst: 3 } } } });
      await h.vault.identity.addClient({ clientId: 'app', name: 'App', public: true, redirectUris: [REDIRECT], scope: 'openid user/Patient.rs' });
      const { challenge } = await pkce();
      valid = authorizeUrl(h, { response_type: 'code', client_id: 'app', redirect_uri: REDIRECT, scope: 'openid user/Patient.rs', state: 'state-123456', code_challenge: challenge, code_challenge_method: 'S256', aud: h.fhirBase });
    });
    afterAll(async () => h?.close());

    const authorize = async (url: string, address: string) => {
      const res = await fetch(url, { redirect: 'manual', headers: { 'x-forwarded-for': address } });
      return { status: res.status, headers: res.headers, body: await res.text() };
    };

    it('refuses an address past its limit before anything is looked up or stored, the same for any request', async () => {
      h.clock.advance(60_000);
      const before = await pendingRows(h);
      for (let i = 0; i < 3; i++) expect((await authorize(valid, '203.0.113.1')).status).toBe(200);
      expect(await pendingRows(h)).toBe(before + 3);
      const refused = await authorize(valid, '203.0.113.1');
      const garbage = await authorize(`${h.issuer}/oauth/authorize?client_id=nobody`, '203.0.113.1');
      for (const r of [refused, garbage]) {
        expect(r.status).toBe(429);
        expect(r.headers.get('retry-after')).toBe('1');
        expect(r.headers.get('location')).toBeNull();
        expect(r.headers.get('set-cookie')).toBeNull();
        expect(r.headers.get('content-type')).toMatch(/^text\/html/);
        expect(r.headers.get('cache-control')).toBe('no-store');
      }
      expect(refused.body).toBe(garbage.body);
      expect(refused.body).toContain('Too many sign-ins');
      expect(await pendingRows(h)).toBe(before + 3);
      // Another address has its own budget (an unknown client there is the usual 400 page); this one recovers with time.
      expect((await authorize(valid, '203.0.113.2')).status).toBe(200);
      expect((await authorize(`${h.issuer}/oauth/authorize?client_id=nobody`, '203.0.113.3')).status).toBe(400);
      h.clock.advance(1000);
      expect((await authorize(valid, '203.0.113.1')).status).toBe(200);
      expect((await authorize(valid, '203.0.113.1')).status).toBe(429);
    });

    it('counts a POST to the endpoint (SMART authorize-post) against the same budget', async () => {
      h.clock.advance(60_000);
      const form = new URL(valid).searchParams.toString();
      const post = () => fetch(`${h.issuer}/oauth/authorize`, { method: 'POST', redirect: 'manual', headers: { 'x-forwarded-for': '198.51.100.7', 'content-type': 'application/x-www-form-urlencoded' }, body: form });
      expect((await authorize(valid, '198.51.100.7')).status).toBe(200);
      expect((await post()).status).toBe(200);
      expect((await post()).status).toBe(200);
      expect((await post()).status).toBe(429);
    });
  });
}
