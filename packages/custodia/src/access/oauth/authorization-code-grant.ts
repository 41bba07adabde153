/**
 * The authorization code grant at the token endpoint (RFC 6749 §4.1.3–4.1.4; RFC 7636
 * §4.5–4.6; SMART App Launch 2.x app-launch.html §2.0.7). The code (attacker input) is
 * looked up by its SHA-256 and must be unused, unexpired, issued to this client for this
 * redirect URI, and match the PKCE verifier. RFC 6749 §4.1.2: "If an authorization code
 * is used more than once, the authorization server MUST deny the request and SHOULD
 * revoke (when possible) all tokens previously issued based on that authorization code"
 * — the store revokes the grant and every token issued under it. A failed exchange burns
 * the code.
 */
import type { Clock } from '../../kernel/index.js';
import type { Client, IdentityService, User } from '../identity/index.js';
import type { RevocationReason } from '../security-events.js';
import type { RequestParams } from './authorization-request.js';
import { OAuthError } from './oauth-error.js';
import type { OAuthStore } from './oauth-store.js';
import { verifyCodeVerifier } from './pkce.js';
import { sha256 } from './secrets.js';
import type { TokenIssuer } from './token-issuer.js';

export interface GrantDeps {
  readonly identity: IdentityService;
  readonly store: OAuthStore;
  readonly issuer: TokenIssuer;
  readonly clock: Clock;
  /** The verified client certificate of the token request: its access tokens are bound to it (RFC 8705 §3). */
  readonly certificateThumbprint?: string;
  /** Told when the grant ends a family it no longer trusts (reuse, sessions ended), for the audit trail. */
  readonly revoked?: (grantId: string, reason: Exclude<RevocationReason, 'client-request'>) => void;
}

/** What a grant hands out (`body`), and what its audit record names: never the tokens themselves. */
export interface IssuedTokens {
  readonly body: Record<string, unknown>;
  readonly scope: string;
  /** The user the tokens act for; absent for client_credentials. */
  readonly user?: User;
  readonly patient?: string;
  readonly grantId?: string;
  /** The access token's id (`jti`), for the audit trail. */
  readonly accessTokenId: string;
}

const invalidGrant = (): OAuthError => new OAuthError('invalid_grant', 'The authorization code is invalid, expired, already used, or was issued to another client or redirect URI');

export async function exchangeAuthorizationCode(p: RequestParams, client: Client, d: GrantDeps): Promise<IssuedTokens> {
  const code = p.get('code');
  const redirectUri = p.get('redirect_uri');
  const verifier = p.get('code_verifier');
  if (code === undefined || redirectUri === undefined) throw new OAuthError('invalid_request', 'code and redirect_uri are required');
  if (verifier === undefined) throw new OAuthError('invalid_request', 'code_verifier is required (PKCE)');
  if (code.length > 256) throw invalidGrant();
  const codeHash = sha256(code);
  const now = d.clock.now();
  const record = await d.store.findCode(codeHash);
  if (record === undefined) throw invalidGrant();
  if (record.usedAt !== undefined) {
    // Reuse: redeemCode sees the code used and revokes its grant.
    await d.store.redeemCode(codeHash, now, undefined);
    d.revoked?.(record.grantId, 'code-reuse');
    throw invalidGrant();
  }
  const grant = await d.store.findGrant(record.grantId);
  const user = grant === undefined ? undefined : await d.identity.getUser(grant.context.userId);
  const valid =
    record.expiresAt > now &&
    record.clientId === client.clientId &&
    record.redirectUri === redirectUri &&
    verifyCodeVerifier(verifier, record.codeChallenge) &&
    grant !== undefined &&
    grant.revokedAt === undefined &&
    user?.status === 'active' &&
    !(await d.identity.sessionsEndedSince(user.id, grant.createdAt));
  if (!valid) {
    await d.store.redeemCode(codeHash, now, undefined);
    throw invalidGrant();
  }
  const tokens = await d.issuer.forUser(grant!, user!, grant!.context.scope, true, d.certificateThumbprint);
  // The tokens are handed out only if this request is the one that redeemed the code.
  const outcome = await d.store.redeemCode(codeHash, now, tokens.issue);
  if (outcome === 'reused') d.revoked?.(grant!.id, 'code-reuse');
  if (outcome !== 'issued') throw invalidGrant();
  const patient = grant!.context.patient;
  return { body: tokens.body, scope: grant!.context.scope, user: user!, ...(patient === undefined ? {} : { patient }), grantId: grant!.id, accessTokenId: tokens.issue.accessTokenId };
}
