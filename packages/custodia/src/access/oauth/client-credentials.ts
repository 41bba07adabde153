/**
 * What a client presents to authenticate at the token, introspection and revocation
 * endpoints (RFC 6749 §2.3): HTTP Basic (§2.3.1, `client_secret_basic`), the secret in
 * the body (§2.3.1, `client_secret_post`), a signed JWT (RFC 7523 §2.2,
 * `private_key_jwt`), or, for a public client, just its id (`none`). All of it is
 * attacker-controlled. RFC 6749 §2.3: "The client MUST NOT use more than one
 * authentication method in each request."
 */
import type { RequestParams } from './authorization-request.js';
import { OAuthError } from './oauth-error.js';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export type PresentedCredentials =
  | { readonly method: 'client_secret_basic'; readonly clientId: string; readonly secret: string }
  | { readonly method: 'client_secret_post'; readonly clientId: string; readonly secret: string }
  | { readonly method: 'private_key_jwt'; readonly assertion: string; readonly clientId?: string }
  | { readonly method: 'none'; readonly clientId: string };

const MAX_ID = 128;
const MAX_SECRET = 512;

/** RFC 6749 §2.3.1: client id and secret are form-urlencoded before Base64. */
function formDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

function basic(header: string): { clientId: string; secret: string } {
  const fail = (): never => {
    throw new OAuthError('invalid_client', 'Client authentication failed', { basicChallenge: true });
  };
  const m = /^Basic[ ]+([A-Za-z0-9+/]+={0,2})$/i.exec(header.trim());
  if (m === null || m[1]!.length > 2048) return fail();
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return fail();
  const clientId = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  if (clientId === undefined || secret === undefined || clientId.length > MAX_ID || secret.length > MAX_SECRET) return fail();
  return { clientId, secret };
}

export function presentedCredentials(authorization: string | undefined, p: RequestParams): PresentedCredentials {
  const bodyId = p.get('client_id');
  const bodySecret = p.get('client_secret');
  const assertion = p.get('client_assertion');
  const assertionType = p.get('client_assertion_type');
  if (authorization !== undefined && authorization !== '') {
    if (bodySecret !== undefined || assertion !== undefined) throw new OAuthError('invalid_request', 'Use one client authentication method per request');
    const c = basic(authorization);
    if (bodyId !== undefined && bodyId !== c.clientId) throw new OAuthError('invalid_client', 'Client authentication failed', { basicChallenge: true });
    return { method: 'client_secret_basic', ...c };
  }
  if (assertion !== undefined || assertionType !== undefined) {
    if (bodySecret !== undefined) throw new OAuthError('invalid_request', 'Use one client authentication method per request');
    if (assertionType !== JWT_BEARER_ASSERTION) throw new OAuthError('invalid_client', 'client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    if (assertion === undefined) throw new OAuthError('invalid_client', 'client_assertion is missing');
    return { method: 'private_key_jwt', assertion, ...(bodyId === undefined ? {} : { clientId: bodyId }) };
  }
  if (bodyId === undefined || bodyId.length > MAX_ID) throw new OAuthError('invalid_client', 'Client authentication is required');
  if (bodySecret !== undefined) {
    if (bodySecret.length > MAX_SECRET) throw new OAuthError('invalid_client', 'Client authentication failed');
    return { method: 'client_secret_post', clientId: bodyId, secret: bodySecret };
  }
  return { method: 'none', clientId: bodyId };
}
