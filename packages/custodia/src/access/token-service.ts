/**
 * Bearer tokens signed by this server (RFC 6750 usage, RFC 7519 JWT, EdDSA/Ed25519 per
 * RFC 8037). `custodia token` mints them for operators (issuer `urn:custodia:vault`,
 * audience `urn:custodia:fhir`); the SMART authorization server mints them for apps
 * (issuer: the origin of the FHIR base URL; audience: the FHIR base URL itself, as
 * SMART App Launch's `aud` parameter names it). Verification checks signature (EdDSA
 * only), issuer, the audience that belongs to that issuer, expiry and not-before
 * against the injected clock, and caches the result by the token's SHA-256 (never by
 * the token string itself) until it expires. Revocation (RFC 7009) is checked on every
 * verification, cached or not.
 */
import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify, type CryptoKey, type JWK, type JWTPayload, type KeyObject } from 'jose';
import { CustodiaError, type Clock, type Random, uuidV4 } from '../kernel/index.js';
import { TREATMENT, type Principal } from './principal.js';
import { isRole, type Role } from './identity/roles.js';
import { parseScopes } from './smart-scopes.js';
import type { IssuedTokenRecord } from './issued-token-record.js';
import type { RevocationList } from './revocation-list.js';
import type { UserAccounts } from './user-standing.js';
import { isThumbprint } from './client-certificate.js';

export const TOKEN_ISSUER = 'urn:custodia:vault';
export const TOKEN_AUDIENCE = 'urn:custodia:fhir';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey | KeyObject;
  readonly publicKey: CryptoKey | KeyObject;
  readonly publicJwk: JWK;
}

export interface IssueOptions {
  readonly subject: string;
  readonly scope: string;
  /** Lifetime in seconds. */
  readonly ttlSeconds: number;
  readonly kind?: Principal['kind'];
  readonly clientId?: string;
  readonly role?: Role;
  readonly fhirUser?: string;
  readonly patient?: string;
  readonly purposeOfUse?: string;
  readonly breakGlassReason?: string;
  readonly clearances?: readonly string[];
  /** Bind the token to this client certificate (RFC 8705 §3.1 `cnf.x5t#S256`, a base64url SHA-256 thumbprint). */
  readonly certificateThumbprint?: string;
  /**
   * Who issues the token: `operator` (the default: `custodia token`, the operator
   * issuer and audience) or `oauth` (the SMART authorization server: its issuer, the
   * FHIR base URL as audience). `oauth` needs `TokenServiceOptions.oauth`.
   */
  readonly authority?: 'operator' | 'oauth';
}

/** A freshly signed token and the claims callers keep track of (never log `token`). */
export interface IssuedToken {
  readonly token: string;
  readonly tokenId: string;
  /** Epoch seconds. */
  readonly issuedAt: number;
  /** Epoch seconds. */
  readonly expiresAt: number;
}

export interface TokenServiceOptions {
  /** The SMART authorization server: its issuer URL and the audience of its tokens (the FHIR base URL). */
  readonly oauth?: { readonly issuer: string; readonly audience: string };
  /** Revoked token ids; without it nothing is ever revoked. */
  readonly revocations?: RevocationList;
  /** Where every token minted is recorded before it is handed out (revocation by id checks it); without it nothing is recorded. */
  readonly issued?: IssuedTokenRecord;
  /** User accounts as they stand now; without it a user token is judged on its claims alone. */
  readonly accounts?: UserAccounts;
}

/** Why a token this vault's key signed was refused: recorded in the audit trail, never told to the caller. */
export type TokenRefusal = 'revoked' | 'expired' | 'client-disabled' | 'account-ended';

/**
 * A bearer token signed by this vault's key and refused: `token-invalid` to the caller,
 * like any bad token, but with the token's id and why, for the audit trail — so that
 * `AuditEvent?policy=` shows every attempt with a revoked or expired token, and from
 * where. A token whose signature does not verify has no id worth recording (anyone can
 * write one).
 */
export class RefusedToken extends CustodiaError {
  constructor(
    readonly tokenId: string,
    readonly reason: TokenRefusal,
  ) {
    super('token-invalid', 'The bearer token is not valid');
  }
}

/** No token of this vault lives longer (`custodia token --ttl`, and the authorization server's lifetimes, oauth-settings.ts). */
export const MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;

/** A claim's text: a non-empty string of at most 1,024 characters, or undefined (a token's claims are hostile until checked). */
export const claimText = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= 1024 ? v : undefined);

/**
 * The principal a verified payload describes. Every token this server issues names its
 * kind; deny by default: a token without a known kind is not valid, and only the
 * operator issuer (`custodia token`) issues operator tokens.
 */
function principalOf(payload: JWTPayload): Principal {
  const scope = typeof payload['scope'] === 'string' ? payload['scope'] : '';
  const kindClaim = payload['kind'];
  if (kindClaim !== 'user' && kindClaim !== 'client' && kindClaim !== 'operator') throw new Error('the token names no known kind');
  if (kindClaim === 'operator' && payload.iss !== TOKEN_ISSUER) throw new Error('an operator token from another issuer');
  const kind: Principal['kind'] = kindClaim;
  const role = claimText(payload['role']);
  const clearance = Array.isArray(payload['clearance']) ? payload['clearance'].filter((c): c is string => typeof c === 'string') : [];
  // RFC 7800 §3.1 confirmation; RFC 8705 §3.1 its x5t#S256 member. A cnf this server cannot honour voids the token.
  const cnf = payload['cnf'];
  const thumbprint = typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>)['x5t#S256'] : undefined;
  if (cnf !== undefined && !isThumbprint(thumbprint)) throw new Error('a confirmation claim other than a certificate thumbprint');
  const optional = {
    ...(claimText(payload['client_id']) === undefined ? {} : { clientId: claimText(payload['client_id'])! }),
    ...(role !== undefined && isRole(role) ? { role } : {}),
    ...(claimText(payload['fhirUser']) === undefined ? {} : { fhirUser: claimText(payload['fhirUser'])! }),
    ...(claimText(payload['patient']) === undefined ? {} : { patient: claimText(payload['patient'])! }),
    ...(claimText(payload['btg_reason']) === undefined ? {} : { breakGlassReason: claimText(payload['btg_reason'])! }),
    ...(isThumbprint(thumbprint) ? { certificateThumbprint: thumbprint } : {}),
  };
  return {
    subject: payload.sub!,
    issuer: payload.iss!,
    tokenId: payload.jti!,
    scope,
    scopes: parseScopes(scope),
    expiresAt: payload.exp!,
    ...(typeof payload['iat_ms'] === 'number' && Number.isSafeInteger(payload['iat_ms']) ? { issuedAtMs: payload['iat_ms'] } : typeof payload.iat === 'number' ? { issuedAtMs: payload.iat * 1000 } : {}),
    kind,
    purposeOfUse: claimText(payload['purpose_of_use']) ?? TREATMENT,
    clearances: clearance,
    ...optional,
  };
}

/** One-shot SHA-256 (crypto.hash, Node ≥ 20.12) where available: it skips a Hash object per request. */
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'base64url') => string }).hash;
function sha256(data: string): string {
  return oneShot !== undefined ? oneShot('sha256', data, 'base64url') : createHash('sha256').update(data).digest('base64url');
}
const CACHE_MAX = 10_000;

export class TokenService {
  readonly #cache = new Map<string, Principal>();

  constructor(
    private readonly key: SigningKey,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly options: TokenServiceOptions = {},
  ) {}

  async issue(o: IssueOptions): Promise<string> {
    return (await this.mint(o)).token;
  }

  /** `issue`, also returning the token id and times (the OAuth server records them to revoke tokens later). */
  async mint(o: IssueOptions): Promise<IssuedToken> {
    if (!Number.isInteger(o.ttlSeconds) || o.ttlSeconds <= 0 || o.ttlSeconds > MAX_TOKEN_LIFETIME_SECONDS) {
      throw new CustodiaError('request-malformed', `A token lives between 1 second and ${MAX_TOKEN_LIFETIME_SECONDS / 3600} hours`);
    }
    const oauth = this.options.oauth;
    if (o.authority === 'oauth' && oauth === undefined) throw new CustodiaError('config-invalid', 'The token service has no OAuth issuer');
    if (o.authority === 'oauth' && (o.kind ?? 'operator') === 'operator') throw new CustodiaError('internal', 'The authorization server issues user and client tokens only');
    const [issuer, audience] = o.authority === 'oauth' ? [oauth!.issuer, oauth!.audience] : [TOKEN_ISSUER, TOKEN_AUDIENCE];
    const now = Math.floor(this.clock.now() / 1000);
    // iat has whole seconds; the ms lets a token issued just after a session cut-off (user-standing.ts) count as after it.
    const claims: Record<string, unknown> = { scope: o.scope, kind: o.kind ?? 'operator', iat_ms: this.clock.now() };
    if (o.clientId !== undefined) claims['client_id'] = o.clientId;
    if (o.role !== undefined) claims['role'] = o.role;
    if (o.fhirUser !== undefined) claims['fhirUser'] = o.fhirUser;
    if (o.patient !== undefined) claims['patient'] = o.patient;
    if (o.purposeOfUse !== undefined) claims['purpose_of_use'] = o.purposeOfUse;
    if (o.breakGlassReason !== undefined) claims['btg_reason'] = o.breakGlassReason;
    if (o.clearances !== undefined && o.clearances.length > 0) claims['clearance'] = [...o.clearances];
    if (o.certificateThumbprint !== undefined) {
      if (!isThumbprint(o.certificateThumbprint)) throw new CustodiaError('internal', 'A certificate thumbprint is 43 base64url characters');
      claims['cnf'] = { 'x5t#S256': o.certificateThumbprint };
    }
    const tokenId = uuidV4(this.random);
    const expiresAt = now + o.ttlSeconds;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: this.key.kid })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(o.subject)
      .setJti(tokenId)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(expiresAt)
      .sign(this.key.privateKey);
    await this.options.issued?.recordIssuedToken(tokenId, expiresAt * 1000);
    return { token, tokenId, issuedAt: now, expiresAt };
  }

  /** Verifies an attacker-supplied token string. */
  async verify(token: string): Promise<Principal> {
    if (token.length > 8192) throw new CustodiaError('token-invalid', 'The bearer token is not valid');
    const digest = sha256(token);
    const nowSeconds = this.clock.now() / 1000;
    const cached = this.#cache.get(digest);
    if (cached !== undefined) {
      if (cached.expiresAt > nowSeconds) return this.#notRevoked(cached);
      this.#cache.delete(digest);
    }
    const oauth = this.options.oauth;
    let payload;
    let principal: Principal;
    try {
      let header;
      ({ payload, protectedHeader: header } = await jwtVerify(token, this.key.publicKey, {
        issuer: oauth === undefined ? TOKEN_ISSUER : [TOKEN_ISSUER, oauth.issuer],
        audience: oauth === undefined ? TOKEN_AUDIENCE : [TOKEN_AUDIENCE, oauth.audience],
        algorithms: ['EdDSA'],
        currentDate: new Date(this.clock.now()),
        requiredClaims: ['exp', 'sub', 'jti'],
      }));
      // Each issuer has its own audience: an operator token is not valid for the SMART
      // audience nor the reverse. OAuth access tokens are typed (RFC 9068 §2.1), so an ID
      // token signed with the same key can never pass for one.
      const audience = payload.iss === TOKEN_ISSUER ? TOKEN_AUDIENCE : oauth!.audience;
      const aud = payload.aud;
      if (!(aud === audience || (Array.isArray(aud) && aud.includes(audience)))) throw new Error('audience of another issuer');
      if (payload.iss !== TOKEN_ISSUER && header.typ !== 'at+jwt') throw new Error('not an access token');
      principal = principalOf(payload);
    } catch (e) {
      // jose checks the signature before the claims: an expired token's payload is this vault's.
      const jti = e instanceof joseErrors.JWTExpired ? claimText(e.payload['jti']) : undefined;
      if (jti !== undefined) throw new RefusedToken(jti, 'expired');
      throw new CustodiaError('token-invalid', 'The bearer token is not valid', { cause: e });
    }
    if (this.#cache.size >= CACHE_MAX) this.#cache.delete(this.#cache.keys().next().value as string);
    this.#cache.set(digest, principal);
    return this.#notRevoked(principal);
  }

  async #notRevoked(p: Principal): Promise<Principal> {
    const list = this.options.revocations;
    if (list !== undefined && (await list.isRevoked(p.tokenId))) throw new RefusedToken(p.tokenId, 'revoked');
    // A token issued to a client (OAuth) holds only while the client is active.
    const accounts = this.options.accounts;
    if (accounts !== undefined && p.clientId !== undefined && p.issuer !== TOKEN_ISSUER && !(await accounts.clientActive(p.clientId))) {
      throw new RefusedToken(p.tokenId, 'client-disabled');
    }
    return p.kind === 'user' ? this.#asAccountStands(p) : p;
  }

  /**
   * A user's token holds only while the account does (user-standing.ts): refused once the
   * account is disabled or gone, its sessions ended (disable, password or second-factor
   * reset) after the token was issued, or its role or fhirUser changed since issue; clearances
   * withdrawn since issue are dropped from the principal. Deny by default: an answer that
   * cannot be had fails the request.
   */
  async #asAccountStands(p: Principal): Promise<Principal> {
    const accounts = this.options.accounts;
    if (accounts === undefined) return p;
    const now = await accounts.standing(p.subject);
    const cutOff = now?.sessionsNotBefore !== undefined && (p.issuedAtMs === undefined || p.issuedAtMs <= now.sessionsNotBefore);
    if (now === undefined || !now.active || cutOff || now.role !== p.role || (p.fhirUser !== undefined && now.fhirUser !== p.fhirUser)) {
      throw new RefusedToken(p.tokenId, 'account-ended');
    }
    if (p.clearances.every((c) => now.clearances.includes(c))) return p;
    return { ...p, clearances: p.clearances.filter((c) => now.clearances.includes(c)) };
  }
}
