/**
 * What a bearer token signed by this vault's key names, for revoking it
 * (app/token-revocation.ts): its id, expiry, subject, kind and issuer — whatever its
 * issuer, audience or expiry, which revocation does not care about.
 *
 * The token is hostile input (it may be one found in a log or a paste): it is accepted
 * only when it is a compact JWS signed by `publicKey` with EdDSA (RFC 7515 §5.2; RFC 8725
 * §3.1: the algorithm is ours, never the token's choice), and only those claims are read.
 */
import { compactVerify, errors as joseErrors } from 'jose';
import { CustodiaError } from '../kernel/index.js';
import { claimText, type SigningKey } from './token-service.js';

export interface SignedTokenClaims {
  readonly tokenId: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
  /** `unknown` when the token names none. */
  readonly subject: string;
  /** `operator`, `user` or `client`; `unknown` for a token of this key without a kind (an ID token). */
  readonly kind: string;
  readonly issuer?: string;
}

/** Longer than any token this vault issues, with room for a hand-pasted token's white space. */
const MAX_TOKEN_CHARS = 16 * 1024;

const refused = (message: string, cause?: unknown): never => {
  throw new CustodiaError('request-malformed', message, cause === undefined ? undefined : { cause });
};

const claim = (payload: Record<string, unknown>, name: string): string | undefined => claimText(payload[name]);

/** The claims of `token` (surrounding white space ignored) if `key` signed it; otherwise a refusal that says why, never echoing the token. */
export async function signedTokenClaims(token: string, key: Pick<SigningKey, 'publicKey'>): Promise<SignedTokenClaims> {
  const compact = token.trim();
  if (compact.length === 0) return refused('No token given');
  if (compact.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(compact)) return refused('That is not a bearer token of this vault (a compact JWS)');
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(compact, key.publicKey, { algorithms: ['EdDSA'] }));
  } catch (e) {
    if (e instanceof joseErrors.JWSSignatureVerificationFailed) return refused("The token was not signed by this vault's key", e);
    return refused('That is not a bearer token of this vault (a compact JWS)', e);
  }
  let claims: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    claims = parsed as Record<string, unknown>;
  } catch (e) {
    return refused("The token's claims are not a JSON object", e);
  }
  const tokenId = claim(claims, 'jti');
  const exp = claims['exp'];
  // Every access token of this vault has both (token-service.ts requires them to verify).
  if (tokenId === undefined || typeof exp !== 'number' || !Number.isSafeInteger(exp)) return refused('The token has no token id (jti) or expiry (exp): no access token of this vault is without them');
  const issuer = claim(claims, 'iss');
  return { tokenId, expiresAt: exp, subject: claim(claims, 'sub') ?? 'unknown', kind: claim(claims, 'kind') ?? 'unknown', ...(issuer === undefined ? {} : { issuer }) };
}
