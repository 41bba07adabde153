/**
 * Security headers over real HTTP: every API answer (data, errors, unknown paths, a URL
 * that does not even decode) is no-store, nosniff, unframeable and loads nothing; the
 * sign-in pages keep their own stricter policy; HSTS only when the public URL is https.
 * The headers do not depend on the database, so this runs on SQLite only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeUrl, Browser, pkce, REDIRECT, startOAuthServer, type OAuthHarness } from '../oauth/oauth-harness.js';

const API_CSP = "default-src 'none'; frame-ancestors 'none'";
/** CSP text with the whitespace after each `;` normalised (helmet writes none). */
const csp = (h: Headers): string | null => h.get('content-security-policy')?.replace(/;\s*/g, '; ') ?? null;

describe('security headers', () => {
  let h: OAuthHarness;
  let operator: string;

  beforeAll(async () => {
    h = await startOAuthServer('sqlite');
    operator = await h.operatorToken();
    await h.vault.identity.addClient({ clientId: 'web-app', name: 'Web App', public: true, redirectUris: [REDIRECT], scope: 'openid patient/*.rs' });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('puts no-store, nosniff, a CSP that loads nothing, no-referrer and DENY on every API answer', async () => {
    const answers = [
      ['metadata', await fetch(`${h.fhirBase}/metadata`)],
      ['a search', await fetch(`${h.fhirBase}/Patient`, { headers: { authorization: `Bearer ${operator}` } })],
      ['a 401', await fetch(`${h.fhirBase}/Patient`)],
      ['a 404', await fetch(`${h.issuer}/no/such/path`)],
      ['a token endpoint error', await fetch(`${h.issuer}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=nothing' })],
    ] as const;
    for (const [what, res] of answers) {
      await res.arrayBuffer();
      expect.soft(res.headers.get('cache-control'), what).toBe('no-store');
      expect.soft(res.headers.get('x-content-type-options'), what).toBe('nosniff');
      expect.soft(csp(res.headers), what).toBe(API_CSP);
      expect.soft(res.headers.get('referrer-policy'), what).toBe('no-referrer');
      expect.soft(res.headers.get('x-frame-options'), what).toBe('DENY');
      expect.soft(res.headers.get('cross-origin-resource-policy'), what).toBe('same-origin');
      // Plain http base URL: no HSTS, and no CORS without configured origins.
      expect.soft(res.headers.get('strict-transport-security'), what).toBeNull();
      expect.soft(res.headers.get('x-powered-by'), what).toBeNull();
    }
    expect(answers.map(([, r]) => r.status)).toEqual([200, 200, 401, 404, 401]);
  });

  it('gives the essentials to an answer made before routing (a URL that does not decode)', async () => {
    const res = await fetch(`${h.fhirBase}/Patient/%zz`, { headers: { authorization: `Bearer ${operator}` } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(csp(res.headers)).toBe(API_CSP);
  });

  it('leaves the sign-in page its own policy: a style hash, form-action, no framing', async () => {
    const { challenge } = await pkce();
    const page = await new Browser().get(
      authorizeUrl(h, { response_type: 'code', client_id: 'web-app', redirect_uri: REDIRECT, scope: 'openid patient/*.rs', state: 's', aud: h.fhirBase, code_challenge: challenge, code_challenge_method: 'S256' }),
    );
    expect(page.status).toBe(200);
    expect(page.text).toContain('<form');
    const policy = page.headers.get('content-security-policy')!;
    // One policy (fetch would join two with a comma), the page's: helmet's has no
    // style-src and no form-action.
    expect(policy).not.toContain(',');
    expect(policy).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self'[^;]*; frame-ancestors 'none'; base-uri 'none'$/);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
  });
});

describe('HSTS', () => {
  let h: OAuthHarness;

  beforeAll(async () => {
    // TLS ends at a proxy in front: the vault listens on http, its public URL is https.
    h = await startOAuthServer('sqlite', { config: { baseUrl: 'https://vault.example.org/fhir' } });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('is announced for a year, subdomains included, when the public base URL is https', async () => {
    const res = await fetch(`http://127.0.0.1:${new URL(h.issuer).port}/fhir/metadata`);
    await res.arrayBuffer();
    expect(res.status).toBe(200);
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
  });
});
