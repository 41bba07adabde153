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
 * AuditEvent's `agent.policy`): `--jti` revokes by id, an id this vault recorded issuing
 * (token-id.ts). The operator log records the revocation with the token id, never the
 * token.
 */
import { signedTokenClaims, type SignedTokenClaims } from '../access/index.js';
import { systemClock, type Clock } from '../kernel/index.js';
import { loadSigningKey } from '../store/index.js';
import { recordRevocation, revokeTokenIdOn, type RevocationTarget, type TokenIdRevocation } from './token-id.js';
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
  const detail = { by: 'token', subject: claims.subject, kind: claims.kind, issuer: claims.issuer ?? null };
  // epoch ms, as the list keeps them
  await withRevocationTarget(config, (to) => recordRevocation(to, claims.tokenId, claims.expiresAt * 1000, { at: clock.now(), actor: 'operator', detail }));
  return { ...claims, revoked: true };
}

/**
 * Revokes by id the token an AuditEvent names (`agent.policy`), for an operator who has
 * the audit trail but not the token: checked against the record of issued tokens, kept
 * until the token expires (token-id.ts). An id this vault has no record of issuing is
 * `token-unknown`, unless `unrecorded` (a token issued before issuance was recorded: kept
 * for as long as any token of this vault can live).
 */
export async function revokeTokenId(config: VaultConfig, tokenId: string, clock: Clock = systemClock, o: { readonly unrecorded?: boolean } = {}): Promise<TokenIdRevocation> {
  return withRevocationTarget(config, (to) => revokeTokenIdOn(to, tokenId, clock.now(), 'operator', o));
}

/** Runs `fn` against the list and operator log of the vault `config` opens, from outside its server. */
async function withRevocationTarget<T>(config: VaultConfig, fn: (to: RevocationTarget) => Promise<T>): Promise<T> {
  const database = await openVaultDatabase(config);
  try {
    return await fn({ revocations: database.oauth, log: database.operatorLog });
  } finally {
    await database.close();
  }
}
