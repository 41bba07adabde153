/**
 * A SMART App Launch standalone sign-in for a command-line (native) app, with
 * openid-client as the OAuth client:
 *
 *   SMART discovery (<fhir>/.well-known/smart-configuration, app-launch.html §2.0.3)
 *   → authorization request with PKCE S256 (RFC 7636) and a loopback redirect URI on a
 *     free port (RFC 8252 §7.3) → the person signs in in their browser → the redirect
 *     comes back to the loopback listener → code exchange (public client, no secret)
 *
 * The redirect arriving at the listener is hostile input from whatever can reach the
 * loopback port: its state must match, and openid-client checks `iss` (RFC 9207) and,
 * when `openid` is asked for, the ID token.
 */
import { createServer, type Server } from 'node:http';
import * as oauth from 'openid-client';
import { CustodiaError } from '../app/index.js';

export interface LoginOptions {
  /** The FHIR base URL, e.g. http://127.0.0.1:8080/fhir */
  readonly fhirUrl: string;
  readonly clientId: string;
  readonly scope: string;
  /** Loopback port to listen on; 0 takes a free one. */
  readonly port: number;
  readonly timeoutMs: number;
  /** Told the address to open, once the listener is up. */
  readonly onAuthorizationUrl: (url: string) => void;
}

export interface LoginResult {
  readonly accessToken: string;
  readonly scope: string;
  readonly expiresIn?: number;
  readonly patient?: string;
  readonly refreshToken?: string;
}

interface SmartConfiguration {
  issuer?: unknown;
  authorization_endpoint?: unknown;
  token_endpoint?: unknown;
  code_challenge_methods_supported?: unknown;
}

const failed = (message: string, cause?: unknown) => new CustodiaError('login-failed', message, cause === undefined ? undefined : { cause });

async function discover(fhirUrl: string): Promise<{ issuer: string; authorization_endpoint: string; token_endpoint: string }> {
  let res: Response;
  try {
    res = await fetch(`${fhirUrl.replace(/\/+$/, '')}/.well-known/smart-configuration`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    throw failed(`Cannot reach the vault at ${fhirUrl}`, e);
  }
  if (!res.ok) throw failed(`${fhirUrl} has no SMART configuration (HTTP ${res.status})`);
  // The server's answer is input too: take only string endpoints.
  const c = (await res.json().catch(() => ({}))) as SmartConfiguration;
  if (typeof c.issuer !== 'string' || typeof c.authorization_endpoint !== 'string' || typeof c.token_endpoint !== 'string') {
    throw failed(`The SMART configuration of ${fhirUrl} lacks its issuer or endpoints`);
  }
  if (!Array.isArray(c.code_challenge_methods_supported) || !c.code_challenge_methods_supported.includes('S256')) {
    throw failed(`${fhirUrl} does not support PKCE with S256`);
  }
  return { issuer: c.issuer, authorization_endpoint: c.authorization_endpoint, token_endpoint: c.token_endpoint };
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (e) => reject(failed(`Cannot listen on 127.0.0.1:${port} for the sign-in's redirect`, e)));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const PAGE = (message: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Custodia</title></head><body><p>${message}</p></body></html>`;

/** Waits for the one redirect to /callback; answers anything else with 404. */
function awaitRedirect(server: Server, timeoutMs: number): Promise<URL> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(failed(`No sign-in completed within ${Math.round(timeoutMs / 1000)} seconds`)), timeoutMs);
    server.on('request', (req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (req.method !== 'GET' || url.pathname !== '/callback') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
        return;
      }
      const denied = url.searchParams.has('error');
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'", 'cache-control': 'no-store' })
        .end(PAGE(denied ? 'The sign-in did not complete. You can close this page.' : 'Signed in. You can close this page and return to the terminal.'));
      clearTimeout(timer);
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      resolve(new URL(`http://127.0.0.1:${port}${req.url ?? '/'}`));
    });
  });
}

export async function smartLogin(o: LoginOptions): Promise<LoginResult> {
  const metadata = await discover(o.fhirUrl);
  const server = await listen(o.port);
  try {
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : o.port;
    const redirectUri = `http://127.0.0.1:${port}/callback`;
    // The issuer's OpenID configuration adds what SMART's leaves out: the JWKS and the
    // ID token algorithms (EdDSA). A vault on loopback (or in a lab) speaks plain HTTP.
    const insecure = metadata.issuer.startsWith('http:');
    let config: oauth.Configuration;
    try {
      config = await oauth.discovery(new URL(metadata.issuer), o.clientId, { redirect_uris: [redirectUri], token_endpoint_auth_method: 'none' }, oauth.None(), insecure ? { execute: [oauth.allowInsecureRequests] } : {});
    } catch (e) {
      throw failed(`Cannot read the OpenID configuration of ${metadata.issuer}: ${e instanceof Error ? e.message : String(e)}`, e);
    }
    const verifier = oauth.randomPKCECodeVerifier();
    const state = oauth.randomState();
    const openid = o.scope.split(' ').includes('openid');
    const nonce = openid ? oauth.randomNonce() : undefined;
    const url = oauth.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: o.scope,
      state,
      ...(nonce === undefined ? {} : { nonce }),
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      // SMART: the FHIR server the token is for.
      aud: o.fhirUrl,
    });
    const redirect = awaitRedirect(server, o.timeoutMs);
    o.onAuthorizationUrl(url.href);
    const back = await redirect;
    const error = back.searchParams.get('error');
    if (error !== null) throw failed(`The sign-in was refused: ${error}${back.searchParams.has('error_description') ? ` (${back.searchParams.get('error_description')})` : ''}`);
    let tokens: oauth.TokenEndpointResponse & oauth.TokenEndpointResponseHelpers;
    try {
      tokens = await oauth.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state, ...(nonce === undefined ? {} : { expectedNonce: nonce }), idTokenExpected: openid });
    } catch (e) {
      const why = e instanceof Error ? `${e.message}${e.cause instanceof Error ? ` (${e.cause.message})` : ''}` : String(e);
      throw failed(`The code exchange failed: ${why}`, e);
    }
    const patient = tokens['patient'];
    return {
      accessToken: tokens.access_token,
      scope: tokens.scope ?? o.scope,
      ...(tokens.expires_in === undefined ? {} : { expiresIn: tokens.expires_in }),
      ...(typeof patient === 'string' ? { patient } : {}),
      ...(tokens.refresh_token === undefined ? {} : { refreshToken: tokens.refresh_token }),
    };
  } finally {
    server.closeAllConnections();
    server.close();
  }
}
