/**
 * Rate limits over real HTTP, on SQLite and PostgreSQL: per user on the FHIR API (429
 * OperationOutcome with Retry-After, other users unaffected, recovery as the injected
 * clock moves), per backend service, operators exempt, and per client at the token
 * endpoint (counted only once the client is authenticated); Bundles by their entries and
 * large bodies by their size.
 */
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { postForm, startOAuthServer, type OAuthHarness } from '../oauth/oauth-harness.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const LIMITS = { user: { perSecond: 1, burst: 5 }, client: { perSecond: 1, burst: 4 }, token: { perSecond: 1, burst: 3 } };

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`rate limits on ${name}`, () => {
    let h: OAuthHarness;
    let alice: string;
    let bob: string;
    let keys: Record<'svc-a' | 'svc-b', { privateKey: CryptoKey; jwk: JWK }>;

    const search = async (token: string, query = '_count=1'): Promise<Answer> => {
      const res = await fetch(`${h.fhirBase}/Patient?${query}`, { headers: { authorization: `Bearer ${token}` } });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
    };
    const userToken = async (username: string): Promise<string> => {
      const user = await h.vault.identity.addUser({ username, role: 'clinician', fhirUser: `Practitioner/${username}`, password: 'a long enough test passphrase' });
      return h.vault.tokens.issue({ subject: user.user.id, kind: 'user', role: 'clinician', fhirUser: `Practitioner/${username}`, scope: 'user/*.rs', ttlSeconds: 3600 });
    };
    /** client_credentials for a backend service (SMART Backend Services), its assertion signed with `key`. */
    const grant = async (clientId: 'svc-a' | 'svc-b', key: CryptoKey = keys[clientId].privateKey): Promise<Answer> => {
      const now = Math.floor(h.clock.now() / 1000);
      const assertion = await new SignJWT({ iss: clientId, sub: clientId, aud: `${h.issuer}/oauth/token`, jti: randomUUID(), iat: now, exp: now + 240 })
        .setProtectedHeader({ alg: 'ES384', kid: 'k1', typ: 'JWT' })
        .sign(key);
      return postForm(`${h.issuer}/oauth/token`, { grant_type: 'client_credentials', scope: 'system/Patient.rs', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion });
    };

    beforeAll(async () => {
      h = await startOAuthServer(name, { config: { rateLimits: LIMITS } });
      alice = await userToken('alice');
      bob = await userToken('bob');
      const pair = async () => {
        const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
        return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES384' } };
      };
      keys = { 'svc-a': await pair(), 'svc-b': await pair() };
      for (const id of ['svc-a', 'svc-b'] as const) {
        await h.vault.identity.addClient({ clientId: id, name: id, jwks: { keys: [keys[id].jwk] }, scope: 'system/Patient.rs' });
      }
    });

    afterAll(async () => {
      await h?.close();
    });

    it("answers a user's requests past the burst with 429, an OperationOutcome and Retry-After; others go on; it recovers with time", async () => {
      h.clock.advance(60_000); // full buckets
      for (let i = 0; i < 5; i++) expect((await search(alice)).status).toBe(200);
      const refused = await search(alice);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
      expect(refused.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'throttled' }] });
      // Refused before the request is even parsed: a malformed search is 429 too, not 400.
      expect((await search(alice, '_count=not-a-number')).status).toBe(429);
      // Another user has a budget of their own.
      expect((await search(bob)).status).toBe(200);
      // Half a second gives half a token: still refused, and Retry-After says so.
      h.clock.advance(500);
      expect((await search(alice)).status).toBe(429);
      h.clock.advance(500);
      expect((await search(alice)).status).toBe(200);
      expect((await search(alice)).status).toBe(429);
      h.clock.advance(5_000);
      for (let i = 0; i < 5; i++) expect((await search(alice)).status).toBe(200);
    });

    it('counts the admin API against the same per-user bucket', async () => {
      h.clock.advance(60_000);
      const po = await h.vault.identity.addUser({ username: 'paula', role: 'privacy-officer', password: 'a long enough test passphrase' });
      const token = await h.vault.tokens.issue({ subject: po.user.id, kind: 'user', role: 'privacy-officer', scope: 'user/*.rs custodia/admin', ttlSeconds: 3600 });
      const queue = async () => (await fetch(`${h.issuer}/admin/btg-reviews`, { headers: { authorization: `Bearer ${token}` } })).status;
      for (let i = 0; i < 4; i++) expect(await queue()).toBe(200);
      expect((await search(token)).status).toBe(200);
      const refused = await fetch(`${h.issuer}/admin/btg-reviews`, { headers: { authorization: `Bearer ${token}` } });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
    });

    it("charges a batch or transaction Bundle one request per entry: admitted, then the user's next requests wait it out", async () => {
      h.clock.advance(60_000);
      const carol = await userToken('carol');
      const bundle = async (entries: number): Promise<Answer> => {
        const body = { resourceType: 'Bundle', type: 'batch', entry: Array.from({ length: entries }, () => ({ request: { method: 'GET', url: 'Patient?_count=1' } })) };
        const res = await fetch(`${h.fhirBase}`, { method: 'POST', headers: { authorization: `Bearer ${carol}`, 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
        const text = await res.text();
        return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
      };
      // Eight entries against a burst of 5: it runs (a Bundle larger than the burst is not refused for ever)...
      const big = await bundle(8);
      expect(big.status).toBe(200);
      expect(big.body.entry).toHaveLength(8);
      // ...and leaves the bucket at 5 − 8 = −3: four seconds until the next request.
      const refused = await search(carol);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('4');
      h.clock.advance(3_000);
      expect((await search(carol)).status).toBe(429);
      h.clock.advance(1_000);
      expect((await search(carol)).status).toBe(200);
      // A one-entry Bundle costs one request, as the request it carries would.
      h.clock.advance(60_000);
      for (let i = 0; i < 4; i++) expect((await search(carol)).status).toBe(200);
      expect((await bundle(1)).status).toBe(200);
      expect((await search(carol)).status).toBe(429);
    });

    it("charges a large body by its size, and leaves a spent caller's body unread: 429, not the 400 that parsing it would give", async () => {
      h.clock.advance(60_000);
      const dave = await userToken('dave');
      const post = async (body: string): Promise<Answer> => {
        const res = await fetch(`${h.fhirBase}/Patient`, { method: 'POST', headers: { authorization: `Bearer ${dave}`, 'content-type': 'application/fhir+json' }, body });
        const text = await res.text();
        return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
      };
      // A mebibyte and a little: the request's own token and four more (one per 256 KiB), the whole burst of 5.
      const div = `<div xmlns="http://www.w3.org/1999/xhtml">${'a'.repeat(1024 * 1024)}</div>`;
      const large = await post(JSON.stringify({ resourceType: 'Patient', text: { status: 'generated', div } }));
      expect(large.status).toBe(403); // user/*.rs may not create: refused after admission, so charged all the same
      const spent = await search(dave);
      expect(spent.status).toBe(429);
      expect(spent.headers.get('retry-after')).toBe('1');
      // Spent: a body that is not JSON is not read at all, so it is refused for the rate, not for its JSON.
      const unread = await post('{"resourceType": "Patient", ');
      expect(unread.status).toBe(429);
      expect(unread.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'throttled' }] });
      expect(unread.headers.get('retry-after')).toBe('1');
      h.clock.advance(1_000);
      expect((await post('{"resourceType": "Patient", ')).status).toBe(400);
      // A body of the usual size costs nothing beyond its request.
      h.clock.advance(60_000);
      for (let i = 0; i < 4; i++) expect((await post(JSON.stringify({ resourceType: 'Patient', text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'b'.repeat(200 * 1024)}</div>` } }))).status).toBe(403);
      expect((await search(dave)).status).toBe(200);
      expect((await search(dave)).status).toBe(429);
    });

    it('charges an answer one request more per 50 resources it returns', async () => {
      h.clock.advance(60_000);
      const erin = await userToken('erin');
      const ids: string[] = [];
      const operator = await h.operatorToken();
      for (let i = 0; i < 120; i++) {
        const res = await fetch(`${h.fhirBase}/Organization`, { method: 'POST', headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Organization', name: `Org ${i}` }) });
        expect(res.status).toBe(201);
        ids.push(((await res.json()) as { id: string }).id);
      }
      const page = async (count: number): Promise<Answer> => {
        const res = await fetch(`${h.fhirBase}/Organization?_count=${count}`, { headers: { authorization: `Bearer ${erin}` } });
        const text = await res.text();
        return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
      };
      // 49 resources cost the request alone: the burst of 5 holds five such pages.
      for (let i = 0; i < 5; i++) expect((await page(49)).status).toBe(200);
      expect((await page(49)).status).toBe(429);
      // 100 resources: the request and two more. Admitted with 5, left at 5 − 3 = 2: two more requests, then 429.
      h.clock.advance(60_000);
      const big = await page(100);
      expect(big.status).toBe(200);
      expect(big.body.entry).toHaveLength(100);
      expect((await search(erin)).status).toBe(200);
      expect((await search(erin)).status).toBe(200);
      expect((await search(erin)).status).toBe(429);
    });

    it('lets the operator token through at any rate', async () => {
      const operator = await h.operatorToken();
      const statuses = await Promise.all(Array.from({ length: 40 }, () => search(operator).then((a) => a.status)));
      expect(new Set(statuses)).toEqual(new Set([200]));
    });

    it('limits token requests per authenticated client, and a backend service per client on the API', async () => {
      h.clock.advance(60_000);
      const tokens: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await grant('svc-a');
        expect(r.status).toBe(200);
        tokens.push(r.body.access_token);
      }
      const refused = await grant('svc-a');
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.headers.get('cache-control')).toBe('no-store');
      expect(refused.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
      // Another client is not affected.
      expect((await grant('svc-b')).status).toBe(200);

      // Somebody naming svc-a without its key is refused as unauthenticated and spends
      // nothing of svc-a's budget.
      h.clock.advance(1_000);
      for (let i = 0; i < 5; i++) expect((await grant('svc-a', keys['svc-b'].privateKey)).status).toBe(401);
      expect((await grant('svc-a')).status).toBe(200);
      expect((await grant('svc-a')).status).toBe(429);

      // On the FHIR API a backend service draws on its client bucket (burst 4), whichever token it uses.
      for (let i = 0; i < 4; i++) expect((await search(tokens[i % tokens.length]!)).status).toBe(200);
      expect((await search(tokens[0]!)).status).toBe(429);
    });
  });
}
