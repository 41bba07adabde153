/**
 * The refresh token grant (RFC 6749 §6) with rotation and reuse detection (OAuth 2.0
 * Security BCP, RFC 9700 §4.14.2): every use returns a new refresh token and retires
 * the old one; presenting a retired one again means two parties hold the family, so the
 * whole family — the grant, its refresh tokens and its unexpired access tokens — is
 * revoked. A narrower `scope` may be asked for (§6); never a wider one. The refresh
 * token is attacker input, looked up by its SHA-256.
 */
import type { Client } from '../identity/index.js';
import type { RequestParams } from './authorization-request.js';
import type { GrantDeps, IssuedTokens } from './authorization-code-grant.js';
import { OAuthError } from './oauth-error.js';
import { parseRequestedScope } from './scope-grant.js';
import { isHandle, sha256 } from './secrets.js';

const invalidGrant = (): OAuthError => new OAuthError('invalid_grant', 'The refresh token is invalid, expired, revoked or was issued to another client');

export async function exchangeRefreshToken(p: RequestParams, client: Client, d: GrantDeps): Promise<IssuedTokens> {
  const token = p.get('refresh_token');
  if (token === undefined) throw new OAuthError('invalid_request', 'refresh_token is required');
  if (!isHandle(token)) throw invalidGrant();
  const tokenHash = sha256(token);
  const now = d.clock.now();
  const record = await d.store.findRefreshToken(tokenHash);
  const grant = record === undefined ? undefined : await d.store.findGrant(record.grantId);
  if (record === undefined || grant === undefined || grant.clientId !== client.clientId) throw invalidGrant();
  if (record.usedAt !== undefined) {
    await d.store.revokeGrant(grant.id, now);
    d.revoked?.(grant.id, 'refresh-reuse');
    throw invalidGrant();
  }
  if (record.expiresAt <= now || grant.revokedAt !== undefined || grant.expiresAt <= now) throw invalidGrant();
  const granted = grant.context.scope.split(' ');
  const asked = p.get('scope');
  let scope = grant.context.scope;
  if (asked !== undefined) {
    const wanted = parseRequestedScope(asked);
    if (wanted.some((s) => !granted.includes(s))) throw new OAuthError('invalid_scope', 'A refresh can only narrow the granted scope');
    scope = wanted.join(' ');
  }
  const user = await d.identity.getUser(grant.context.userId);
  if (user?.status !== 'active') throw invalidGrant();
  // Signed in before the account was disabled or its password or second factor reset: the family is over.
  if (await d.identity.sessionsEndedSince(user.id, grant.createdAt)) {
    await d.store.revokeGrant(grant.id, now);
    d.revoked?.(grant.id, 'sessions-ended');
    throw invalidGrant();
  }
  const tokens = await d.issuer.forUser(grant, user, scope, false, d.certificateThumbprint);
  const outcome = await d.store.rotateRefreshToken(tokenHash, now, tokens.issue);
  if (outcome === 'reused') d.revoked?.(grant.id, 'refresh-reuse');
  if (outcome !== 'issued') throw invalidGrant();
  const patient = grant.context.patient;
  return { body: tokens.body, scope, user, ...(patient === undefined ? {} : { patient }), grantId: grant.id, accessTokenId: tokens.issue.accessTokenId };
}
