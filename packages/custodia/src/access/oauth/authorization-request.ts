/**
 * Validation of an authorization request (RFC 6749 §4.1.1; RFC 7636 §4.3; SMART App
 * Launch 2.x app-launch.html §2.0.6 "Obtain authorization code"). Every parameter is
 * attacker-controlled.
 *
 * RFC 6749 §4.1.2.1: while the client or the redirect URI is in doubt, the error is
 * shown to the user and nothing is sent anywhere (no open redirector, RFC 9700 §4.11);
 * once both are established, errors go back to the client's registered redirect URI.
 */
import type { Client } from '../identity/index.js';
import { OAuthError, type OAuthErrorCode } from './oauth-error.js';
import { isCodeChallenge } from './pkce.js';
import { grantScopes, parseRequestedScope } from './scope-grant.js';

/** The launch context an EHR created (`POST /oauth/launch`), resolved from the `launch` parameter. */
export interface LaunchContext {
  readonly patient: string;
  readonly encounter?: string;
  /** The user the launch was created for, when a user created it. */
  readonly boundUser?: string;
}

/** A validated authorization request (what the pending sign-in stores). */
export interface AuthorizationRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state: string;
  /** The requested scopes the client may be granted, in request order. */
  readonly scopes: readonly string[];
  readonly codeChallenge: string;
  readonly nonce?: string;
  readonly launch?: LaunchContext;
}

/** Where an error can be sent back to, once client and redirect URI are established. */
export interface ErrorTarget {
  readonly redirectUri: string;
  readonly state?: string;
}

export class AuthorizationError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    description: string,
    /** Undefined: show an error page, redirect nowhere. */
    readonly target?: ErrorTarget,
  ) {
    super(description);
    this.name = 'AuthorizationError';
  }
}

/** Request parameters, with the names given more than once (RFC 6749 §3.1: "MUST NOT be included more than once"). */
export class RequestParams {
  readonly #values = new Map<string, string>();
  readonly #repeated = new Set<string>();

  constructor(pairs: Iterable<readonly [string, string]>) {
    for (const [k, v] of pairs) {
      if (this.#values.has(k)) this.#repeated.add(k);
      else this.#values.set(k, v);
    }
  }

  /** The value, or undefined when absent, empty (RFC 6749 §3.1) or repeated. */
  get(name: string): string | undefined {
    const v = this.#values.get(name);
    return v === undefined || v === '' || this.#repeated.has(name) ? undefined : v;
  }

  repeated(name: string): boolean {
    return this.#repeated.has(name);
  }

  get anyRepeated(): boolean {
    return this.#repeated.size > 0;
  }
}

const MAX_STATE = 1024;
const MAX_NONCE = 512;
const MAX_LAUNCH = 256;

/** A loopback IP literal redirect URI (RFC 8252 §7.3), without its port; undefined for any other URI. */
function loopbackWithoutPort(uri: string): string | undefined {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return undefined;
  }
  // Not `localhost` (RFC 8252 §8.3): a name can resolve elsewhere.
  if (u.protocol !== 'http:' || (u.hostname !== '127.0.0.1' && u.hostname !== '[::1]') || u.username !== '' || u.password !== '' || u.hash !== '') return undefined;
  u.port = '';
  return u.href;
}

/**
 * RFC 6749 §3.1.2.3: the redirect URI is compared with the registered ones as strings;
 * RFC 8252 §7.3: except that for a loopback IP redirect URI any port is allowed, since a
 * native app listens on whatever port is free when it asks. `requested` is hostile.
 */
export function redirectUriMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  if (requested.length > 2048) return false;
  const r = loopbackWithoutPort(registered);
  return r !== undefined && r === loopbackWithoutPort(requested);
}

/** Step 1 (RFC 6749 §3.1.2.3, §4.1.2.1): the client is registered and active, and the redirect URI is exactly one of its own. */
export function checkClientTarget(p: RequestParams, client: Client | undefined): { client: Client; redirectUri: string } {
  if (p.get('client_id') === undefined) throw new AuthorizationError('invalid_request', 'The request does not name the application (client_id).');
  if (client === undefined || client.status !== 'active') throw new AuthorizationError('invalid_request', 'This application is not registered with this server, or it has been disabled.');
  const redirectUri = p.get('redirect_uri');
  if (redirectUri === undefined) throw new AuthorizationError('invalid_request', 'The request does not say where to return to (redirect_uri).');
  // Exact string comparison (RFC 9700 §4.1.3): no prefix, pattern or normalisation.
  if (!client.redirectUris.some((registered) => redirectUriMatches(registered, redirectUri))) throw new AuthorizationError('invalid_request', 'The return address (redirect_uri) is not registered for this application.');
  return { client, redirectUri };
}

export interface ValidatedRequest {
  readonly request: Omit<AuthorizationRequest, 'launch'>;
  /** The raw `launch` parameter of an EHR launch, still to be resolved. */
  readonly launchId?: string;
}

/** Step 2: everything else; errors from here on are redirected to the client. */
export function validateAuthorizationRequest(p: RequestParams, client: Client, redirectUri: string, fhirBaseUrl: string): ValidatedRequest {
  const rawState = p.get('state');
  const state = rawState !== undefined && rawState.length <= MAX_STATE ? rawState : undefined;
  const fail = (error: OAuthErrorCode, description: string): never => {
    throw new AuthorizationError(error, description, { redirectUri, ...(state === undefined ? {} : { state }) });
  };
  if (p.anyRepeated) fail('invalid_request', 'A parameter was given more than once');
  // SMART App Launch: state is REQUIRED.
  if (state === undefined) fail('invalid_request', 'state is required (at most 1024 characters)');
  const responseType = p.get('response_type');
  if (responseType === undefined) fail('invalid_request', 'response_type is required');
  if (responseType !== 'code') fail('unsupported_response_type', 'Only response_type=code is supported');
  const mode = p.get('response_mode');
  if (mode !== undefined && mode !== 'query') fail('invalid_request', 'Only response_mode=query is supported');
  // RFC 7636 §4.4.1 and RFC 9700 §2.1.1: PKCE is required, and only with S256.
  const challenge = p.get('code_challenge');
  if (p.get('code_challenge_method') !== 'S256') fail('invalid_request', 'PKCE is required with code_challenge_method=S256');
  if (!isCodeChallenge(challenge)) fail('invalid_request', 'code_challenge must be a BASE64URL-encoded SHA-256 (43 characters)');
  // SMART App Launch: aud names the FHIR server the token is for; a token for another server is never issued.
  const aud = p.get('aud');
  if (aud === undefined || aud.replace(/\/+$/, '') !== fhirBaseUrl) fail('invalid_request', 'aud must be the base URL of this FHIR server');
  const nonce = p.get('nonce');
  if (nonce !== undefined && nonce.length > MAX_NONCE) fail('invalid_request', 'nonce is too long');
  // OIDC Core §3.1.2.1: with no sign-in session kept, prompt=none can never succeed.
  if (p.get('prompt')?.split(' ').includes('none') === true) fail('login_required', 'This server always asks the user to sign in');
  let scopes: string[] = [];
  try {
    scopes = grantScopes(parseRequestedScope(p.get('scope')), client.scope, 'authorization_code');
  } catch (e) {
    fail('invalid_scope', e instanceof OAuthError ? e.message : 'The scope is not valid');
  }
  const launchId = p.get('launch');
  if (launchId !== undefined) {
    // SMART EHR launch: the launch parameter comes with the launch scope.
    if (launchId.length > MAX_LAUNCH) fail('invalid_request', 'launch is not a launch id of this server');
    if (!scopes.includes('launch')) fail('invalid_scope', 'An EHR launch needs the launch scope');
  } else {
    // Without a launch there is no EHR context to give.
    scopes = scopes.filter((s) => s !== 'launch');
    if (scopes.length === 0) fail('invalid_scope', 'None of the requested scopes can be granted');
  }
  const request = { clientId: client.clientId, redirectUri, state: state!, scopes, codeChallenge: challenge!, ...(nonce === undefined ? {} : { nonce }) };
  return { request, ...(launchId === undefined ? {} : { launchId }) };
}

/** RFC 6749 §4.1.2 / §4.1.2.1 and RFC 9207 §2: the redirect back to the client. */
export function redirectTo(target: ErrorTarget, issuer: string, params: Record<string, string>): string {
  const url = new URL(target.redirectUri);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  if (target.state !== undefined) url.searchParams.set('state', target.state);
  url.searchParams.set('iss', issuer);
  return url.toString();
}
