/**
 * `private_key_jwt` client authentication: RFC 7523 §2.2 (the assertion as client
 * credentials) and §3 (its processing rules), as profiled by SMART App Launch 2.x
 * client-confidential-asymmetric.html and Backend Services §"Authenticating to the
 * token endpoint":
 * - signed with one of the client's registered keys, with an algorithm of the
 *   allow-list (never `none`, never an HMAC with a public value);
 * - `iss` = `sub` = the client id (§3 items 1–2);
 * - `aud` = this server's token endpoint URL, one value (§3 item 3);
 * - `exp` present, in the future and at most five minutes ahead (§3 item 4; SMART);
 * - `jti` present and never seen before while the assertion is valid (§3 item 7).
 * The assertion is attacker-controlled until verified.
 */
import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../../kernel/index.js';
import type { Client, IdentityService } from '../identity/index.js';
import type { ClientKeys } from './client-keys.js';
import { OAuthError } from './oauth-error.js';
import type { OAuthStore } from './oauth-store.js';
import { ASSERTION_ALGORITHMS } from './smart-configuration.js';

const MAX_ASSERTION = 16_384;
const MAX_LIFETIME_SECONDS = 300;
/** Leeway for the clocks of client and server (RFC 7523 §3 items 4–6 allow "some small leeway"). */
const CLOCK_TOLERANCE_SECONDS = 30;

export interface AssertionContext {
  readonly identity: IdentityService;
  readonly store: OAuthStore;
  readonly clock: Clock;
  readonly keys: ClientKeys;
  /** The audience values accepted: the token endpoint URL (and the URL of the endpoint called). */
  readonly audiences: readonly string[];
}

const refused = (cause?: unknown): OAuthError => new OAuthError('invalid_client', 'Client authentication failed', cause === undefined ? {} : { cause });

export async function verifyClientAssertion(assertion: string, claimedClientId: string | undefined, ctx: AssertionContext): Promise<Client> {
  if (assertion.length > MAX_ASSERTION) throw refused();
  let alg: unknown;
  let unverified: JWTPayload;
  try {
    alg = decodeProtectedHeader(assertion).alg;
    unverified = decodeJwt(assertion);
  } catch (e) {
    throw refused(e);
  }
  if (typeof alg !== 'string' || !(ASSERTION_ALGORITHMS as readonly string[]).includes(alg)) throw refused();
  const clientId = unverified.iss;
  if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > 128 || unverified.sub !== clientId) throw refused();
  if (claimedClientId !== undefined && claimedClientId !== clientId) throw refused();
  const client = await ctx.identity.getClient(clientId);
  if (client === undefined || client.status !== 'active' || client.tokenEndpointAuthMethod !== 'private_key_jwt') throw refused();
  const keys = ctx.keys.keysFor(client);
  if (keys === undefined) throw refused();
  const now = ctx.clock.now();
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, keys, {
      algorithms: [...ASSERTION_ALGORITHMS],
      issuer: clientId,
      subject: clientId,
      audience: [...ctx.audiences],
      currentDate: new Date(now),
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['exp', 'jti', 'aud'],
    }));
  } catch (e) {
    throw refused(e);
  }
  const aud = payload.aud;
  const single = typeof aud === 'string' || (Array.isArray(aud) && aud.length === 1);
  const exp = payload.exp!;
  const jti = payload.jti;
  if (!single || exp > now / 1000 + MAX_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS || typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw refused();
  // Remembered for as long as the assertion could be accepted (its exp plus the leeway).
  if (!(await ctx.store.claimAssertionId(clientId, jti, (exp + CLOCK_TOLERANCE_SECONDS) * 1000, now))) throw refused();
  return client;
}
