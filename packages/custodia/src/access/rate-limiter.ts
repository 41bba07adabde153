/**
 * Request rate limits per authenticated identity: a token bucket (token-buckets.ts) per
 * user and one per OAuth client for the FHIR API, and one per client at the token
 * endpoint. A request is admitted only when every bucket it draws on has a token, and
 * a refused request spends none, so a refusal by one bucket never drains another. A batch
 * or transaction Bundle is admitted as one request, then charged one token for each of
 * its other entries: otherwise one Bundle of 10,000 entries would do the work of 10,000
 * requests for the price of one. Other work is charged the same way, after admission and
 * as debt, so that a request costs about what it makes the server do
 * ({@link WORK_PER_REQUEST}: a body by its bytes, an answer by the resources it returns,
 * an audit-trail scan by the events it opens). A caller whose buckets are empty or in
 * debt is refused before their body is read (server/verified-before-body.ts).
 *
 * Keys come from verified tokens (principal.ts) or an authenticated client, never from
 * anything a caller merely claims: an attacker cannot spend someone else's budget.
 *
 * The authorization endpoint (oauth/authorization-flow.ts) has no authenticated caller
 * either: it is limited per client address with the `authorize` limit, before anything is
 * looked up or stored.
 *
 * The end-session endpoint (oauth/end-session.ts) has no authenticated caller, so it is
 * limited twice with the `logout` limit: per client address (as the sign-in throttle
 * keys it, an IPv6 /64 as one), before the request is read at all; and per sign-in (the
 * user and app a verified `id_token_hint` names), so that one leaked ID token used from
 * many addresses cannot sign its user out, and fill the ledger with logouts, at will.
 *
 * Who draws on what:
 * - a person (kind `user`): their own bucket, and the bucket of the app the token was
 *   issued to, when there is one (all users of one SMART app share the app's bucket);
 * - a backend service (kind `client`): its client bucket;
 * - the operator (kind `operator`, `custodia token` without --user): nothing. Whoever
 *   can mint that token holds the signing key and the database files; a limit would
 *   stop no one, only slow bulk work.
 *
 * Limits hold per process (see token-buckets.ts), except those of callers who have no
 * identity yet — the authorization endpoint's and the end-session endpoint's, given shared
 * buckets (cross-process-buckets.ts, the vault's database): each of their requests also takes from
 * a bucket every server process of the database shares, so that servers behind a load
 * balancer do not each grant an address its own budget. Those requests write to the
 * database anyway (a pending sign-in, a sign-out's audit record); an authenticated FHIR
 * request does not, and its limits stay in memory.
 */
import { CustodiaError, type Clock } from '../kernel/index.js';
import { throttleKey } from './identity/ip-throttle.js';
import type { Principal } from './principal.js';
import { SharedBucketScope } from './cross-process-bucket-scope.js';
import type { SharedBuckets } from './cross-process-buckets.js';
import { TokenBuckets, type BucketDecision } from './token-buckets.js';

/** A sustained rate and the burst above it. */
export interface RateLimit {
  /** Requests regained per second. */
  readonly perSecond: number;
  /** Requests allowed at once after a quiet spell (the bucket's capacity). */
  readonly burst: number;
}

export interface RateLimits {
  /** FHIR requests of one person, whatever app or token they use. */
  readonly user: RateLimit;
  /** FHIR requests of one OAuth client: a backend service, or all users of one SMART app together. */
  readonly client: RateLimit;
  /** Token requests of one authenticated client at the token endpoint. */
  readonly token: RateLimit;
  /** Requests at the end-session endpoint: of one client address, and (separately) of one user at one app. */
  readonly logout: RateLimit;
  /**
   * Requests at the authorization endpoint of one client address (an IPv6 /64 as one).
   * Each starts a sign-in, a row in the database, before anyone has authenticated.
   */
  readonly authorize: RateLimit;
  /**
   * Requests whose bearer token was refused, per client address (an IPv6 /64 as one).
   * Each such refusal is an audit record, durable before the 401 leaves, and the caller
   * has no identity to be limited by: past this limit the address gets 429, which is not
   * recorded, instead of 401.
   */
  readonly unauthenticated: RateLimit;
  /** Identities remembered per kind of bucket. */
  readonly maxKeys: number;
}

/**
 * 50 requests a second per person with bursts of 200 (a chart opening fans out into a
 * few dozen searches); ten times that per app; token requests are rarer (a sign-in or a
 * refresh every few minutes per user). A person signs out once per sign-in: the logout
 * limit lets a ward behind one NAT address sign out together at shift change (20 at once,
 * then 30 a minute), as the sign-in throttle lets it sign in; starting sign-ins is allowed
 * three times the sign-in throttle's rate (60 at once, then 60 a minute: a sign-in that
 * does not go on to a password costs nothing there). A refused token is rare for
 * a working app (one, then a refresh): 200 from one address at once, then 10 a second.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = Object.freeze({
  user: Object.freeze({ perSecond: 50, burst: 200 }),
  client: Object.freeze({ perSecond: 500, burst: 2000 }),
  token: Object.freeze({ perSecond: 10, burst: 100 }),
  logout: Object.freeze({ perSecond: 0.5, burst: 20 }),
  authorize: Object.freeze({ perSecond: 1, burst: 60 }),
  unauthenticated: Object.freeze({ perSecond: 10, burst: 200 }),
  maxKeys: 100_000,
});

const refused = (what: string, retryAfterMs: number): CustodiaError =>
  new CustodiaError('rate-limited', `Too many requests ${what}; retry after the time in Retry-After`, { retryAfterMs });

/** Spends a token of `key` in `buckets`, or throws `rate-limited` (`what`: whose requests) with the wait. */
function admitOne(buckets: TokenBuckets, key: string, what: string): void {
  refuseUnless(buckets.take(key), what);
}

/** {@link admitOne} in this process's buckets, then in the shared scope (when there is one). */
async function admitEverywhere(buckets: TokenBuckets, shared: SharedBucketScope | undefined, key: string, what: string): Promise<void> {
  admitOne(buckets, key, what);
  if (shared !== undefined) refuseUnless(await shared.take(key), what);
}

function refuseUnless(d: BucketDecision, what: string): void {
  if (!d.allowed) throw refused(what, d.retryAfterMs);
}

/** The bucket of a client address (attacker-influenced): the sign-in throttle's key, an IPv6 /64 as one; in process, one shared bucket. */
const addressKey = (address: string | undefined): string => (address === undefined ? 'unknown' : throttleKey(address));

/** The buckets a FHIR request of `principal` draws on (none for the operator). */
function keysOf(principal: Principal): { readonly user?: string; readonly client?: string } {
  if (principal.kind === 'operator') return {};
  const user = principal.kind === 'user' ? principal.subject : undefined;
  const client = principal.kind === 'client' ? (principal.clientId ?? principal.subject) : principal.clientId;
  return { ...(user === undefined ? {} : { user }), ...(client === undefined ? {} : { client }) };
}

/**
 * How much of each kind of work one request more pays for ({@link RateLimiter.chargeWork}).
 * Work of the usual size costs nothing beyond its request. Measured 2026-12-01:
 * - `bodyBytes`: reading and parsing 32 MiB of JSON holds the event loop for a third of a
 *   second; such a body costs 128 requests, so a person (50 a second, bursts of 200) sends
 *   one every two and a half seconds once their burst is spent;
 * - `resources` (returned by an answer: a search or history page with its includes, a
 *   batch's reads): a page of 1,000 Observations opened from their envelopes takes 0.1 s
 *   and costs 21 requests, so a person gets about two a second, not fifty;
 * - `auditEvents` (opened by a scan of the audit trail): about 16 µs each, so an accounting
 *   of disclosures over 200,000 costs 200 requests.
 */
export const WORK_PER_REQUEST = Object.freeze({ bodyBytes: 256 * 1024, resources: 50, auditEvents: 1000 });
export type Work = keyof typeof WORK_PER_REQUEST;

export class RateLimiter {
  readonly #users: TokenBuckets;
  readonly #clients: TokenBuckets;
  readonly #tokenRequests: TokenBuckets;
  readonly #logoutAddresses: TokenBuckets;
  readonly #logoutSignIns: TokenBuckets;
  readonly #unauthenticated: TokenBuckets;
  readonly #authorizeAddresses: TokenBuckets;
  readonly #shared: { readonly authorize: SharedBucketScope; readonly logoutAddresses: SharedBucketScope; readonly logoutSignIns: SharedBucketScope } | undefined;

  /** `shared`: buckets every server process of the database shares, for the limits of callers without an identity (see the header). */
  constructor(clock: Clock, limits: RateLimits = DEFAULT_RATE_LIMITS, shared?: SharedBuckets) {
    const buckets = (l: RateLimit) => new TokenBuckets(clock, { capacity: l.burst, refill: l.perSecond, intervalMs: 1000, maxKeys: limits.maxKeys });
    const scope = (name: string, l: RateLimit) => new SharedBucketScope(shared!, name, { capacity: l.burst, perMs: l.perSecond / 1000 }, clock);
    this.#shared = shared === undefined ? undefined : { authorize: scope('authorize', limits.authorize), logoutAddresses: scope('logout-address', limits.logout), logoutSignIns: scope('logout-sign-in', limits.logout) };
    this.#users = buckets(limits.user);
    this.#clients = buckets(limits.client);
    this.#tokenRequests = buckets(limits.token);
    this.#logoutAddresses = buckets(limits.logout);
    this.#logoutSignIns = buckets(limits.logout);
    this.#unauthenticated = buckets(limits.unauthenticated);
    this.#authorizeAddresses = buckets(limits.authorize);
  }

  /** How long before {@link admit} would admit a request of `principal` (0: now). Takes nothing. */
  waitMs(principal: Principal): number {
    return this.#waitOf(keysOf(principal));
  }

  /** Throws what {@link admit} would throw for a request of `principal` now, and takes nothing. */
  check(principal: Principal): void {
    this.#check(keysOf(principal));
  }

  /** Admits one FHIR request of `principal`, or throws `rate-limited` with the wait. */
  admit(principal: Principal): void {
    const keys = keysOf(principal);
    this.#check(keys);
    if (keys.user !== undefined) this.#users.take(keys.user);
    if (keys.client !== undefined) this.#clients.take(keys.client);
  }

  #waitOf({ user, client }: ReturnType<typeof keysOf>): number {
    return Math.max(user === undefined ? 0 : this.#users.waitMs(user), client === undefined ? 0 : this.#clients.waitMs(client));
  }

  #check(keys: ReturnType<typeof keysOf>): void {
    const wait = this.#waitOf(keys);
    if (wait > 0) throw refused(keys.user === undefined ? 'from this client' : 'from this user or app', wait);
  }

  /**
   * Charges an admitted FHIR request of `principal` for `more` interactions than the one
   * {@link admit} took: a batch or transaction Bundle costs one per entry, as that many
   * requests would. The buckets may go into debt (a Bundle larger than the burst still
   * runs); the caller's next requests wait until it is repaid.
   */
  charge(principal: Principal, more: number): void {
    // Nothing to charge is the common case (every answer of a few resources): no bucket is touched.
    if (!(more > 0)) return;
    const { user, client } = keysOf(principal);
    if (user !== undefined) this.#users.spend(user, more);
    if (client !== undefined) this.#clients.spend(client, more);
  }

  /** Charges an admitted request of `principal` for `amount` of `work`, one request per {@link WORK_PER_REQUEST}, as {@link charge} does. */
  chargeWork(principal: Principal, work: Work, amount: number): void {
    this.charge(principal, Math.floor(amount / WORK_PER_REQUEST[work]));
  }

  /**
   * Counts a request from `address` whose bearer token was refused (attacker-influenced:
   * the peer, or a trusted proxy's header), or throws `rate-limited` with the wait once
   * that address has been refused too often: the caller then answers 429 and records
   * nothing, so that a flood of bad tokens cannot fill the audit ledger.
   */
  countRefusedToken(address: string | undefined): void {
    admitOne(this.#unauthenticated, addressKey(address), 'with refused tokens from this address');
  }

  /** Admits one token request of an authenticated client, or throws `rate-limited` with the wait. */
  admitTokenRequest(clientId: string): void {
    admitOne(this.#tokenRequests, clientId, 'from this client');
  }

  /**
   * Admits one end-session request from `address` (attacker-influenced: the peer, or a
   * trusted proxy's header; undefined only in process, all such callers sharing one
   * bucket), or throws `rate-limited` with the wait.
   */
  admitLogoutFrom(address: string | undefined): Promise<void> {
    return admitEverywhere(this.#logoutAddresses, this.#shared?.logoutAddresses, addressKey(address), 'from this address');
  }

  /** Admits one authorization request (the start of a sign-in) from `address`, or throws `rate-limited` with the wait. */
  admitAuthorizationFrom(address: string | undefined): Promise<void> {
    return admitEverywhere(this.#authorizeAddresses, this.#shared?.authorize, addressKey(address), 'from this address');
  }

  /** Admits one sign-out of `userId` from `clientId` (from a verified ID token), or throws `rate-limited` with the wait. */
  admitLogoutOf(userId: string, clientId: string): Promise<void> {
    return admitEverywhere(this.#logoutSignIns, this.#shared?.logoutSignIns, JSON.stringify([userId, clientId]), 'to sign this user out');
  }
}
