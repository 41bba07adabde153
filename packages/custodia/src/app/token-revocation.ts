/**
 * `custodia token revoke`: ends a bearer token of this vault before it expires — one
 * minted with `custodia token` (operator or user), or an access token of the SMART
 * authorization server — by putting its `jti` on the revocation list every verification
 * consults (access/token-service.ts, RFC 7009's list, `oauth_revoked_tokens`) until the
 * token would have expired. Running servers refuse it from their next verification (on
 * SQLite, once they see this process's commit).
 *
 * The token is hostile input (it may be one found in a log or a paste): it is accepted
 * only when it is a compact JWS signed by this vault's key (RFC 7515 §5.2), and only its
 * `jti`, `exp`, `sub`, `kind` and `iss` are read. The operator log records the revocation
 * with the token id, never the token.
 */
import { compactVerify, errors as joseErrors } from 'jose';
import { CustodiaError, systemClock, type Clock } from '../kernel/index.js';
import { loadSigningKey } from '../store/index.js';
import type { VaultConfig } from './config.js';
import { openVaultDatabase } from './vault.js';

export interface TokenRevocation {
  readonly tokenId: string;
  readonly subject: string;
  /** `operator`, `user` or `client`; `unknown` for a token of this key without a kind (an ID token). */
  readonly kind: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
  /** False when the token had expired already: nothing was written. */
  readonly revoked: boolean;
}

/** Longer than any token this vault issues (24 h), with room for a hand-pasted token's line breaks. */
const MAX_TOKEN_CHARS = 16 * 1024;

const refused = (message: string, cause?: unknown): never => {
  throw new CustodiaError('request-malformed', message, cause === undefined ? undefined : { cause });
};

const claim = (payload: Record<string, unknown>, name: string): string | undefined => {
  const v = payload[name];
  return typeof v === 'string' && v.length > 0 && v.length <= 1024 ? v : undefined;
};

/** The claims of a token signed by `publicKey`, or a refusal that says why (never echoing the token). */
async function verifiedClaims(token: string, publicKey: Parameters<typeof compactVerify>[1]): Promise<Record<string, unknown>> {
  const compact = token.trim();
  if (compact.length === 0) return refused('No token given');
  if (compact.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(compact)) return refused('That is not a bearer token of this vault (a compact JWS)');
  let payload: Uint8Array;
  try {
    // EdDSA only: the vault signs with Ed25519; RFC 8725 §3.1, never the token's own choice.
    ({ payload } = await compactVerify(compact, publicKey, { algorithms: ['EdDSA'] }));
  } catch (e) {
    if (e instanceof joseErrors.JWSSignatureVerificationFailed) return refused('The token was not signed by this vault\'s key', e);
    return refused('That is not a bearer token of this vault (a compact JWS)', e);
  }
  try {
    const claims: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
    if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw new Error('not an object');
    return claims as Record<string, unknown>;
  } catch (e) {
    return refused('The token\'s claims are not a JSON object', e);
  }
}

/**
 * Puts `token` (its compact serialization; surrounding white space is ignored) on the
 * revocation list of the vault `config` opens until it expires, and records that in the
 * operator log.
 */
export async function revokeToken(config: VaultConfig, token: string, clock: Clock = systemClock): Promise<TokenRevocation> {
  const key = await loadSigningKey(config.dataDir, false);
  const claims = await verifiedClaims(token, key.publicKey);
  const tokenId = claim(claims, 'jti');
  const exp = claims['exp'];
  // Every access token of this vault has both (token-service.ts requires them to verify).
  if (tokenId === undefined || typeof exp !== 'number' || !Number.isSafeInteger(exp)) return refused('The token has no token id (jti) or expiry (exp): no access token of this vault is without them');
  const subject = claim(claims, 'sub') ?? 'unknown';
  const kind = claim(claims, 'kind') ?? 'unknown';
  const result = { tokenId, subject, kind, expiresAt: exp };
  if (exp * 1000 <= clock.now()) return { ...result, revoked: false };
  const database = await openVaultDatabase(config);
  try {
    await database.oauth.revokeAccessToken(tokenId, exp * 1000); // epoch ms, as the list keeps them
    await database.operatorLog.record({
      at: clock.now(),
      action: 'token.revoke',
      actor: 'operator',
      detail: { jti: tokenId, subject, kind, issuer: claim(claims, 'iss') ?? null, expires: new Date(exp * 1000).toISOString() },
    });
  } finally {
    await database.close();
  }
  return { ...result, revoked: true };
}
