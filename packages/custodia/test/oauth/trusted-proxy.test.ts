/**
 * The per-address sign-in throttle behind a reverse proxy: X-Forwarded-For names the
 * client only when the request comes from a proxy the operator listed (--trust-proxy);
 * otherwise the header is ignored and the socket's address counts, so a client cannot
 * pick the address it is throttled under. The throttle does not depend on the database,
 * so this runs on SQLite only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeUrl, Browser, pkce, REDIRECT, startOAuthServer, type OAuthHarness } from './oauth-harness.js';

const THROTTLE = { capacity: 2, refillPerMinute: 0.001 };

/** One failed password submission from a browser whose proxy says it is `forwardedFor`; the status of the answer. */
async function failedSignIn(h: OAuthHarness, forwardedFor: string): Promise<number> {
  const browser = new Browser({ 'x-forwarded-for': forwardedFor });
  const { challenge } = await pkce();
  const login = await browser.get(authorizeUrl(h, { response_type: 'code', client_id: 'app', redirect_uri: REDIRECT, scope: 'openid', state: 'state-1234', code_challenge: challenge, code_challenge_method: 'S256', aud: h.fhirBase }));
  expect(login.status).toBe(200);
  return (await browser.submit(login, { username: 'nobody-here', password: 'not the password at all' })).status;
}

describe.each([
  ['behind a trusted proxy', ['127.0.0.1'], true],
  ['with no proxy trusted', [], false],
] as const)('the sign-in throttle %s', (_name, trustedProxies, trusted) => {
  let h: OAuthHarness;
  beforeAll(async () => {
    h = await startOAuthServer('sqlite', { config: { trustedProxies: [...trustedProxies] }, throttle: THROTTLE });
    await h.vault.identity.addClient({ clientId: 'app', name: 'App', public: true, redirectUris: [REDIRECT], scope: 'openid user/*.rs' });
  });
  afterAll(async () => h?.close());

  it(trusted ? 'counts each forwarded client address on its own' : 'ignores X-Forwarded-For and counts the connecting address', async () => {
    expect(await failedSignIn(h, '203.0.113.7')).toBe(401);
    expect(await failedSignIn(h, '203.0.113.7')).toBe(401);
    expect(await failedSignIn(h, '203.0.113.7')).toBe(429);
    // Another client behind the same proxy, or the same socket claiming another address.
    expect(await failedSignIn(h, '198.51.100.9')).toBe(trusted ? 401 : 429);
  });
});
