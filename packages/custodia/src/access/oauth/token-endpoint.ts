/**
 * The token (RFC 6749 §3.2), introspection (RFC 7662) and revocation (RFC 7009)
 * endpoints. Bodies are `application/x-www-form-urlencoded` (RFC 6749 §3.2, RFC 7662
 * §2.1, RFC 7009 §2.1) and attacker-controlled; answers are JSON, errors RFC 6749 §5.2.
 *
 * Security events (security-events.ts): tokens are handed out only once their
 * `token-issued` record is durable — otherwise the answer is 503 `temporarily_unavailable`,
 * the tokens never leave the server and their grant is revoked. Refused token requests,
 * failed client authentication and revocations are recorded if the ledger can take them;
 * the answer does not depend on it.
 */
import { decodeJwt } from 'jose';
import { isCustodiaError, type Clock } from '../../kernel/index.js';
import type { ClientCertificate } from '../client-certificate.js';
import type { Client, IdentityService } from '../identity/index.js';
import type { Principal } from '../principal.js';
import type { RateLimiter } from '../rate-limiter.js';
import type { TokenService } from '../token-service.js';
import { exchangeAuthorizationCode } from './authorization-code-grant.js';
import { RequestParams } from './authorization-request.js';
import type { ClientAuthenticator } from './client-authenticator.js';
import { clientCredentials } from './client-credentials-grant.js';
import { presentedCredentials, type PresentedCredentials } from './client-credentials.js';
import type { GrantDeps, IssuedTokens } from './authorization-code-grant.js';
import { eventUser, recordBestEffort, type EventGrantType, type SecurityEvent, type SecurityEventSink } from '../security-events.js';
import { jsonResponse, oauthErrorResponse, rateLimitedResponse, type OAuthHttpResponse } from './http-response.js';
import { logoutEvent } from './logout-event.js';
import { OAuthError } from './oauth-error.js';
import type { OAuthStore } from './oauth-store.js';
import type { OAuthEndpoints } from './oauth-settings.js';
import { exchangeRefreshToken } from './refresh-token-grant.js';
import { isHandle, sha256 } from './secrets.js';
import type { TokenIssuer } from './token-issuer.js';

export interface TokenEndpointDeps {
  readonly identity: IdentityService;
  readonly store: OAuthStore;
  readonly tokens: TokenService;
  readonly issuer: TokenIssuer;
  readonly authenticator: ClientAuthenticator;
  readonly clock: Clock;
  readonly endpoints: OAuthEndpoints;
  /** Limits token requests per authenticated client; without it there is no limit. */
  readonly rateLimiter?: Pick<RateLimiter, 'admitTokenRequest'>;
  /** Where token and client-authentication events go (the audit ledger). */
  readonly events: SecurityEventSink;
}

const MAX_TOKEN = 8192;
const MAX_CLIENT_ID = 128;

type Endpoint = 'token' | 'introspection' | 'revocation';

const GRANT_TYPES: readonly string[] = ['authorization_code', 'refresh_token', 'client_credentials'] satisfies EventGrantType[];
/** `grant_type` (attacker input) as an event names it. */
const grantTypeOf = (v: string | undefined): EventGrantType => (v !== undefined && GRANT_TYPES.includes(v) ? (v as EventGrantType) : 'other');

export class TokenEndpoint {
  constructor(private readonly d: TokenEndpointDeps) {}

  /** `POST /oauth/token`. `address`, here and below: the caller's network address, for the audit trail. */
  token(body: unknown, authorization: string | undefined, certificate?: ClientCertificate, address?: string): Promise<OAuthHttpResponse> {
    return this.#handle(body, authorization, certificate, 'token', address, async (p, client) => {
      // Counted once the client is authenticated, so nobody can spend another client's
      // budget by naming its client_id.
      this.d.rateLimiter?.admitTokenRequest(client.clientId);
      const grantType = p.get('grant_type');
      const at = address === undefined ? {} : { address };
      const ended: SecurityEvent[] = [];
      const bound = certificate?.thumbprint;
      const deps: GrantDeps = {
        identity: this.d.identity,
        store: this.d.store,
        issuer: this.d.issuer,
        clock: this.d.clock,
        ...(bound === undefined ? {} : { certificateThumbprint: bound }),
        revoked: (grant, reason) => ended.push({ kind: 'token-revoked', client: client.clientId, token: 'grant', reason, grant, ...at }),
      };
      let issued: IssuedTokens;
      try {
        issued = await this.#grant(grantType, p, client, deps, bound);
      } catch (e) {
        if (e instanceof OAuthError) {
          const refused: SecurityEvent = { kind: 'token-refused', grantType: grantTypeOf(grantType), client: client.clientId, error: e.error, ...at };
          await Promise.all([refused, ...ended].map((event) => recordBestEffort(this.d.events, event)));
        }
        throw e;
      }
      // Only the three grant types issue anything.
      await this.#recordIssue(issued, grantTypeOf(grantType) as Exclude<EventGrantType, 'other'>, client, at);
      return jsonResponse(200, issued.body);
    });
  }

  #grant(grantType: string | undefined, p: RequestParams, client: Client, deps: GrantDeps, bound: string | undefined): Promise<IssuedTokens> {
    switch (grantType) {
      case 'authorization_code':
        return exchangeAuthorizationCode(p, client, deps);
      case 'refresh_token':
        return exchangeRefreshToken(p, client, deps);
      case 'client_credentials':
        return clientCredentials(p, client, this.d.issuer, bound);
      case undefined:
        throw new OAuthError('invalid_request', 'grant_type is required');
      default:
        throw new OAuthError('unsupported_grant_type', 'The grant types are authorization_code, refresh_token and client_credentials');
    }
  }

  /**
   * The issuance's record, durable before the tokens leave. When it cannot be written the
   * tokens are not handed out and their grant is revoked (a spent code or a rotated
   * refresh token would otherwise look reused on retry): fail closed, 503.
   */
  async #recordIssue(issued: IssuedTokens, grantType: Exclude<EventGrantType, 'other'>, client: Client, at: { address?: string }): Promise<void> {
    try {
      await this.d.events.record({
        kind: 'token-issued',
        grantType,
        client: client.clientId,
        ...(issued.user === undefined ? {} : { user: eventUser(issued.user) }),
        scope: issued.scope,
        ...(issued.patient === undefined ? {} : { patient: issued.patient }),
        ...(issued.grantId === undefined ? {} : { grant: issued.grantId }),
        tokenId: issued.accessTokenId,
        ...at,
      });
    } catch (e) {
      if (issued.grantId !== undefined) await this.d.store.revokeGrant(issued.grantId, this.d.clock.now()).catch(() => undefined);
      if (!isCustodiaError(e, 'audit-unavailable')) throw e;
      throw new OAuthError('temporarily_unavailable', 'The tokens could not be recorded in the audit trail, so none were issued; start again later', { cause: e });
    }
  }

  /**
   * `POST /oauth/introspect` (RFC 7662 §2): confidential clients only. Anything invalid,
   * expired, revoked, not issued by this authorization server, or a refresh token of
   * another client is `{"active": false}` and nothing more (§2.2). Each answer is in the
   * audit ledger (`token-introspected`: the client, active or not, or the refusal): an
   * active one only once its record is durable (503 otherwise), the others best effort.
   */
  introspect(body: unknown, authorization: string | undefined, certificate?: ClientCertificate, address?: string): Promise<OAuthHttpResponse> {
    return this.#handle(body, authorization, certificate, 'introspection', address, async (p, client) => {
      const asked = { kind: 'token-introspected', client: client.clientId, ...(address === undefined ? {} : { address }) } as const;
      const token = p.get('token');
      if (client.kind === 'public' || token === undefined) {
        const e = client.kind === 'public' ? new OAuthError('invalid_client', 'Only confidential clients may introspect tokens') : new OAuthError('invalid_request', 'token is required');
        await recordBestEffort(this.d.events, { ...asked, outcome: 'refused', error: e.error });
        throw e;
      }
      const refresh = await this.#refreshInfo(token, client);
      const info = refresh ?? (await this.#accessInfo(token));
      if (info?.['active'] !== true) {
        await recordBestEffort(this.d.events, { ...asked, outcome: 'inactive' });
        return jsonResponse(200, { active: false });
      }
      // An active answer discloses the token's scope, subject and patient: like a read, it leaves only once recorded.
      try {
        await this.d.events.record({ ...asked, outcome: 'active', token: refresh === undefined ? 'access_token' : 'refresh_token' });
      } catch (e) {
        if (!isCustodiaError(e, 'audit-unavailable')) throw e;
        throw new OAuthError('temporarily_unavailable', 'The introspection could not be recorded in the audit trail; try again later', { cause: e });
      }
      return jsonResponse(200, info);
    });
  }

  /**
   * `POST /oauth/revoke` (RFC 7009 §2): a refresh token revokes its whole family
   * (§2.1: "SHOULD also invalidate all access tokens based on the same authorization
   * grant") and is recorded as its user's `logout` from the app; an access token goes on
   * the revocation list the token service checks (`token-revoked`: the grant lives on). A
   * token that is unknown, invalid or another client's changes nothing, and the answer
   * is 200 all the same (§2.2).
   */
  revoke(body: unknown, authorization: string | undefined, certificate?: ClientCertificate, address?: string): Promise<OAuthHttpResponse> {
    return this.#handle(body, authorization, certificate, 'revocation', address, async (p, client) => {
      const token = p.get('token');
      if (token === undefined) throw new OAuthError('invalid_request', 'token is required');
      const now = this.d.clock.now();
      const revoked = { kind: 'token-revoked', client: client.clientId, reason: 'client-request', ...(address === undefined ? {} : { address }) } as const;
      // The revocation holds whether or not its record can be written: refusing it would keep a token alive.
      if (isHandle(token)) {
        const record = await this.d.store.findRefreshToken(sha256(token));
        const grant = record === undefined ? undefined : await this.d.store.findGrant(record.grantId);
        if (grant !== undefined && grant.clientId === client.clientId) {
          await this.d.store.revokeGrant(grant.id, now);
          // Every grant is a user's (client_credentials has none): the app signs its user out.
          // A grant that was over already ends nothing, and is no sign-out.
          if (grant.revokedAt === undefined && grant.expiresAt > now) {
            await recordBestEffort(this.d.events, await logoutEvent(this.d.identity, { userId: grant.context.userId, clientId: client.clientId, via: 'revocation', ended: [grant], address }));
          }
        }
      } else {
        const principal = await this.#verifiedAccessToken(token);
        if (principal !== undefined && principal.clientId === client.clientId) {
          await this.d.store.revokeAccessToken(principal.tokenId, principal.expiresAt * 1000);
          const user = principal.kind === 'user' ? { user: eventUser({ id: principal.subject, role: principal.role, fhirUser: principal.fhirUser }) } : {};
          await recordBestEffort(this.d.events, { ...revoked, token: 'access_token', ...user, ...(principal.patient === undefined ? {} : { patient: principal.patient }) });
        }
      }
      return jsonResponse(200, undefined);
    });
  }

  async #handle(
    body: unknown,
    authorization: string | undefined,
    certificate: ClientCertificate | undefined,
    endpoint: Endpoint,
    address: string | undefined,
    fn: (p: RequestParams, client: Client) => Promise<OAuthHttpResponse>,
  ): Promise<OAuthHttpResponse> {
    let params: RequestParams | undefined;
    let presented: PresentedCredentials | undefined;
    let authenticating = false;
    try {
      if (!(body instanceof URLSearchParams)) throw new OAuthError('invalid_request', 'The body must be application/x-www-form-urlencoded');
      const p = (params = new RequestParams(body));
      if (p.anyRepeated) throw new OAuthError('invalid_request', 'A parameter was given more than once');
      authenticating = true;
      presented = presentedCredentials(authorization, p);
      const url = endpoint === 'token' ? this.d.endpoints.token : endpoint === 'introspection' ? this.d.endpoints.introspection : this.d.endpoints.revocation;
      const client = await this.d.authenticator.authenticate(presented, url, certificate);
      authenticating = false;
      return await fn(p, client);
    } catch (e) {
      if (e instanceof OAuthError) {
        if (authenticating) {
          // The id as presented (unauthenticated), never the secret or assertion.
          const clientId = (presented?.clientId ?? params?.get('client_id'))?.slice(0, MAX_CLIENT_ID);
          await recordBestEffort(this.d.events, {
            kind: 'client-auth-failed',
            endpoint,
            method: presented?.method ?? 'unknown',
            ...(clientId === undefined || clientId === '' ? {} : { clientId }),
            error: e.error,
            ...(address === undefined ? {} : { address }),
          });
        }
        return oauthErrorResponse(e);
      }
      if (isCustodiaError(e, 'rate-limited')) return rateLimitedResponse(e.retryAfterMs ?? 1000);
      throw e;
    }
  }

  /** A valid access token issued by this authorization server (not an operator token), or undefined. */
  async #verifiedAccessToken(token: string): Promise<Principal | undefined> {
    if (token.length > MAX_TOKEN) return undefined;
    try {
      const p = await this.d.tokens.verify(token);
      return p.issuer === this.d.endpoints.issuer ? p : undefined;
    } catch (e) {
      if (isCustodiaError(e, 'token-invalid')) return undefined;
      throw e;
    }
  }

  async #accessInfo(token: string): Promise<Record<string, unknown> | undefined> {
    const p = await this.#verifiedAccessToken(token);
    if (p === undefined) return undefined;
    const iat = decodeJwt(token).iat;
    return {
      active: true,
      token_type: 'Bearer',
      scope: p.scope,
      ...(p.clientId === undefined ? {} : { client_id: p.clientId }),
      sub: p.subject,
      iss: p.issuer,
      aud: this.d.endpoints.fhirBaseUrl,
      exp: p.expiresAt,
      ...(iat === undefined ? {} : { iat }),
      jti: p.tokenId,
      ...(p.patient === undefined ? {} : { patient: p.patient }),
      ...(p.fhirUser === undefined ? {} : { fhirUser: `${this.d.endpoints.fhirBaseUrl}/${p.fhirUser}` }),
      // RFC 8705 §3.2: the resource server learns the binding from introspection too.
      ...(p.certificateThumbprint === undefined ? {} : { cnf: { 'x5t#S256': p.certificateThumbprint } }),
    };
  }

  async #refreshInfo(token: string, client: Client): Promise<Record<string, unknown> | undefined> {
    if (!isHandle(token)) return undefined;
    const now = this.d.clock.now();
    const record = await this.d.store.findRefreshToken(sha256(token));
    const grant = record === undefined ? undefined : await this.d.store.findGrant(record.grantId);
    if (record === undefined || grant === undefined || grant.clientId !== client.clientId) return undefined;
    if (record.usedAt !== undefined || record.expiresAt <= now || grant.revokedAt !== undefined || grant.expiresAt <= now) return { active: false };
    return {
      active: true,
      token_type: 'refresh_token',
      scope: grant.context.scope,
      client_id: grant.clientId,
      sub: grant.context.userId,
      iss: this.d.endpoints.issuer,
      exp: Math.floor(record.expiresAt / 1000),
      iat: Math.floor(record.createdAt / 1000),
      ...(grant.context.patient === undefined ? {} : { patient: grant.context.patient }),
    };
  }
}
