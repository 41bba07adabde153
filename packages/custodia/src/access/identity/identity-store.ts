/**
 * The storage port of the identity domain: what the identity service needs from a
 * database, and nothing more. `store/identity-store.ts` implements it over the vault's
 * database; `InMemoryIdentityStore` implements it for tests.
 *
 * Every method that must not race (failure counting, claiming a TOTP step, spending a
 * recovery code) is one atomic operation here, so two concurrent requests can never both
 * use the same code or both escape a lockout.
 */
import type { ClientRecord } from './client.js';
import type { Role, RolePolicy } from './roles.js';
import type { AccountStatus, TotpEnrolment, UserRecord } from './user.js';
import type { UserAccounts } from '../user-standing.js';

export interface StoredRecoveryCode {
  readonly id: string;
  readonly hash: string;
}

/** A sign-in attempt counted before its check (IdentityStore.claimLoginAttempt). */
export interface LoginAttempt {
  /** The consecutive failures, this attempt included. */
  readonly failures: number;
  /** The lock this attempt set, if its count reached the threshold. */
  readonly lockSet: boolean;
  /** The account's lock before (expired, since the attempt was allowed), if it had one. */
  readonly previousLock?: number;
}

export interface IdentityStore extends UserAccounts {
  /** Adds a user; `identity-conflict` when the username (or id) is taken. */
  insertUser(user: UserRecord): Promise<void>;
  findUserById(id: string): Promise<UserRecord | undefined>;
  /** `username` is normalised. */
  findUserByUsername(username: string): Promise<UserRecord | undefined>;
  /** False when there is no such user. */
  setUserStatus(id: string, status: AccountStatus, now: number): Promise<boolean>;
  /** Voids every token of the user issued before `now` (user-standing.ts `sessionsNotBefore`). */
  endSessions(id: string, now: number): Promise<void>;
  setPasswordHash(id: string, passwordHash: string, now: number): Promise<void>;
  /** Replaces the user's sensitive-data clearances. False when there is no such user. */
  setClearances(id: string, clearances: readonly string[], now: number): Promise<boolean>;

  /**
   * Atomically counts one more sign-in attempt on an account that is not locked at `now`,
   * before its password or code is checked, and sets the lock `lockedUntil(failures)`
   * gives for the new count (undefined: no lock); undefined when the account is locked or
   * missing (nothing counted). Counted first, an attempt cannot slip past a lock that a
   * concurrent attempt, in this process or another, is about to set.
   */
  claimLoginAttempt(id: string, now: number, lockedUntil: (failures: number) => number | undefined): Promise<LoginAttempt | undefined>;
  /**
   * Takes back an attempt whose password was right while a second factor is still to come
   * (it is not a failure): one failure fewer, no lock below the threshold, and a lock this
   * attempt set put back as it was.
   */
  releaseLoginAttempt(id: string, attempt: LoginAttempt, now: number, lockedUntil: (failures: number) => number | undefined): Promise<void>;
  /** Clears the failure count and any lock. */
  resetLoginFailures(id: string, now: number): Promise<void>;

  /** Stores an unconfirmed TOTP enrolment, replacing any unconfirmed one. */
  setPendingTotp(id: string, totp: TotpEnrolment, now: number): Promise<void>;
  /**
   * Atomically marks the pending TOTP enrolment confirmed and replaces the user's
   * recovery codes with `recoveryCodeHashes`. False when no enrolment is pending.
   */
  activateTotp(id: string, recoveryCodeHashes: readonly string[], now: number): Promise<boolean>;
  /** Removes TOTP, the last used step and every recovery code. False when there is no such user. */
  clearMfa(id: string, now: number): Promise<boolean>;
  /**
   * Atomically records `step` as the user's last used TOTP time step, only if it is
   * later than the last one recorded. False when the step (or a later one) was used.
   */
  claimTotpStep(id: string, step: number): Promise<boolean>;

  /** The user's unused recovery codes. */
  listRecoveryCodes(userId: string): Promise<StoredRecoveryCode[]>;
  /** Atomically marks a code used; false when it was already used (or is not the user's). */
  consumeRecoveryCode(userId: string, codeId: string, now: number): Promise<boolean>;

  /** The stored policy of a role; undefined when none was ever set. */
  getRolePolicy(role: Role): Promise<RolePolicy | undefined>;
  setRolePolicy(role: Role, policy: RolePolicy, now: number): Promise<void>;

  /** Adds a client; `identity-conflict` when the client id is taken. */
  insertClient(client: ClientRecord): Promise<void>;
  findClient(clientId: string): Promise<ClientRecord | undefined>;
  /** false when there is no such client. */
  setClientStatus(clientId: string, status: ClientRecord['status'], now: number): Promise<boolean>;
}
