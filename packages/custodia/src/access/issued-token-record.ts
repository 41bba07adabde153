/**
 * The record of the bearer tokens this vault issued: each token's id and expiry, written
 * by the token service before the token is handed out (token-service.ts `mint`), whoever
 * asked for it — the authorization server (user and client tokens) or `custodia token`.
 * A revocation by id (app/token-id.ts) is checked against it, so that an id this vault
 * never issued (mistyped, another vault's) is refused instead of silently revoking
 * nothing, and the revocation lasts exactly as long as the token. The OAuth store keeps
 * it in the vault's database (`oauth_issued_tokens`).
 */
export interface IssuedTokenRecord {
  /** Records a token issued: its id and when it expires, epoch ms. */
  recordIssuedToken(tokenId: string, expiresAt: number): Promise<void>;
}
