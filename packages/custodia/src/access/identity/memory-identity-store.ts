/**
 * The IdentityStore port in memory, with the same atomicity as the database adapter
 * (every method runs to completion before another starts). For tests and tools; a vault
 * uses `store/identity-store.ts`.
 */
import { CustodiaError } from '../../kernel/index.js';
import type { ClientRecord } from './client.js';
import type { IdentityStore, LoginAttempt, StoredRecoveryCode } from './identity-store.js';
import { isLocked } from './lockout-policy.js';
import type { Role, RolePolicy } from './roles.js';
import type { AccountStatus, TotpEnrolment, UserRecord } from './user.js';
import type { UserStanding } from '../user-standing.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface RecoveryRow {
  readonly id: string;
  readonly userId: string;
  readonly hash: string;
  usedAt?: number;
}

export class InMemoryIdentityStore implements IdentityStore {
  readonly #users = new Map<string, Mutable<UserRecord> & { totpLastStep?: number }>();
  readonly #recovery: RecoveryRow[] = [];
  readonly #policies = new Map<Role, RolePolicy>();
  readonly #clients = new Map<string, ClientRecord>();
  #nextCodeId = 1;

  async insertUser(user: UserRecord): Promise<void> {
    if (this.#users.has(user.id) || [...this.#users.values()].some((u) => u.username === user.username)) {
      throw new CustodiaError('identity-conflict', 'A user with this username already exists');
    }
    this.#users.set(user.id, { ...user });
  }

  async findUserById(id: string): Promise<UserRecord | undefined> {
    return this.#snapshot(this.#users.get(id));
  }

  async standing(userId: string): Promise<UserStanding | undefined> {
    const u = this.#users.get(userId);
    const cutoff = this.#sessionsNotBefore.get(userId);
    return u === undefined
      ? undefined
      : { active: u.status === 'active', role: u.role, ...(u.fhirUser === undefined ? {} : { fhirUser: u.fhirUser }), clearances: [...u.clearances], ...(cutoff === undefined ? {} : { sessionsNotBefore: cutoff }) };
  }

  async findUserByUsername(username: string): Promise<UserRecord | undefined> {
    return this.#snapshot([...this.#users.values()].find((u) => u.username === username));
  }

  #snapshot(u: (Mutable<UserRecord> & { totpLastStep?: number }) | undefined): UserRecord | undefined {
    if (u === undefined) return undefined;
    const { totpLastStep: _, ...rest } = u;
    return Object.freeze({ ...rest });
  }

  async setClearances(id: string, clearances: readonly string[], now: number): Promise<boolean> {
    const u = this.#users.get(id);
    if (u === undefined) return false;
    this.#users.set(id, { ...u, clearances: [...clearances], updatedAt: now });
    return true;
  }

  readonly #sessionsNotBefore = new Map<string, number>();

  async endSessions(id: string, now: number): Promise<void> {
    this.#sessionsNotBefore.set(id, now);
  }

  async setUserStatus(id: string, status: AccountStatus, now: number): Promise<boolean> {
    const u = this.#users.get(id);
    if (u === undefined) return false;
    u.status = status;
    u.updatedAt = now;
    return true;
  }

  async setPasswordHash(id: string, passwordHash: string, now: number): Promise<void> {
    const u = this.#users.get(id);
    if (u === undefined) return;
    u.passwordHash = passwordHash;
    u.updatedAt = now;
  }

  async claimLoginAttempt(id: string, now: number, lockedUntil: (failures: number) => number | undefined): Promise<LoginAttempt | undefined> {
    const u = this.#users.get(id);
    if (u === undefined || isLocked(u.lockedUntil, now)) return undefined;
    const previous = u.lockedUntil;
    u.failedLogins += 1;
    const until = lockedUntil(u.failedLogins);
    if (until === undefined) delete u.lockedUntil;
    else u.lockedUntil = until;
    u.updatedAt = now;
    return { failures: u.failedLogins, lockSet: until !== undefined, ...(previous === undefined ? {} : { previousLock: previous }) };
  }

  async releaseLoginAttempt(id: string, attempt: LoginAttempt, now: number, lockedUntil: (failures: number) => number | undefined): Promise<void> {
    const u = this.#users.get(id);
    if (u === undefined) return;
    u.failedLogins = Math.max(0, u.failedLogins - 1);
    if (lockedUntil(u.failedLogins) === undefined) delete u.lockedUntil;
    else if (attempt.lockSet) {
      if (attempt.previousLock === undefined) delete u.lockedUntil;
      else u.lockedUntil = attempt.previousLock;
    }
    u.updatedAt = now;
  }

  async resetLoginFailures(id: string, now: number): Promise<void> {
    const u = this.#users.get(id);
    if (u === undefined) return;
    u.failedLogins = 0;
    delete u.lockedUntil;
    u.updatedAt = now;
  }

  async setPendingTotp(id: string, totp: TotpEnrolment, now: number): Promise<void> {
    const u = this.#users.get(id);
    if (u === undefined || u.totp?.confirmed === true) return;
    u.totp = { ...totp, confirmed: false };
    u.updatedAt = now;
  }

  async activateTotp(id: string, recoveryCodeHashes: readonly string[], now: number): Promise<boolean> {
    const u = this.#users.get(id);
    if (u?.totp === undefined || u.totp.confirmed) return false;
    u.totp = { ...u.totp, confirmed: true };
    u.updatedAt = now;
    this.#dropRecovery(id);
    for (const hash of recoveryCodeHashes) this.#recovery.push({ id: String(this.#nextCodeId++), userId: id, hash });
    return true;
  }

  async clearMfa(id: string, now: number): Promise<boolean> {
    const u = this.#users.get(id);
    if (u === undefined) return false;
    delete u.totp;
    delete u.totpLastStep;
    u.updatedAt = now;
    this.#dropRecovery(id);
    return true;
  }

  #dropRecovery(userId: string): void {
    for (let i = this.#recovery.length - 1; i >= 0; i--) if (this.#recovery[i]!.userId === userId) this.#recovery.splice(i, 1);
  }

  async claimTotpStep(id: string, step: number): Promise<boolean> {
    const u = this.#users.get(id);
    if (u === undefined || (u.totpLastStep !== undefined && u.totpLastStep >= step)) return false;
    u.totpLastStep = step;
    return true;
  }

  async listRecoveryCodes(userId: string): Promise<StoredRecoveryCode[]> {
    return this.#recovery.filter((r) => r.userId === userId && r.usedAt === undefined).map((r) => ({ id: r.id, hash: r.hash }));
  }

  async consumeRecoveryCode(userId: string, codeId: string, now: number): Promise<boolean> {
    const r = this.#recovery.find((x) => x.id === codeId && x.userId === userId);
    if (r === undefined || r.usedAt !== undefined) return false;
    r.usedAt = now;
    return true;
  }

  async getRolePolicy(role: Role): Promise<RolePolicy | undefined> {
    return this.#policies.get(role);
  }

  async setRolePolicy(role: Role, policy: RolePolicy): Promise<void> {
    this.#policies.set(role, Object.freeze({ ...policy }));
  }

  async insertClient(client: ClientRecord): Promise<void> {
    if (this.#clients.has(client.clientId)) throw new CustodiaError('identity-conflict', 'A client with this client id already exists');
    this.#clients.set(client.clientId, Object.freeze({ ...client }));
  }

  async findClient(clientId: string): Promise<ClientRecord | undefined> {
    return this.#clients.get(clientId);
  }

  async setClientStatus(clientId: string, status: ClientRecord['status'], now: number): Promise<boolean> {
    const c = this.#clients.get(clientId);
    if (c === undefined) return false;
    this.#clients.set(clientId, Object.freeze({ ...c, status, updatedAt: now }));
    return true;
  }

  async clientActive(clientId: string): Promise<boolean> {
    return this.#clients.get(clientId)?.status === 'active';
  }
}
