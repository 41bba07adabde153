/**
 * CORS over real HTTP: none at all by default; with origins configured, exactly those
 * origins on /fhir and the token, introspection and revocation endpoints, never with
 * credentials, never on the sign-in pages or the admin API; and the CapabilityStatement
 * says which. The headers do not depend on the database, so this runs on SQLite only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOAuthServer, type OAuthHarness } from '../oauth/oauth-harness.js';

const APP = 'https://app.example.org';
const OTHER = 'https://evil.example.net';

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

async function call(url: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Answer> {
  const res = await fetch(url, { redirect: 'manual', ...init });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const preflight = (url: string, origin: string, method = 'GET', headers = 'authorization') =>
  call(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } });

const list = (h: Headers, name: string): string[] => (h.get(name) ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');

describe('CORS with an origin configured', () => {
  let h: OAuthHarness;
  let operator: string;

  beforeAll(async () => {
    h = await startOAuthServer('sqlite', { config: { corsOrigins: [APP] } });
    operator = await h.operatorToken();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('answers a preflight for /fhir from the allowed origin with the methods and headers a SMART app needs, without credentials', async () => {
    const r = await preflight(`${h.fhirBase}/Patient/123`, APP, 'PUT', 'authorization, content-type, if-match');
    expect(r.status).toBe(204);
    expect(r.headers.get('access-control-allow-origin')).toBe(APP);
    expect(list(r.headers, 'access-control-allow-methods')).toEqual(expect.arrayContaining(['get', 'post', 'put', 'delete']));
    expect(list(r.headers, 'access-control-allow-headers')).toEqual(expect.arrayContaining(['authorization', 'content-type', 'if-match', 'prefer']));
    expect(r.headers.get('access-control-allow-credentials')).toBeNull();
    expect(r.headers.get('access-control-max-age')).toBe('600');
    expect(list(r.headers, 'vary')).toContain('origin');
  });

  it('lets the allowed origin read FHIR answers and the headers clients need', async () => {
    const created = await call(`${h.fhirBase}/Patient`, {
      method: 'POST',
      headers: { origin: APP, authorization: `Bearer ${operator}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Cors' }] }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('access-control-allow-origin')).toBe(APP);
    expect(list(created.headers, 'access-control-expose-headers')).toEqual(expect.arrayContaining(['location', 'etag', 'content-location', 'last-modified', 'retry-after']));
    expect(created.headers.get('access-control-allow-credentials')).toBeNull();
    // Errors too: an app must be able to read a 401's OperationOutcome.
    const unauthenticated = await call(`${h.fhirBase}/Patient`, { headers: { origin: APP } });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('access-control-allow-origin')).toBe(APP);
  });

  it('gives any other origin nothing: no Access-Control-Allow-Origin, and a preflight is a 404', async () => {
    const p = await preflight(`${h.fhirBase}/Patient`, OTHER);
    expect(p.status).toBe(404);
    expect(p.headers.get('access-control-allow-origin')).toBeNull();
    expect(p.headers.get('access-control-allow-methods')).toBeNull();
    const get = await call(`${h.fhirBase}/Patient`, { headers: { origin: OTHER, authorization: `Bearer ${operator}` } });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
    expect(get.headers.get('access-control-expose-headers')).toBeNull();
    // Near misses of the allowed origin are other origins.
    for (const near of ['http://app.example.org', 'https://app.example.org:8443', 'https://sub.app.example.org', 'null']) {
      expect((await preflight(`${h.fhirBase}/Patient`, near)).headers.get('access-control-allow-origin'), near).toBeNull();
    }
  });

  it('opens the token, introspection and revocation endpoints to POST, and nothing else of the authorization server', async () => {
    for (const path of ['/oauth/token', '/oauth/introspect', '/oauth/revoke']) {
      const p = await preflight(`${h.issuer}${path}`, APP, 'POST', 'content-type');
      expect(p.status, path).toBe(204);
      expect(p.headers.get('access-control-allow-origin'), path).toBe(APP);
      expect(list(p.headers, 'access-control-allow-methods'), path).toEqual(['post']);
    }
    const token = await call(`${h.issuer}/oauth/token`, { method: 'POST', headers: { origin: APP, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=authorization_code&code=x&client_id=nobody' });
    expect(token.status).toBe(401);
    expect(token.headers.get('access-control-allow-origin')).toBe(APP);
    // The sign-in pages (cookies) and the admin API are same-origin only.
    for (const [method, path] of [
      ['GET', '/oauth/authorize?client_id=x'],
      ['POST', '/oauth/interaction'],
      ['POST', '/oauth/launch'],
      ['GET', '/admin/explain'],
    ] as const) {
      const p = await preflight(`${h.issuer}${path}`, APP, method);
      expect(p.status, path).toBe(404);
      expect(p.headers.get('access-control-allow-origin'), path).toBeNull();
      const r = await call(`${h.issuer}${path}`, { method, headers: { origin: APP } });
      expect(r.headers.get('access-control-allow-origin'), path).toBeNull();
    }
  });

  it('says cors: true in the CapabilityStatement', async () => {
    const r = await call(`${h.fhirBase}/metadata`, { headers: { origin: APP } });
    expect(JSON.parse(r.text).rest[0].security.cors).toBe(true);
    expect(r.headers.get('access-control-allow-origin')).toBe(APP);
  });
});

describe('CORS by default', () => {
  let h: OAuthHarness;
  let operator: string;

  beforeAll(async () => {
    h = await startOAuthServer('sqlite');
    operator = await h.operatorToken();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('is off: no Access-Control-Allow-Origin anywhere but the public discovery documents, and cors: false', async () => {
    for (const url of [`${h.fhirBase}/Patient`, `${h.fhirBase}/metadata`, `${h.issuer}/oauth/token`]) {
      const p = await preflight(url, APP, url.endsWith('token') ? 'POST' : 'GET');
      expect(p.status, url).toBe(404);
      expect(p.headers.get('access-control-allow-origin'), url).toBeNull();
    }
    const get = await call(`${h.fhirBase}/Patient`, { headers: { origin: APP, authorization: `Bearer ${operator}` } });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
    const token = await call(`${h.issuer}/oauth/token`, { method: 'POST', headers: { origin: APP, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    expect(token.headers.get('access-control-allow-origin')).toBeNull();
    const metadata = await call(`${h.fhirBase}/metadata`, { headers: { origin: APP } });
    expect(JSON.parse(metadata.text).rest[0].security.cors).toBe(false);
    expect(metadata.headers.get('access-control-allow-origin')).toBeNull();
    // SMART discovery is public metadata with no data and no credentials: readable from anywhere.
    const discovery = await call(`${h.fhirBase}/.well-known/smart-configuration`, { headers: { origin: APP } });
    expect(discovery.headers.get('access-control-allow-origin')).toBe('*');
  });
});
