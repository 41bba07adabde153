/**
 * Bearer tokens signed by this server (RFC 6750 usage, RFC 7519 JWT, EdDSA/Ed25519 per
 * RFC 8037). `custodia token` mints them for operators; the SMART authorization server
 * of a later issue mints them for apps. Verification checks signature, issuer,
 * audience, expiry and not-before against the injected clock, and caches the result
 * by the token's SHA-256 (never by the token string itself) until it expires.
 */
import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { SignJWT, jwtVerify, type CryptoKey, type JWK, type KeyObject } from 'jose';
import { CustodiaError, type Clock, type Random, uuidV4 } from '../kernel/index.js';
import type { Principal } from './principal.js';
import { parseScopes } from './smart-scopes.js';

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
}

const MAX_TTL_SECONDS = 24 * 3600;

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
  ) {}

  async issue(o: IssueOptions): Promise<string> {
    if (!Number.isInteger(o.ttlSeconds) || o.ttlSeconds <= 0 || o.ttlSeconds > MAX_TTL_SECONDS) {
      throw new CustodiaError('request-malformed', `A token lives between 1 second and ${MAX_TTL_SECONDS / 3600} hours`);
    }
    const now = Math.floor(this.clock.now() / 1000);
    return new SignJWT({ scope: o.scope })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: this.key.kid })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(o.subject)
      .setJti(uuidV4(this.random))
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + o.ttlSeconds)
      .sign(this.key.privateKey);
  }

  /** Verifies an attacker-supplied token string. */
  async verify(token: string): Promise<Principal> {
    if (token.length > 8192) throw new CustodiaError('token-invalid', 'The bearer token is not valid');
    const digest = sha256(token);
    const nowSeconds = this.clock.now() / 1000;
    const cached = this.#cache.get(digest);
    if (cached !== undefined) {
      if (cached.expiresAt > nowSeconds) return cached;
      this.#cache.delete(digest);
    }
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.key.publicKey, {
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        algorithms: ['EdDSA'],
        currentDate: new Date(this.clock.now()),
        requiredClaims: ['exp', 'sub', 'jti'],
      }));
    } catch (e) {
      throw new CustodiaError('token-invalid', 'The bearer token is not valid', { cause: e });
    }
    const scope = typeof payload['scope'] === 'string' ? payload['scope'] : '';
    const principal: Principal = {
      subject: payload.sub!,
      issuer: payload.iss!,
      tokenId: payload.jti!,
      scope,
      scopes: parseScopes(scope),
      expiresAt: payload.exp!,
    };
    if (this.#cache.size >= CACHE_MAX) this.#cache.delete(this.#cache.keys().next().value as string);
    this.#cache.set(digest, principal);
    return principal;
  }
}
