/**
 * The token (RFC 6749 §3.2), introspection (RFC 7662) and revocation (RFC 7009)
 * endpoints. Bodies are `application/x-www-form-urlencoded` (RFC 6749 §3.2, RFC 7662
 * §2.1, RFC 7009 §2.1) and attacker-controlled; answers are JSON, errors RFC 6749 §5.2.
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
import { presentedCredentials } from './client-credentials.js';
import { jsonResponse, oauthErrorResponse, rateLimitedResponse, type OAuthHttpResponse } from './http-response.js';
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
}

const MAX_TOKEN = 8192;

export class TokenEndpoint {
  constructor(private readonly d: TokenEndpointDeps) {}

  /** `POST /oauth/token`. */
  token(body: unknown, authorization: string | undefined, certificate?: ClientCertificate): Promise<OAuthHttpResponse> {
    return this.#handle(body, authorization, certificate, this.d.endpoints.token, async (p, client) => {
      // Counted once the client is authenticated, so nobody can spend another client's
      // budget by naming its client_id.
      this.d.rateLimiter?.admitTokenRequest(client.clientId);
      const grantType = p.get('grant_type');
      const bound = certificate?.thumbprint;
      const deps = { identity: this.d.identity, store: this.d.store, issuer: this.d.issuer, clock: this.d.clock, ...(bound === undefined ? {} : { certificateThumbprint: bound }) };
      switch (grantType) {
        case 'authorization_code':
          return jsonResponse(200, await exchangeAuthorizationCode(p, client, deps));
        case 'refresh_token':
          return jsonResponse(200, await exchangeRefreshToken(p, client, deps));
        case 'client_credentials':
          return jsonResponse(200, await clientCredentials(p, client, this.d.issuer, bound));
        case undefined:
          throw new OAuthError('invalid_request', 'grant_type is required');
        default:
          throw new OAuthError('unsupported_grant_type', 'The grant types are authorization_code, refresh_token and client_credentials');
      }
    });
  }

  /**
   * `POST /oauth/introspect` (RFC 7662 §2): confidential clients only. Anything invalid,
   * expired, revoked, not issued by this authorization server, or a refresh token of
   * another client is `{"active": false}` and nothing more (§2.2).
   */
  introspect(body: unknown, authorization: string | undefined, certificate?: ClientCertificate): Promise<OAuthHttpResponse> {
    return this.#handle(body, authorization, certificate, this.d.endpoints.introspection, async (p, client) => {
      if (client.kind === 'public') throw new OAuthError('invalid_client', 'Only confidential clients may introspect tokens');
      const token = p.get('token');
      if (token === undefined) throw new OAuthError('invalid_request', 'token is required');
      const refresh = await this.#refreshInfo(token, client);
      const info = refresh ?? (await this.#accessInfo(token));
      return jsonResponse(200, info ?? { active: false });
    });
  }

  /**
   * `POST /oauth/revoke` (RFC 7009 §2): a refresh token revokes its whole family
   * (§2.1: "SHOULD also invalidate all access tokens based on the same authorization
   * grant"); an access token goes on the revocation list the token service checks. A
   * token that is unknown, invalid or another client's changes nothing, and the answer
   * is 200 all the same (§2.2).
   */
  revoke(body: unknown, authorization: string | undefined, certificate?: ClientCertificate): Promise<OAuthHttpResponse> {
    return this.#handle(body, authorization, certificate, this.d.endpoints.revocation, async (p, client) => {
      const token = p.get('token');
      if (token === undefined) throw new OAuthError('invalid_request', 'token is required');
      const now = this.d.clock.now();
      if (isHandle(token)) {
        const record = await this.d.store.findRefreshToken(sha256(token));
        const grant = record === undefined ? undefined : await this.d.store.findGrant(record.grantId);
        if (grant !== undefined && grant.clientId === client.clientId) await this.d.store.revokeGrant(grant.id, now);
      } else {
        const principal = await this.#verifiedAccessToken(token);
        if (principal !== undefined && principal.clientId === client.clientId) await this.d.store.revokeAccessToken(principal.tokenId, principal.expiresAt * 1000);
      }
      return jsonResponse(200, undefined);
    });
  }

  async #handle(
    body: unknown,
    authorization: string | undefined,
    certificate: ClientCertificate | undefined,
    endpoint: string,
    fn: (p: RequestParams, client: Client) => Promise<OAuthHttpResponse>,
  ): Promise<OAuthHttpResponse> {
    try {
      if (!(body instanceof URLSearchParams)) throw new OAuthError('invalid_request', 'The body must be application/x-www-form-urlencoded');
      const p = new RequestParams(body);
      if (p.anyRepeated) throw new OAuthError('invalid_request', 'A parameter was given more than once');
      const client = await this.d.authenticator.authenticate(presentedCredentials(authorization, p), endpoint, certificate);
      return await fn(p, client);
    } catch (e) {
      if (e instanceof OAuthError) return oauthErrorResponse(e);
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
