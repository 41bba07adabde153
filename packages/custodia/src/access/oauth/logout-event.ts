/**
 * The `logout` security event (security-events.ts) of a user signing out of an app, made
 * the same way by both ways to sign out: a client revoking the user's refresh token
 * (RFC 7009, token-endpoint.ts) and the end-session endpoint (OpenID Connect RP-Initiated
 * Logout 1.0, end-session.ts). The user as the identity store knows them (their id alone
 * when it no longer does); the grants the sign-out ended, and their patient contexts.
 */
import type { IdentityService } from '../identity/index.js';
import { eventUser, type SecurityEvent } from '../security-events.js';
import type { GrantRecord } from './oauth-store.js';

export async function logoutEvent(
  identity: Pick<IdentityService, 'getUser'>,
  o: { readonly userId: string; readonly clientId: string; readonly via: 'revocation' | 'end-session'; readonly ended: readonly GrantRecord[]; readonly address?: string | undefined },
): Promise<SecurityEvent> {
  const user = await identity.getUser(o.userId).catch(() => undefined);
  return {
    kind: 'logout',
    user: eventUser(user ?? { id: o.userId }),
    client: o.clientId,
    via: o.via,
    grants: o.ended.map((g) => g.id),
    patients: o.ended.flatMap((g) => (g.context.patient === undefined ? [] : [g.context.patient])),
    ...(o.address === undefined ? {} : { address: o.address }),
  };
}
