/**
 * What a successful token request returns (RFC 6749 §5.1, SMART App Launch 2.x
 * app-launch.html §2.0.7 "Obtain access token"): a short-lived access token minted by
 * the token service, a rotating refresh token when `offline_access` or `online_access`
 * was granted, an OpenID Connect ID token (OIDC Core §2, §3.1.3.6) when `openid` was,
 * and the launch context (`patient`, `encounter`, `need_patient_banner`).
 */
import { SignJWT } from 'jose';
import type { Clock, Random } from '../../kernel/index.js';
import type { Client, User } from '../identity/index.js';
import type { SigningKey, TokenService } from '../token-service.js';
import type { GrantContext, GrantRecord, TokenIssue } from './oauth-store.js';
import type { OAuthEndpoints, OAuthLifetimes } from './oauth-settings.js';
import { randomHandle, sha256 } from './secrets.js';

export type RefreshKind = 'offline' | 'online' | 'none';

export function refreshKind(scopes: readonly string[]): RefreshKind {
  return scopes.includes('offline_access') ? 'offline' : scopes.includes('online_access') ? 'online' : 'none';
}

/** When a grant (the refresh-token family) ends, counted from `now` (ms). */
export function grantExpiry(kind: RefreshKind, now: number, l: OAuthLifetimes): number {
  const seconds = kind === 'offline' ? l.offlineGrant : kind === 'online' ? l.onlineGrant : l.code + l.accessToken;
  return now + seconds * 1000;
}

export interface TokenResponse {
  readonly body: Record<string, unknown>;
  /** What to record under the grant (access token id, the new refresh token's hash). */
  readonly issue: TokenIssue;
}

export class TokenIssuer {
  constructor(
    private readonly tokens: TokenService,
    private readonly key: SigningKey,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly endpoints: OAuthEndpoints,
    private readonly lifetimes: OAuthLifetimes,
  ) {}

  /**
   * Tokens for a user's grant. `scope` may be narrower than the grant's (RFC 6749 §6);
   * `withIdToken` for the authorization code grant (OIDC Core §3.1.3.3);
   * `certificateThumbprint` binds the access token to the client certificate the request
   * came with (RFC 8705 §3).
   */
  async forUser(grant: GrantRecord, user: User, scope: string, withIdToken: boolean, certificateThumbprint?: string): Promise<TokenResponse> {
    const c = grant.context;
    const scopes = scope.split(' ');
    const access = await this.tokens.mint({
      authority: 'oauth',
      kind: 'user',
      subject: user.id,
      scope,
      ttlSeconds: this.lifetimes.accessToken,
      clientId: grant.clientId,
      role: user.role,
      ...(user.fhirUser === undefined ? {} : { fhirUser: user.fhirUser }),
      ...(c.patient === undefined ? {} : { patient: c.patient }),
      clearances: user.clearances,
      ...(certificateThumbprint === undefined ? {} : { certificateThumbprint }),
    });
    const now = this.clock.now();
    const kind = refreshKind(grant.context.scope.split(' '));
    let refreshToken: string | undefined;
    let refresh: TokenIssue['refresh'];
    if (kind !== 'none') {
      refreshToken = randomHandle(this.random);
      const expiresAt = kind === 'offline' ? Math.min(now + this.lifetimes.offlineRefreshToken * 1000, grant.expiresAt) : grant.expiresAt;
      refresh = { tokenHash: sha256(refreshToken), expiresAt };
    }
    const idToken = withIdToken && scopes.includes('openid') ? await this.#idToken(grant.clientId, c, user, scopes) : undefined;
    const body: Record<string, unknown> = {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: access.expiresAt - access.issuedAt,
      scope,
      ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
      ...(idToken === undefined ? {} : { id_token: idToken }),
      ...(c.patient === undefined ? {} : { patient: c.patient, need_patient_banner: c.needPatientBanner }),
      ...(c.encounter === undefined ? {} : { encounter: c.encounter }),
    };
    return { body, issue: { accessTokenId: access.tokenId, accessExpiresAt: access.expiresAt * 1000, ...(refresh === undefined ? {} : { refresh }) } };
  }

  /** SMART Backend Services: an access token for the client itself, no refresh token; bound as in {@link forUser}. */
  async forClient(client: Client, scope: string, certificateThumbprint?: string): Promise<{ body: Record<string, unknown>; accessTokenId: string }> {
    const access = await this.tokens.mint({
      authority: 'oauth',
      kind: 'client',
      subject: client.clientId,
      clientId: client.clientId,
      scope,
      ttlSeconds: this.lifetimes.accessToken,
      ...(certificateThumbprint === undefined ? {} : { certificateThumbprint }),
    });
    return { body: { access_token: access.token, token_type: 'Bearer', expires_in: access.expiresAt - access.issuedAt, scope }, accessTokenId: access.tokenId };
  }

  /** OIDC Core §2: iss, sub, aud (the client), exp, iat, auth_time, nonce; SMART adds fhirUser as an absolute URL. */
  async #idToken(clientId: string, c: GrantContext, user: User, scopes: readonly string[]): Promise<string> {
    const now = Math.floor(this.clock.now() / 1000);
    const claims: Record<string, unknown> = { auth_time: c.authTime };
    if (c.nonce !== undefined) claims['nonce'] = c.nonce;
    if (scopes.includes('fhirUser') && user.fhirUser !== undefined) claims['fhirUser'] = `${this.endpoints.fhirBaseUrl}/${user.fhirUser}`;
    if (scopes.includes('profile')) claims['preferred_username'] = user.username;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: this.key.kid })
      .setIssuer(this.endpoints.issuer)
      .setSubject(user.id)
      .setAudience(clientId)
      .setIssuedAt(now)
      .setExpirationTime(now + this.lifetimes.idToken)
      .sign(this.key.privateKey);
  }
}
