/**
 * The end-session endpoint of OpenID Connect RP-Initiated Logout 1.0: an app sends its
 * user's browser here (`GET` or form `POST`, §2) to sign them out. The vault keeps no
 * sign-in session of its own (no cookie outlives a sign-in), so signing out of an app
 * means ending every grant the user gave that app — its refresh tokens and the access
 * tokens issued under them — and recording one `logout` event.
 *
 * Who is signing out comes only from `id_token_hint` (§2: RECOMMENDED; here required,
 * since there is no session to fall back on): an ID token this vault issued, checked for
 * signature, issuer and shape. An expired one is accepted (§4: it still names the
 * session). `client_id`, if given, must be the token's audience (§2).
 * `post_logout_redirect_uri` must exactly match a redirect URI registered for that
 * client (§3), and `state` is passed back on it; anything else is refused with an error
 * page, before anything happens — never an open redirect.
 *
 * Rate limited (rate-limiter.ts, the `logout` limit): per client address before anything
 * of the request is read, so a refusal (429, Retry-After, one page) is the same whatever
 * the request holds and costs no signature check; then per user and app of a valid
 * hint, counted only for a sign-out that would be done. A refusal changes nothing and is
 * not recorded, so a flood cannot fill the ledger.
 *
 * Fail closed, as far as a sign-out can: the grants end first (ending access is always
 * safe); when the `logout` record cannot be made durable the answer is 503 with a page
 * that says the user is signed out but it was not recorded — no redirect, so the app
 * sees that something went wrong — and a retry records the sign-out (of no grants then).
 */
import { compactVerify, decodeProtectedHeader, type CryptoKey, type KeyObject } from 'jose';
import { isCustodiaError, type Clock } from '../../kernel/index.js';
import type { Client, IdentityService } from '../identity/index.js';
import type { RateLimiter } from '../rate-limiter.js';
import type { SecurityEventSink } from '../security-events.js';
import { RequestParams } from './authorization-request.js';
import { pageResponse, rateLimitedPage, redirectResponse, type OAuthHttpResponse } from './http-response.js';
import { logoutEvent } from './logout-event.js';
import type { OAuthStore } from './oauth-store.js';
import type { OAuthEndpoints } from './oauth-settings.js';
import { errorPage, signedOutPage } from './pages.js';

export interface EndSessionDeps {
  readonly identity: IdentityService;
  readonly store: OAuthStore;
  readonly clock: Clock;
  readonly endpoints: OAuthEndpoints;
  /** The key ID tokens are signed with (token-issuer.ts). */
  readonly idTokenKey: CryptoKey | KeyObject;
  readonly events: SecurityEventSink;
  /** Limits sign-outs per address and per user and app; without it there is no limit. */
  readonly rateLimiter?: Pick<RateLimiter, 'admitLogoutFrom' | 'admitLogoutOf'>;
}

const MAX_ID_TOKEN = 8192;
const MAX_STATE = 1024;
const MAX_ID = 128;
const MAX_URI = 2048;

const TOO_MANY = errorPage({ title: 'Too many sign-out requests', message: 'Too many sign-out requests came in. Wait a moment, then try signing out again.' });

/** A refused logout request: a page, nothing changed. */
class LogoutRefused extends Error {}

/** Who an ID token names: its subject, and the client it was issued to. */
interface Hint {
  readonly userId: string;
  readonly clientId: string;
}

export class EndSessionEndpoint {
  constructor(private readonly d: EndSessionDeps) {}

  /**
   * `GET`/`POST /oauth/logout`. `params`: the query or the form body — attacker-controlled,
   * every value of it; `method`: how it came (a redirect after a POST is 303);
   * `address`: the browser's network address, for the audit trail.
   */
  async endSession(params: Iterable<readonly [string, string]>, method: 'GET' | 'POST', address?: string): Promise<OAuthHttpResponse> {
    let request: { hint: Hint; client: Client | undefined; redirect: string | undefined };
    try {
      await this.d.rateLimiter?.admitLogoutFrom(address);
      request = await this.#parse(new RequestParams(params));
      await this.d.rateLimiter?.admitLogoutOf(request.hint.userId, request.hint.clientId);
    } catch (e) {
      if (e instanceof LogoutRefused) return pageResponse(400, errorPage({ title: 'This sign-out cannot be done', message: e.message }));
      // One page for either limit: it says nothing of the request, valid hint or not.
      if (isCustodiaError(e, 'rate-limited')) return rateLimitedPage(e.retryAfterMs ?? 1000, TOO_MANY);
      throw e;
    }
    const { hint, client, redirect } = request;
    const ended = await this.d.store.revokeUserGrants(hint.userId, hint.clientId, this.d.clock.now());
    const appName = client?.name ?? 'the application';
    try {
      await this.d.events.record(await logoutEvent(this.d.identity, { userId: hint.userId, clientId: hint.clientId, via: 'end-session', ended, address }));
    } catch (e) {
      if (!isCustodiaError(e, 'audit-unavailable')) throw e;
      return pageResponse(503, errorPage({ title: 'Signed out, but not recorded', message: `You are signed out of ${appName}, but the sign-out could not be recorded in the audit trail. Try signing out again later.` }));
    }
    return redirect === undefined ? pageResponse(200, signedOutPage({ clientName: appName })) : redirectResponse(method === 'POST' ? 303 : 302, redirect);
  }

  /** Every parameter is attacker-controlled: checked in full before anything is done. */
  async #parse(p: RequestParams): Promise<{ hint: Hint; client: Client | undefined; redirect: string | undefined }> {
    if (p.anyRepeated) throw new LogoutRefused('A parameter was given more than once.');
    const token = p.get('id_token_hint');
    if (token === undefined) throw new LogoutRefused('The application did not say who is signing out (id_token_hint).');
    const hint = await this.#verifyHint(token);
    if (hint === undefined) throw new LogoutRefused('The application did not send a valid ID token of this server (id_token_hint).');
    const clientId = p.get('client_id');
    if (clientId !== undefined && clientId !== hint.clientId) throw new LogoutRefused('The ID token was not issued to this application (client_id).');
    const client = await this.d.identity.getClient(hint.clientId);
    const rawState = p.get('state');
    if (rawState !== undefined && rawState.length > MAX_STATE) throw new LogoutRefused('The state is too long (at most 1024 characters).');
    const uri = p.get('post_logout_redirect_uri');
    if (uri === undefined) return { hint, client, redirect: undefined };
    // §3: exactly one of the client's registered redirect URIs (simple string comparison), of an active client.
    if (uri.length > MAX_URI || client?.status !== 'active' || !client.redirectUris.includes(uri)) {
      throw new LogoutRefused('The return address (post_logout_redirect_uri) is not registered for this application.');
    }
    let target: URL;
    try {
      target = new URL(uri);
    } catch {
      throw new LogoutRefused('The return address (post_logout_redirect_uri) is not registered for this application.');
    }
    if (rawState !== undefined) target.searchParams.append('state', rawState);
    return { hint, client, redirect: target.href };
  }

  /**
   * An ID token of this vault (token-issuer.ts): EdDSA over our key, `typ: JWT` (an
   * access token is `at+jwt`), our issuer, a subject, one audience (the client) and
   * `auth_time`. Its expiry is not checked (§4). Undefined for anything else.
   */
  async #verifyHint(token: string): Promise<Hint | undefined> {
    if (token.length > MAX_ID_TOKEN) return undefined;
    try {
      if (decodeProtectedHeader(token).typ !== 'JWT') return undefined;
      const { payload } = await compactVerify(token, this.d.idTokenKey, { algorithms: ['EdDSA'] });
      const claims: unknown = JSON.parse(new TextDecoder().decode(payload));
      if (typeof claims !== 'object' || claims === null) return undefined;
      const { iss, sub, aud, auth_time: authTime } = claims as Record<string, unknown>;
      if (iss !== this.d.endpoints.issuer || typeof authTime !== 'number') return undefined;
      if (typeof sub !== 'string' || sub === '' || sub.length > MAX_ID || typeof aud !== 'string' || aud === '' || aud.length > MAX_ID) return undefined;
      return { userId: sub, clientId: aud };
    } catch {
      // Not a JWS, a bad signature, not JSON: not an ID token of ours.
      return undefined;
    }
  }
}
