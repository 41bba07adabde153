/**
 * The identity flows of the vault: users and their passwords, second factors, lockout
 * and throttling, and client applications. The OAuth server and the HTTP admin endpoints
 * call this; so does `custodia user …` / `custodia client …` through the app layer.
 *
 * Sign-in never tells an attacker more than "no": an unknown username, a wrong password,
 * a locked and a disabled account all end in the same `login-failed`, after the same
 * work (one password-hash verification, against a dummy hash with the production
 * parameters when there is no usable account).
 *
 * Secrets — passwords, TOTP secrets and codes, recovery codes, client secrets — are
 * never logged, never put in an error message, and compared in constant time.
 */
import { sameSecret } from '../same-secret.js';
import { CustodiaError, type Clock, type Random, uuidV4 } from '../../kernel/index.js';
import { base32Decode, base32Encode } from './base32.js';
import {
  checkClientId,
  checkClientName,
  checkJwksUri,
  checkSubjectDn,
  checkRedirectUri,
  checkScope,
  parsePublicJwks,
  publicClient,
  type Client,
  type ClientKind,
  type ClientRecord,
  type PublicJwks,
} from './client.js';
import { checkFhirUser } from './fhir-user.js';
import { generateClientSecret, generatePassword, hashClientSecret, verifyClientSecret } from './generated-secrets.js';
import type { IdentityStore, LoginAttempt } from './identity-store.js';
import { IpThrottle, type ThrottleOptions } from './ip-throttle.js';
import { DEFAULT_LOCKOUT, checkLockoutPolicy, lockedUntilAfter, type LockoutPolicy } from './lockout-policy.js';
import { ScryptHasher, PRODUCTION_SCRYPT, type PasswordHasher, type ScryptParams } from './password-hash.js';
import { MAX_PASSWORD_INPUT, PasswordPolicy, normalizePassword, type CommonPasswordList, type PasswordPolicyOptions } from './password-policy.js';
import { DEFAULT_RECOVERY_CODE_COUNT, generateRecoveryCodes, hashRecoveryCode, matchRecoveryCode, normalizeRecoveryCode } from './recovery-codes.js';
import { DEFAULT_ROLE_POLICY, isRole, type Role, type RolePolicy } from './roles.js';
import { DEFAULT_TOTP, TOTP_SECRET_BYTES, checkTotpParams, otpauthUri, verifyTotp, type TotpAlgorithm, type TotpParams } from './totp.js';
import { normalizeUsername, publicUser, requireUsername, type User, type UserRecord } from './user.js';
import type { SharedBuckets } from '../cross-process-buckets.js';

export interface IdentityOptions {
  /** The breached/common password list (the app loads `data/common-passwords.txt.gz`). */
  readonly commonPasswords: CommonPasswordList;
  /** scrypt parameters for new hashes (production default N=2^17, r=8, p=1; tests may go lower). */
  readonly scrypt?: ScryptParams;
  /** Replaces the scrypt hasher altogether (tests). */
  readonly hasher?: PasswordHasher;
  readonly passwordPolicy?: Partial<PasswordPolicyOptions>;
  readonly lockout?: LockoutPolicy;
  readonly throttle?: Partial<ThrottleOptions>;
  /** Buckets every server process shares (the vault's database): the sign-in throttle then holds across them, not per process. */
  readonly sharedThrottle?: SharedBuckets;
  /**
   * The clock the throttle measures elapsed time by (default: the service's). The vault
   * gives the wall clock: its own clock never repeats a reading, so it runs ahead of the
   * wall clock under load, and shared buckets compare readings across processes.
   */
  readonly throttleClock?: Clock;
  /** Algorithm and digits of new TOTP enrolments (SHA1 and 6 by default: what every authenticator app supports). */
  readonly totp?: Partial<Pick<TotpParams, 'algorithm' | 'digits'>>;
  /** Issuer shown by authenticator apps. */
  readonly issuer?: string;
  readonly recoveryCodeCount?: number;
}

export interface NewUser {
  readonly username: string;
  /** One of ROLES (checked). */
  readonly role: string;
  /** `Practitioner/ID`, `PractitionerRole/ID` or `Patient/ID` (checked against the role). */
  readonly fhirUser?: string;
  /** Omitted: a strong random password is generated and returned once. */
  readonly password?: string;
}

export interface AddedUser {
  readonly user: User;
  /** Present when the password was generated: show it once, never store it. */
  readonly generatedPassword?: string;
}

export interface LoginResult {
  readonly user: User;
  /** The sign-in is not complete until `verifySecondFactor` succeeds (or, when not enrolled, until the user enrols). */
  readonly mfaRequired: boolean;
  readonly mfaEnrolled: boolean;
}

export interface TotpEnrolmentStart {
  /** Base32 secret, for typing into an app by hand. Show once. */
  readonly secret: string;
  /** `otpauth://totp/…` for a QR code. Contains the secret: show once. */
  readonly otpauthUri: string;
  readonly algorithm: TotpAlgorithm;
  readonly digits: number;
  readonly period: number;
}

export interface TotpConfirmation {
  /** Single-use recovery codes: show once. */
  readonly recoveryCodes: readonly string[];
}

export interface NewClient {
  readonly clientId: string;
  readonly name: string;
  readonly redirectUris?: readonly string[];
  /** A public client (PKCE only, no secret). */
  readonly public?: boolean;
  /** A JWKS (JSON text or parsed) of the client's public keys, for private_key_jwt. */
  readonly jwks?: string | PublicJwks;
  /** Where the client publishes its JWKS, for private_key_jwt. */
  readonly jwksUri?: string;
  /** The subject (RFC 4514 text) of the client's certificate, for tls_client_auth (RFC 8705 §2.1). */
  readonly tlsSubjectDn?: string;
  /** Space-separated scopes the client may be granted. */
  readonly scope?: string;
}

export interface AddedClient {
  readonly client: Client;
  /** Present for confidential-symmetric clients: show once, never store it. */
  readonly clientSecret?: string;
}

const loginFailed = (): CustodiaError => new CustodiaError('login-failed', 'The username, password or code is not valid, or the account cannot sign in now');
const notFound = (what: 'user' | 'client'): CustodiaError => new CustodiaError('identity-not-found', `No such ${what}`);
const MAX_CODE_INPUT = 64;

/** Constant-time equality of two secrets of any length (their SHA-256 digests are compared). */
/**
 * Which kind of second factor a submitted code is (attacker input): digits are a TOTP
 * code, anything else is taken for a recovery code — as `verifySecondFactor` checks it.
 */
export function secondFactorKind(code: string): 'totp' | 'recovery-code' {
  return /^[0-9]+$/.test(code.replace(/\s/g, '')) ? 'totp' : 'recovery-code';
}

export class IdentityService {
  readonly #hasher: PasswordHasher;
  readonly #policy: PasswordPolicy;
  readonly #lockout: LockoutPolicy;
  readonly #throttle: IpThrottle;
  readonly #totp: TotpParams;
  readonly #issuer: string;
  readonly #recoveryCodeCount: number;
  readonly #dummyPasswordHash: string;
  readonly #dummyClientSecretHash: string;
  /** Sign-in attempts on one account run one after another (see `#serial`). */
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: IdentityStore,
    private readonly clock: Clock,
    private readonly random: Random,
    options: IdentityOptions,
  ) {
    this.#hasher = options.hasher ?? new ScryptHasher(random, options.scrypt ?? PRODUCTION_SCRYPT);
    this.#policy = new PasswordPolicy(options.commonPasswords, options.passwordPolicy ?? {});
    this.#lockout = options.lockout ?? DEFAULT_LOCKOUT;
    checkLockoutPolicy(this.#lockout);
    this.#throttle = new IpThrottle(options.throttleClock ?? clock, options.throttle ?? {}, options.sharedThrottle);
    this.#totp = Object.freeze({ ...DEFAULT_TOTP, ...(options.totp ?? {}) });
    checkTotpParams(this.#totp);
    this.#issuer = options.issuer ?? 'Custodia';
    this.#recoveryCodeCount = options.recoveryCodeCount ?? DEFAULT_RECOVERY_CODE_COUNT;
    if (!Number.isInteger(this.#recoveryCodeCount) || this.#recoveryCodeCount < 1 || this.#recoveryCodeCount > 100) {
      throw new CustodiaError('config-invalid', 'The number of recovery codes is 1 to 100');
    }
    this.#dummyPasswordHash = this.#hasher.dummyHash();
    this.#dummyClientSecretHash = hashClientSecret(generateClientSecret(random));
  }

  /** The password policy in force (for showing its rules to users). */
  get passwordPolicy(): PasswordPolicyOptions {
    return this.#policy.options;
  }

  // ── users ─────────────────────────────────────────────────────────────────────

  /** Adds a user; `request-malformed`, `password-rejected` or `identity-conflict` when it cannot. */
  async addUser(input: NewUser): Promise<AddedUser> {
    const username = requireUsername(input.username);
    if (!isRole(input.role)) throw new CustodiaError('request-malformed', 'The role must be clinician, nurse, admin, privacy-officer or patient');
    const role: Role = input.role;
    const fhirUser = input.fhirUser === undefined ? undefined : checkFhirUser(input.fhirUser, role);
    const { normalized, generatedPassword } = this.#newPassword(input.password, username);
    const now = this.clock.now();
    const record: UserRecord = {
      id: uuidV4(this.random),
      username,
      role,
      ...(fhirUser === undefined ? {} : { fhirUser }),
      status: 'active',
      passwordHash: await this.#hasher.hash(normalized),
      failedLogins: 0,
      clearances: [],
      createdAt: now,
      updatedAt: now,
    };
    await this.store.insertUser(record);
    return { user: publicUser(record), ...(generatedPassword === undefined ? {} : { generatedPassword }) };
  }

  /** `password` checked against the policy, or a generated one (returned once) when none is given. */
  #newPassword(password: string | undefined, username: string): { normalized: string; generatedPassword?: string } {
    if (password !== undefined) return { normalized: this.#policy.enforce(password, { username }) };
    for (;;) {
      const generatedPassword = generatePassword(this.random);
      const check = this.#policy.check(generatedPassword, { username });
      if (check.ok) return { normalized: check.normalized, generatedPassword };
    }
  }

  /**
   * Sets a new password (the operator's reset for a forgotten one), checked against the same
   * policy, or a generated one returned once. Lifts a lockout. The second factor stays.
   */
  async setPassword(username: string, password?: string): Promise<AddedUser> {
    const r = await this.#requireUser(username);
    const { normalized, generatedPassword } = this.#newPassword(password, r.username);
    const now = this.clock.now();
    await this.store.setPasswordHash(r.id, await this.#hasher.hash(normalized), now);
    await this.store.resetLoginFailures(r.id, now);
    await this.store.endSessions(r.id, now);
    return { user: publicUser(r), ...(generatedPassword === undefined ? {} : { generatedPassword }) };
  }

  /** Did the user's sessions end (disable, password or second-factor reset) at or after `instant` (epoch ms)? Then what was granted before is void. */
  async sessionsEndedSince(userId: string, instant: number): Promise<boolean> {
    const cutoff = (await this.store.standing(userId))?.sessionsNotBefore;
    return cutoff !== undefined && instant <= cutoff;
  }

  async getUser(userId: string): Promise<User | undefined> {
    const r = await this.store.findUserById(userId);
    return r === undefined ? undefined : publicUser(r);
  }

  async getUserByUsername(username: string): Promise<User | undefined> {
    const name = normalizeUsername(username);
    const r = name === undefined ? undefined : await this.store.findUserByUsername(name);
    return r === undefined ? undefined : publicUser(r);
  }

  async #requireUser(username: string): Promise<UserRecord> {
    const r = await this.store.findUserByUsername(requireUsername(username));
    if (r === undefined) throw notFound('user');
    return r;
  }

  /** Refuses every further sign-in of the user (tokens already issued are the token service's business). */
  async disableUser(username: string): Promise<User> {
    const r = await this.#requireUser(username);
    const now = this.clock.now();
    await this.store.setUserStatus(r.id, 'disabled', now);
    await this.store.endSessions(r.id, now);
    return publicUser({ ...r, status: 'disabled' });
  }

  /**
   * Grants exactly these sensitive-data clearances (replacing the previous set). Codes are
   * checked against `known` (the vault's label catalogue) so a typo cannot grant nothing silently.
   */
  async setClearances(username: string, clearances: readonly string[], known: ReadonlySet<string>): Promise<User> {
    const unknown = clearances.filter((c) => !known.has(c));
    if (unknown.length > 0) throw new CustodiaError('request-malformed', `Unknown clearance(s): ${unknown.join(', ')}; known: ${[...known].sort().join(', ')}`);
    const r = await this.#requireUser(username);
    const set = [...new Set(clearances)].sort();
    await this.store.setClearances(r.id, set, this.clock.now());
    return publicUser({ ...r, clearances: set });
  }

  /** Lets a disabled user sign in again, and lifts any lockout. */
  async enableUser(username: string): Promise<User> {
    const r = await this.#requireUser(username);
    const now = this.clock.now();
    await this.store.setUserStatus(r.id, 'active', now);
    await this.store.resetLoginFailures(r.id, now);
    return publicUser({ ...r, status: 'active' });
  }

  /** Removes the user's TOTP authenticator and recovery codes (a lost phone). They enrol again at the next sign-in if their role requires it. */
  async resetMfa(username: string): Promise<User> {
    const r = await this.#requireUser(username);
    const now = this.clock.now();
    await this.store.clearMfa(r.id, now);
    // A lost authenticator may be in someone else's hands: what it opened ends too.
    await this.store.endSessions(r.id, now);
    const { totp: _, ...rest } = r;
    return publicUser(rest);
  }

  // ── role policies ─────────────────────────────────────────────────────────────

  async getRolePolicy(role: Role): Promise<RolePolicy> {
    return (await this.store.getRolePolicy(role)) ?? DEFAULT_ROLE_POLICY;
  }

  /** Requires (or stops requiring) a second factor of every user of `role`. */
  async setRoleMfaRequired(role: string, required: boolean): Promise<RolePolicy> {
    if (!isRole(role)) throw new CustodiaError('request-malformed', 'The role must be clinician, nurse, admin, privacy-officer or patient');
    const policy: RolePolicy = { ...(await this.getRolePolicy(role)), mfaRequired: required };
    await this.store.setRolePolicy(role, policy, this.clock.now());
    return policy;
  }

  // ── sign-in ───────────────────────────────────────────────────────────────────

  /**
   * First step of a sign-in. `username`, `password` and `ip` are attacker-controlled.
   * Throws `LoginThrottledError` (`login-throttled`) when the address has used its
   * attempts, and `login-failed` for every other failure.
   */
  async authenticate(username: string, password: string, ip: string): Promise<LoginResult> {
    await this.#throttle.consume(ip);
    const name = normalizeUsername(username);
    const attempt = async (): Promise<LoginResult> => {
      const now = this.clock.now();
      const record = name === undefined ? undefined : await this.store.findUserByUsername(name);
      const tooLong = password.length > MAX_PASSWORD_INPUT;
      const candidate = tooLong ? '' : normalizePassword(password);
      // Counted as a failure before the check (undefined: locked), so that attempts at once
      // from several server processes cannot all be checked before the lock lands.
      const claim = record !== undefined && record.status === 'active' ? await this.#claimAttempt(record.id, now) : undefined;
      // Exactly one verification on every path: against the account's hash when it may
      // sign in, else against a dummy hash with the current parameters.
      const matches = await this.#hasher.verify(candidate, claim !== undefined && !tooLong ? record!.passwordHash : this.#dummyPasswordHash);
      if (claim === undefined || tooLong || !matches) throw loginFailed();
      const user = record!;
      if (this.#hasher.needsRehash(user.passwordHash)) {
        await this.store.setPasswordHash(user.id, await this.#hasher.hash(candidate), now);
      }
      const mfaEnrolled = user.totp?.confirmed === true;
      const mfaRequired = mfaEnrolled || (await this.getRolePolicy(user.role)).mfaRequired;
      // The right password is no failure; with a second factor pending, the failures before
      // it keep counting until that is passed.
      if (mfaRequired) await this.store.releaseLoginAttempt(user.id, claim, now, this.#lockFor(now));
      else await this.store.resetLoginFailures(user.id, now);
      return { user: publicUser(user), mfaRequired, mfaEnrolled };
    };
    return name === undefined ? attempt() : this.#serial(`name:${name}`, attempt);
  }

  /**
   * Second step of a sign-in, after `authenticate` said `mfaRequired` for this user: a
   * TOTP code (each time step once) or an unused recovery code (which is then spent).
   * A wrong code counts towards the lockout like a wrong password. `code` and `ip` are
   * attacker-controlled.
   */
  async verifySecondFactor(userId: string, code: string, ip?: string): Promise<User> {
    if (ip !== undefined) await this.#throttle.consume(ip);
    return this.#serial(`id:${userId}`, async () => {
      const now = this.clock.now();
      const r = await this.store.findUserById(userId);
      if (r?.totp === undefined || !r.totp.confirmed || r.status !== 'active') throw loginFailed();
      // Counted before the check, as a password is (undefined: locked).
      if ((await this.#claimAttempt(r.id, now)) === undefined) throw loginFailed();
      if (!(await this.#checkSecondFactor(r, code, now))) throw loginFailed();
      await this.store.resetLoginFailures(r.id, now);
      return publicUser(r);
    });
  }

  async #checkSecondFactor(r: UserRecord, code: string, now: number): Promise<boolean> {
    if (code.length > MAX_CODE_INPUT) return false;
    const compact = code.replace(/\s/g, '');
    if (secondFactorKind(compact) === 'totp') {
      const step = this.#matchTotp(r, compact, now);
      return step !== undefined && (await this.store.claimTotpStep(r.id, step));
    }
    const codeId = matchRecoveryCode(r.id, compact, await this.store.listRecoveryCodes(r.id));
    return codeId !== undefined && (await this.store.consumeRecoveryCode(r.id, codeId, now));
  }

  #matchTotp(r: UserRecord, code: string, now: number): number | undefined {
    const totp = r.totp;
    const secret = totp === undefined ? undefined : base32Decode(totp.secret);
    if (totp === undefined || secret === undefined) return undefined;
    return verifyTotp(secret, code, now, { algorithm: totp.algorithm, digits: totp.digits, period: this.#totp.period }, 1);
  }

  #claimAttempt(userId: string, now: number): Promise<LoginAttempt | undefined> {
    return this.store.claimLoginAttempt(userId, now, this.#lockFor(now));
  }

  /** The lock after a given count of consecutive failures at `now` (undefined: none). */
  #lockFor(now: number): (failures: number) => number | undefined {
    return (failures) => lockedUntilAfter(failures, now, this.#lockout);
  }

  /**
   * Runs sign-in attempts on one account one at a time in this process, so that each
   * sees the failures counted by the one before: concurrent guesses cannot all slip in
   * before the lock lands. (Across several server processes the window stays open.)
   */
  async #serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.#queues.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.#queues.get(key) === tail) this.#queues.delete(key);
    }
  }

  // ── TOTP enrolment ────────────────────────────────────────────────────────────

  /**
   * Starts TOTP enrolment for a signed-in user: a new secret, pending until
   * `confirmTotp`. Refused (`identity-conflict`) while a confirmed authenticator exists:
   * an administrator resets it first.
   */
  async enrollTotp(userId: string): Promise<TotpEnrolmentStart> {
    const r = await this.store.findUserById(userId);
    if (r === undefined) throw notFound('user');
    if (r.status !== 'active') throw new CustodiaError('identity-conflict', 'The account is disabled');
    if (r.totp?.confirmed === true) throw new CustodiaError('identity-conflict', 'An authenticator is already enrolled; reset it first');
    const { algorithm, digits, period } = this.#totp;
    const secret = this.random.bytes(TOTP_SECRET_BYTES[algorithm]);
    const encoded = base32Encode(secret);
    await this.store.setPendingTotp(r.id, { secret: encoded, algorithm, digits, confirmed: false }, this.clock.now());
    return { secret: encoded, otpauthUri: otpauthUri({ issuer: this.#issuer, account: r.username, secret, params: this.#totp }), algorithm, digits, period };
  }

  /**
   * The enrolment `enrollTotp` started and nobody confirmed yet, to show again after a
   * mistyped first code; undefined when none is pending.
   */
  async pendingTotpEnrolment(userId: string): Promise<TotpEnrolmentStart | undefined> {
    const r = await this.store.findUserById(userId);
    const secret = r?.totp === undefined || r.totp.confirmed ? undefined : base32Decode(r.totp.secret);
    if (r?.totp === undefined || secret === undefined) return undefined;
    const params = { algorithm: r.totp.algorithm, digits: r.totp.digits, period: this.#totp.period };
    return { secret: r.totp.secret, otpauthUri: otpauthUri({ issuer: this.#issuer, account: r.username, secret, params }), ...params };
  }

  /**
   * Completes enrolment with a code from the new authenticator; returns the recovery
   * codes, once. The code's time step counts as used. With the password already
   * accepted, this completes a sign-in: earlier failures stop counting.
   */
  async confirmTotp(userId: string, code: string, expectedSecret?: string): Promise<TotpConfirmation> {
    return this.#serial(`id:${userId}`, async () => {
      const now = this.clock.now();
      const r = await this.store.findUserById(userId);
      if (r?.totp === undefined || r.totp.confirmed) throw new CustodiaError('identity-conflict', 'No authenticator enrolment is pending');
      // Only the secret the caller showed may be confirmed: another enrolment started
      // since (a second sign-in, perhaps not by this person) replaced it.
      if (expectedSecret !== undefined && !sameSecret(r.totp.secret, expectedSecret)) throw new CustodiaError('identity-conflict', 'The pending enrolment changed');
      const compact = code.length > MAX_CODE_INPUT ? '' : code.replace(/\s/g, '');
      const step = this.#matchTotp(r, compact, now);
      if (step === undefined || !(await this.store.claimTotpStep(r.id, step))) throw loginFailed();
      const recoveryCodes = generateRecoveryCodes(this.random, this.#recoveryCodeCount);
      const hashes = recoveryCodes.map((c) => hashRecoveryCode(r.id, normalizeRecoveryCode(c)!));
      if (!(await this.store.activateTotp(r.id, hashes, now))) throw new CustodiaError('identity-conflict', 'No authenticator enrolment is pending');
      await this.store.resetLoginFailures(r.id, now);
      return { recoveryCodes: Object.freeze(recoveryCodes) };
    });
  }

  // ── clients ───────────────────────────────────────────────────────────────────

  /**
   * Registers a client: public with `public`, confidential-asymmetric with `jwks` or
   * `jwksUri` (private_key_jwt) or `tlsSubjectDn` (tls_client_auth), otherwise
   * confidential-symmetric with a generated secret (returned once).
   */
  async addClient(input: NewClient): Promise<AddedClient> {
    const clientId = checkClientId(input.clientId);
    const name = checkClientName(input.name);
    const redirectUris = [...new Set((input.redirectUris ?? []).map(checkRedirectUri))];
    const scope = checkScope(input.scope ?? '');
    const hasKeys = input.jwks !== undefined || input.jwksUri !== undefined || input.tlsSubjectDn !== undefined;
    if (input.jwks !== undefined && input.jwksUri !== undefined) throw new CustodiaError('request-malformed', 'Give the JWKS inline or by URI, not both');
    // RFC 7591 §2: one token_endpoint_auth_method per client.
    if (input.tlsSubjectDn !== undefined && (input.jwks !== undefined || input.jwksUri !== undefined)) throw new CustodiaError('request-malformed', 'A client authenticates with a certificate subject or a JWKS, not both');
    if (input.public === true && hasKeys) throw new CustodiaError('request-malformed', 'A public client has no keys or certificate: it authenticates with PKCE only');
    if (input.public === true && redirectUris.length === 0) throw new CustodiaError('request-malformed', 'A public client needs at least one redirect URI');
    const kind: ClientKind = input.public === true ? 'public' : hasKeys ? 'confidential-asymmetric' : 'confidential-symmetric';
    const jwks = input.jwks === undefined ? undefined : typeof input.jwks === 'string' ? parsePublicJwks(input.jwks) : parsePublicJwks(JSON.stringify(input.jwks));
    const jwksUri = input.jwksUri === undefined ? undefined : checkJwksUri(input.jwksUri);
    const tlsSubjectDn = input.tlsSubjectDn === undefined ? undefined : checkSubjectDn(input.tlsSubjectDn);
    const clientSecret = kind === 'confidential-symmetric' ? generateClientSecret(this.random) : undefined;
    const now = this.clock.now();
    const record: ClientRecord = {
      clientId,
      name,
      kind,
      redirectUris,
      scope,
      ...(clientSecret === undefined ? {} : { secretHash: hashClientSecret(clientSecret) }),
      ...(jwks === undefined ? {} : { jwks }),
      ...(jwksUri === undefined ? {} : { jwksUri }),
      ...(tlsSubjectDn === undefined ? {} : { tlsSubjectDn }),
      status: 'active',
      createdAt: now,
      updatedAt: now,
    };
    await this.store.insertClient(record);
    return { client: publicClient(record), ...(clientSecret === undefined ? {} : { clientSecret }) };
  }

  /** Refuses the client's authentication and ends its tokens (and those its users got through it). */
  async disableClient(clientId: string): Promise<Client> {
    return this.#setClientStatus(clientId, 'disabled');
  }

  async enableClient(clientId: string): Promise<Client> {
    return this.#setClientStatus(clientId, 'active');
  }

  async #setClientStatus(clientId: string, status: 'active' | 'disabled'): Promise<Client> {
    const r = clientId.length > 128 ? undefined : await this.store.findClient(clientId);
    if (r === undefined || !(await this.store.setClientStatus(clientId, status, this.clock.now()))) throw notFound('client');
    return publicClient({ ...r, status });
  }

  async getClient(clientId: string): Promise<Client | undefined> {
    if (clientId.length > 128) return undefined;
    const r = await this.store.findClient(clientId);
    return r === undefined ? undefined : publicClient(r);
  }

  /**
   * Authenticates a confidential-symmetric client by its secret (attacker-controlled,
   * like the client id). Unknown, disabled and non-secret clients fail exactly like a
   * wrong secret (`client-auth-failed`), after the same comparison.
   */
  async authenticateClientSecret(clientId: string, secret: string): Promise<Client> {
    const r = clientId.length > 128 ? undefined : await this.store.findClient(clientId);
    const usable = r !== undefined && r.status === 'active' && r.kind === 'confidential-symmetric' && r.secretHash !== undefined;
    const ok = verifyClientSecret(secret, usable ? r.secretHash! : this.#dummyClientSecretHash);
    if (!usable || !ok) throw new CustodiaError('client-auth-failed', 'The client could not be authenticated');
    return publicClient(r);
  }
}
