/**
 * `custodia token revoke`: ends a bearer token of this vault before it expires — one
 * minted with `custodia token` (operator or user), or an access token of the SMART
 * authorization server — by putting its `jti` on the revocation list every verification
 * consults (access/token-service.ts, RFC 7009's list, `oauth_revoked_tokens`) until the
 * token would have expired. Running servers refuse it from their next verification (on
 * SQLite, once they see this process's commit).
 *
 * The token is checked as hostile input by access/signed-token-claims.ts (a compact JWS
 * of this vault's key). Or the operator has only its id, from the audit trail (an
 * AuditEvent's `agent.policy`): `--jti` revokes by id. The operator log records the
 * revocation with the token id, never the token.
 */
import { signedTokenClaims, type SignedTokenClaims } from '../access/index.js';
import { systemClock, type Clock } from '../kernel/index.js';
import { loadSigningKey } from '../store/index.js';
import { tokenIdRevokedUntil } from './token-id.js';
import type { VaultConfig } from './config.js';
import { openVaultDatabase } from './vault.js';

export interface TokenRevocation extends SignedTokenClaims {
  /** False when the token had expired already: nothing was written. */
  readonly revoked: boolean;
}

/** Puts `tokenId` on the revocation list until `until` (epoch ms) and records that in the operator log. */
async function listRevocation(config: VaultConfig, tokenId: string, until: number, detail: Record<string, string | null>, clock: Clock): Promise<void> {
  const database = await openVaultDatabase(config);
  try {
    await database.oauth.revokeAccessToken(tokenId, until);
    await database.operatorLog.record({ at: clock.now(), action: 'token.revoke', actor: 'operator', detail: { jti: tokenId, ...detail, expires: new Date(until).toISOString() } });
  } finally {
    await database.close();
  }
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
  // epoch ms, as the list keeps them
  await listRevocation(config, claims.tokenId, claims.expiresAt * 1000, { by: 'token', subject: claims.subject, kind: claims.kind, issuer: claims.issuer ?? null }, clock);
  return { ...claims, revoked: true };
}

/**
 * Revokes by id the token an AuditEvent names (`agent.policy`), for an operator who has
 * the audit trail but not the token. An id alone does not say when its token expires, so
 * it stays on the list for as long as any token of this vault can live
 * (token-id.ts). Returns that time, epoch ms. The id is not looked
 * up: an id no token has revokes nothing.
 */
export async function revokeTokenId(config: VaultConfig, tokenId: string, clock: Clock = systemClock): Promise<number> {
  const until = tokenIdRevokedUntil(clock.now());
  await listRevocation(config, tokenId, until, { by: 'id' }, clock);
  return until;
}
