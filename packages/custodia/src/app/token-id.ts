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

/**
 * How long a revocation by id is kept: as long as any token of this vault lives (24 h,
 * access/token-service.ts), plus five minutes for a server whose clock runs ahead of this
 * one's. A token the id names was minted before it was seen, so it has expired by then.
 */
export const LONGEST_TOKEN_LIFETIME_MS = (MAX_TOKEN_LIFETIME_SECONDS + 300) * 1000;

/** Until when a revocation by id made at `now` (epoch ms) is kept. */
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

/** Where a revocation is written: the list (`oauth_revoked_tokens`) and the operator log. */
export interface RevocationTarget {
  readonly revocations: Pick<OAuthStore, 'revokeAccessToken'>;
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

/** Revokes by id ({@link tokenIdRevokedUntil}); returns until when, epoch ms. */
export async function revokeTokenIdOn(to: RevocationTarget, jti: string, at: number, actor: string): Promise<number> {
  const until = tokenIdRevokedUntil(at);
  await recordRevocation(to, jti, until, { at, actor, detail: { by: 'id' } });
  return until;
}
