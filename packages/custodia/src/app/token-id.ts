/**
 * A bearer token's id (`jti`) as an operator or a security officer gives it to revoke the
 * token without having it: copied from an AuditEvent (`agent.policy`), how long its
 * revocation is kept, and the one way a revocation is written — on the list every token
 * verification consults, and in the operator log — for `custodia token revoke` (with the
 * token or its id) and `POST /admin/tokens/{jti}/revoke` alike.
 */
import { MAX_TOKEN_LIFETIME_SECONDS, type OAuthStore, type OperatorAction, type OperatorLog } from '../access/index.js';
import { CustodiaError } from '../kernel/index.js';
import { TOKEN_ID_URN } from './audit-event-resource.js';

/** Five minutes for a server whose clock runs behind this one's: it accepts a token until its own clock reaches the token's expiry. */
const CLOCK_SKEW_MS = 300_000;

/**
 * How long a revocation by an id this vault has no record of issuing is kept (`custodia
 * token revoke --jti … --unrecorded`, for a token issued before issuance was recorded):
 * as long as any token of this vault lives (24 h, access/token-service.ts), plus the skew
 * margin. A token the id names was minted before it was seen, so it has expired by then.
 */
export const LONGEST_TOKEN_LIFETIME_MS = MAX_TOKEN_LIFETIME_SECONDS * 1000 + CLOCK_SKEW_MS;

/** Until when a revocation by an unrecorded id made at `now` (epoch ms) is kept. */
export const tokenIdRevokedUntil = (now: number): number => now + LONGEST_TOKEN_LIFETIME_MS;

/** A token id as a JWT carries it (RFC 7519 §4.1.7): here, printable ASCII without spaces, as audit records keep at most 256 characters. */
const TOKEN_ID = /^[\x21-\x7e]{1,256}$/;

/**
 * The token id of `text`: a bare `jti`, or the URN an AuditEvent's `agent.policy` shows
 * (`urn:ietf:params:oauth:jti:<jti>`). Hostile input (a command-line argument, an admin
 * API path segment): `request-malformed` unless it is one.
 */
export function parseTokenId(text: string): string {
  const trimmed = text.trim();
  const id = trimmed.startsWith(TOKEN_ID_URN) ? trimmed.slice(TOKEN_ID_URN.length) : trimmed;
  if (!TOKEN_ID.test(id)) throw new CustodiaError('request-malformed', 'A token id is 1 to 256 printable ASCII characters without spaces, alone or after urn:ietf:params:oauth:jti: (as AuditEvent.agent.policy shows it)');
  return id;
}

/** Where a revocation is written (the list, `oauth_revoked_tokens`, and the operator log), and the record of issued tokens it is checked against. */
export interface RevocationTarget {
  readonly revocations: Pick<OAuthStore, 'revokeAccessToken' | 'issuedTokenExpiry'>;
  readonly log: OperatorLog;
}

/**
 * Puts `jti` on the revocation list until `until` (epoch ms) and records `token.revoke`
 * with the id (never the token) in the operator log.
 */
export async function recordRevocation(to: RevocationTarget, jti: string, until: number, by: { readonly at: number; readonly actor: string; readonly detail: OperatorAction['detail'] }): Promise<void> {
  await to.revocations.revokeAccessToken(jti, until);
  await to.log.record({ at: by.at, action: 'token.revoke', actor: by.actor, detail: { jti, ...by.detail, expires: new Date(until).toISOString() } });
}

/** What a revocation by id did. */
export interface TokenIdRevocation {
  /** False when the token had expired already: nothing was written. */
  readonly revoked: boolean;
  /** Until when the id is on the list (revoked), or when the token expired (not), epoch ms. */
  readonly until: number;
  /** False for an id revoked with `unrecorded` that this vault has no record of issuing. */
  readonly recorded: boolean;
}

/**
 * Revokes by id: an id this vault recorded issuing stays on the list until its token
 * expires (plus the skew margin); one whose token has expired is left alone. An id with
 * no record is refused (`token-unknown`: mistyped, of another vault, or expired more than a
 * day ago), so that the operator is not told a token is stopped when none was; with
 * `unrecorded` (tokens issued before issuance was recorded) it is listed for as long as
 * any token lives ({@link tokenIdRevokedUntil}).
 */
export async function revokeTokenIdOn(to: RevocationTarget, jti: string, at: number, actor: string, o: { readonly unrecorded?: boolean } = {}): Promise<TokenIdRevocation> {
  const expiresAt = await to.revocations.issuedTokenExpiry(jti);
  if (expiresAt === undefined) {
    if (o.unrecorded !== true) throw new CustodiaError('token-unknown', 'This vault has no record of issuing a token with that id (mistyped, issued by another vault, or expired more than a day ago); nothing was revoked');
    const until = tokenIdRevokedUntil(at);
    await recordRevocation(to, jti, until, { at, actor, detail: { by: 'id', recorded: false } });
    return { revoked: true, until, recorded: false };
  }
  if (expiresAt <= at) return { revoked: false, until: expiresAt, recorded: true };
  const until = expiresAt + CLOCK_SKEW_MS;
  await recordRevocation(to, jti, until, { at, actor, detail: { by: 'id' } });
  return { revoked: true, until, recorded: true };
}
