/**
 * The storage port of the authorization server: everything that must outlive one HTTP
 * request and be shared by every server process — sign-ins in progress, authorization
 * codes, grants with their refresh tokens (a refresh-token family), the access tokens
 * issued under each grant, revoked access-token ids, client-assertion ids already used,
 * and EHR launch contexts. `store/oauth-store.ts` implements it over the vault's
 * database.
 *
 * Codes, refresh tokens, launch ids and pending-request handles are stored only as their
 * SHA-256 (`…Hash` fields). Every operation that must not race — redeeming a code,
 * rotating a refresh token, moving a sign-in to its next step, claiming an assertion id
 * — is atomic here. Times are epoch milliseconds.
 */
import type { IssuedTokenRecord } from '../issued-token-record.js';
import type { RevocationList } from '../revocation-list.js';
import type { AuthorizationRequest } from './authorization-request.js';

/** Where a sign-in is: `enrol` sets up an authenticator, `recovery` shows its recovery codes once. */
export type PendingStage = 'login' | 'mfa' | 'enrol' | 'recovery' | 'consent' | 'patient';

/** A sign-in in progress: the validated authorization request and how far the user got. */
export interface PendingAuthorization {
  readonly handleHash: string;
  /** SHA-256 of the browser-binding cookie of the browser that started it. */
  readonly browserHash: string;
  readonly csrfHash: string;
  readonly request: AuthorizationRequest;
  readonly stage: PendingStage;
  /** Bumped by every change (compare-and-set). */
  readonly version: number;
  /** Set once the password was accepted. */
  readonly userId?: string;
  /** Epoch seconds of the completed sign-in (OIDC `auth_time`). */
  readonly authTime?: number;
  /** Patient ids offered by the last patient search; only these can be chosen. */
  readonly candidates?: readonly string[];
  /** SHA-256 of the authenticator secret this sign-in showed for enrolment. */
  readonly enrolmentHash?: string;
  readonly attempts: number;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** A change of a pending request; fields left out keep their value. */
export interface PendingUpdate {
  readonly stage: PendingStage;
  readonly userId?: string;
  readonly authTime?: number;
  readonly candidates?: readonly string[];
  readonly enrolmentHash?: string;
  /** Count one more form submission against the request's attempt limit. */
  readonly countAttempt?: boolean;
}

/** What the user authorized: the context every token of the grant carries. */
export interface GrantContext {
  readonly userId: string;
  /** Granted scopes, space-separated. */
  readonly scope: string;
  readonly patient?: string;
  readonly encounter?: string;
  readonly nonce?: string;
  /** Epoch seconds. */
  readonly authTime: number;
  readonly needPatientBanner: boolean;
}

/** One authorization: its code, then its refresh-token family and access tokens. */
export interface GrantRecord {
  readonly id: string;
  readonly clientId: string;
  readonly context: GrantContext;
  readonly createdAt: number;
  /** Absolute end of the family: no refresh token of it outlives this. */
  readonly expiresAt: number;
  readonly revokedAt?: number;
}

export interface CodeRecord {
  readonly codeHash: string;
  readonly grantId: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly expiresAt: number;
  readonly usedAt?: number;
}

export interface RefreshTokenRecord {
  readonly tokenHash: string;
  readonly grantId: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Set when it was exchanged (rotated); presenting it again is reuse. */
  readonly usedAt?: number;
}

/** What one token request issues under a grant. */
export interface TokenIssue {
  readonly accessTokenId: string;
  readonly accessExpiresAt: number;
  readonly refresh?: { readonly tokenHash: string; readonly expiresAt: number };
}

/**
 * - issued: the code or refresh token was unused, and is now used; the issue is recorded.
 * - reused: it had been used before: the grant is now revoked, with every token issued under it.
 * - invalid: unknown, expired, or its grant is revoked or expired.
 */
export type RedeemOutcome = 'issued' | 'reused' | 'invalid';

export interface LaunchRecord {
  readonly idHash: string;
  readonly patient: string;
  readonly encounter?: string;
  /** Subject of the token that created it (audit). */
  readonly createdBy: string;
  /** When a user created it: only that user may sign in with it. */
  readonly boundUser?: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface OAuthStore extends RevocationList, IssuedTokenRecord {
  insertPending(p: PendingAuthorization): Promise<void>;
  /** The pending request, or undefined when unknown or expired. */
  findPending(handleHash: string, now: number): Promise<PendingAuthorization | undefined>;
  /** Applies `update` if the request is still at `version`; false when another submission got there first. */
  updatePending(handleHash: string, version: number, update: PendingUpdate): Promise<boolean>;
  deletePending(handleHash: string): Promise<void>;
  /** Atomically ends the pending request (still at `version`) and stores the grant and its code. */
  completePending(handleHash: string, version: number, grant: GrantRecord, code: CodeRecord): Promise<boolean>;

  findCode(codeHash: string): Promise<CodeRecord | undefined>;
  findGrant(grantId: string): Promise<GrantRecord | undefined>;
  /**
   * RFC 6749 §4.1.2: marks the code used. With `issue`, records what was issued from it;
   * without, the code is burnt (a failed exchange). A code used before revokes its grant.
   */
  redeemCode(codeHash: string, now: number, issue: TokenIssue | undefined): Promise<RedeemOutcome>;

  findRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined>;
  /** RFC 9700 §4.14.2: marks the refresh token used and records its successor; reuse revokes the family. */
  rotateRefreshToken(tokenHash: string, now: number, issue: TokenIssue): Promise<RedeemOutcome>;

  /** Revokes the grant, its refresh tokens and every unexpired access token issued under it. */
  revokeGrant(grantId: string, now: number): Promise<void>;
  /**
   * Revokes, as {@link revokeGrant} does, every live grant `userId` gave `clientId` (a
   * sign-out: OpenID Connect RP-Initiated Logout); the grants it ended.
   */
  revokeUserGrants(userId: string, clientId: string, now: number): Promise<GrantRecord[]>;
  /** Adds an access token id to the revocation list until `expiresAt`. */
  revokeAccessToken(tokenId: string, expiresAt: number): Promise<void>;
  /** When the token with this id expires (epoch ms), if this vault recorded issuing it (records are kept a day past expiry). */
  issuedTokenExpiry(tokenId: string): Promise<number | undefined>;

  /** RFC 7523 §3 item 7: records a client assertion's `jti`; false when it was seen before and has not expired. */
  claimAssertionId(clientId: string, jti: string, expiresAt: number, now: number): Promise<boolean>;

  insertLaunch(l: LaunchRecord): Promise<void>;
  /** The launch, once: it is gone for every later caller (an EHR launch id is single use). */
  claimLaunch(idHash: string, now: number): Promise<LaunchRecord | undefined>;

  /** Deletes what has expired: pending requests, launches, assertion ids, revocations, grants past their end. */
  purgeExpired(now: number): Promise<void>;
}
