/**
 * `custodia token revoke`: ends a bearer token of this vault before it expires — one
 * minted with `custodia token` (operator or user), or an access token of the SMART
 * authorization server — by putting its `jti` on the revocation list every verification
 * consults (access/token-service.ts, RFC 7009's list, `oauth_revoked_tokens`) until the
 * token would have expired. Running servers refuse it from their next verification (on
 * SQLite, once they see this process's commit).
 *
 * The token is checked as hostile input by access/signed-token-claims.ts (a compact JWS
 * of this vault's key). The operator log records the revocation with the token id, never
 * the token.
 */
import { signedTokenClaims, type SignedTokenClaims } from '../access/index.js';
import { systemClock, type Clock } from '../kernel/index.js';
import { loadSigningKey } from '../store/index.js';
import type { VaultConfig } from './config.js';
import { openVaultDatabase } from './vault.js';

export interface TokenRevocation extends SignedTokenClaims {
  /** False when the token had expired already: nothing was written. */
  readonly revoked: boolean;
}

/**
 * Puts `token` (its compact serialization; surrounding white space is ignored) on the
 * revocation list of the vault `config` opens until it expires, and records that in the
 * operator log.
 */
export async function revokeToken(config: VaultConfig, token: string, clock: Clock = systemClock): Promise<TokenRevocation> {
  const key = await loadSigningKey(config.dataDir, false);
  const claims = await signedTokenClaims(token, key);
  if (claims.expiresAt * 1000 <= clock.now()) return { ...claims, revoked: false };
  const database = await openVaultDatabase(config);
  try {
    await database.oauth.revokeAccessToken(claims.tokenId, claims.expiresAt * 1000); // epoch ms, as the list keeps them
    await database.operatorLog.record({
      at: clock.now(),
      action: 'token.revoke',
      actor: 'operator',
      detail: { jti: claims.tokenId, subject: claims.subject, kind: claims.kind, issuer: claims.issuer ?? null, expires: new Date(claims.expiresAt * 1000).toISOString() },
    });
  } finally {
    await database.close();
  }
  return { ...claims, revoked: true };
}
