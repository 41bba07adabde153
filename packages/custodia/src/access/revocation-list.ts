/**
 * Revoked access tokens (RFC 7009 §2.1: "the authorization server invalidates the token
 * … immediately"). JWT access tokens cannot be recalled once handed out, so the token
 * service asks this list about every token id it verifies; the OAuth store keeps the
 * list in the vault's database (so every server process sees a revocation) until the
 * token would have expired anyway.
 */
export interface RevocationList {
  /** True when the access token with this `jti` was revoked. */
  isRevoked(tokenId: string): Promise<boolean>;
}
