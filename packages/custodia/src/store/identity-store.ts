/**
 * The IdentityStore port over the vault's database (SQLite or PostgreSQL), migration
 * 0002. Reads use the read connection; every change is one group-committed write
 * transaction, so the atomic operations of the port (counting a failure, claiming a TOTP
 * step, spending a recovery code) are single statements or single transactions. Every
 * value is a bound parameter. TOTP secrets are sealed on write and opened only when used
 * (identity-secrets.ts).
 */
import { sql, type Kysely } from 'kysely';
import { CustodiaError } from '../kernel/index.js';
import {
  isRole,
  TOTP_ALGORITHMS,
  type ClientKind,
  type ClientRecord,
  type IdentityStore,
  type LoginAttempt,
  type PublicJwks,
  type Role,
  type RolePolicy,
  type StoredRecoveryCode,
  type TotpAlgorithm,
  type TotpEnrolment,
  type AccountStatus,
  type UserRecord,
  type UserStanding,
} from '../access/index.js';
import { guarded, translateDbError } from './db-errors.js';
import type { DatabaseHandle } from './open-store.js';
import { CLEAR_AT_REST, type AtRest } from './at-rest.js';
import { openTotpSecret, storedTotpSecret } from './identity-secrets.js';

interface UserRow {
  id: string;
  username: string;
  role: string;
  fhir_user: string | null;
  status: string;
  password_hash: string;
  totp_secret: string | null;
  totp_algorithm: string | null;
  totp_digits: number | null;
  totp_confirmed: number;
  failed_logins: number;
  locked_until: number | null;
  clearances: string;
  created_at: number;
  updated_at: number;
}

interface ClientRow {
  client_id: string;
  name: string;
  kind: string;
  redirect_uris: string;
  scope: string;
  secret_hash: string | null;
  jwks: string | null;
  jwks_uri: string | null;
  tls_subject_dn: string | null;
  status: string;
  created_at: number;
  updated_at: number;
}

const USER_COLUMNS = sql`id, username, role, fhir_user, status, password_hash, totp_secret, totp_algorithm, totp_digits, totp_confirmed, failed_logins, locked_until, clearances, created_at, updated_at`;
const CLIENT_COLUMNS = sql`client_id, name, kind, redirect_uris, scope, secret_hash, jwks, jwks_uri, tls_subject_dn, status, created_at, updated_at`;
const CLIENT_KINDS: readonly string[] = ['public', 'confidential-symmetric', 'confidential-asymmetric'];

function corrupt(what: string): never {
  throw new CustodiaError('internal', `The identity tables hold an unexpected ${what}`);
}

function isStatus(s: string): s is AccountStatus {
  return s === 'active' || s === 'disabled';
}

/**
 * The enrolment of a row. Its secret is opened when read — only to check or show a code
 * (RFC 6238 §5.1: decrypted when needed to verify) — so that looking a user up (sign-in's
 * password step, an administrator's reset) neither decrypts it nor fails on a secret that
 * does not open; the check that needs it fails closed with that error instead.
 */
function toTotp(r: UserRow, stored: string, at: AtRest): TotpEnrolment {
  if (r.totp_algorithm === null || !TOTP_ALGORITHMS.includes(r.totp_algorithm as TotpAlgorithm) || r.totp_digits === null) corrupt('TOTP enrolment');
  const userId = r.id;
  return Object.freeze({
    get secret(): string {
      return openTotpSecret(at, userId, stored);
    },
    algorithm: r.totp_algorithm as TotpAlgorithm,
    digits: Number(r.totp_digits),
    confirmed: Number(r.totp_confirmed) === 1,
  });
}

function toUser(r: UserRow, at: AtRest): UserRecord {
  if (!isRole(r.role)) corrupt('role');
  if (!isStatus(r.status)) corrupt('status');
  const totp = r.totp_secret === null ? undefined : toTotp(r, r.totp_secret, at);
  return Object.freeze({
    id: r.id,
    username: r.username,
    role: r.role,
    ...(r.fhir_user === null ? {} : { fhirUser: r.fhir_user }),
    status: r.status,
    passwordHash: r.password_hash,
    ...(totp === undefined ? {} : { totp }),
    failedLogins: Number(r.failed_logins),
    ...(r.locked_until === null ? {} : { lockedUntil: Number(r.locked_until) }),
    clearances: parseClearances(r.clearances),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  });
}

function parseClearances(text: string): string[] {
  const v = JSON.parse(text) as unknown;
  if (!Array.isArray(v) || !v.every((c) => typeof c === 'string')) corrupt('clearance list');
  return v;
}

function toClient(r: ClientRow): ClientRecord {
  if (!CLIENT_KINDS.includes(r.kind)) corrupt('client kind');
  if (!isStatus(r.status)) corrupt('status');
  const redirectUris = JSON.parse(r.redirect_uris) as unknown;
  if (!Array.isArray(redirectUris) || !redirectUris.every((u) => typeof u === 'string')) corrupt('redirect URI list');
  return Object.freeze({
    clientId: r.client_id,
    name: r.name,
    kind: r.kind as ClientKind,
    redirectUris: Object.freeze(redirectUris as string[]),
    scope: r.scope,
    ...(r.secret_hash === null ? {} : { secretHash: r.secret_hash }),
    ...(r.jwks === null ? {} : { jwks: JSON.parse(r.jwks) as PublicJwks }),
    ...(r.jwks_uri === null ? {} : { jwksUri: r.jwks_uri }),
    ...(r.tls_subject_dn === null ? {} : { tlsSubjectDn: r.tls_subject_dn }),
    status: r.status,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  });
}

function isUniqueViolation(e: unknown): boolean {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

export class KyselyIdentityStore implements IdentityStore {
  constructor(
    private readonly h: DatabaseHandle,
    private readonly at: AtRest = CLEAR_AT_REST,
  ) {}

  #write<T>(fn: (db: Kysely<unknown>) => Promise<T>): Promise<T> {
    return guarded(() => this.h.transaction(fn));
  }

  async #insert(conflict: string, fn: (db: Kysely<unknown>) => Promise<unknown>): Promise<void> {
    try {
      await this.h.transaction(fn);
    } catch (e) {
      if (isUniqueViolation(e)) throw new CustodiaError('identity-conflict', conflict, { cause: e });
      throw translateDbError(e);
    }
  }

  async insertUser(u: UserRecord): Promise<void> {
    // Sealed before the transaction: a first tenant key is made durable without holding the write lock.
    const secret = u.totp === undefined ? null : storedTotpSecret(this.at, u.id, u.totp.secret);
    return this.#insert('A user with this username already exists', (db) =>
      sql`INSERT INTO identity_users (id, username, role, fhir_user, status, password_hash, totp_secret, totp_algorithm, totp_digits, totp_confirmed, failed_logins, locked_until, clearances, created_at, updated_at)
          VALUES (${u.id}, ${u.username}, ${u.role}, ${u.fhirUser ?? null}, ${u.status}, ${u.passwordHash}, ${secret}, ${u.totp?.algorithm ?? null},
                  ${u.totp?.digits ?? null}, ${u.totp?.confirmed === true ? 1 : 0}, ${u.failedLogins}, ${u.lockedUntil ?? null}, ${JSON.stringify(u.clearances)}, ${u.createdAt}, ${u.updatedAt})`.execute(db),
    );
  }

  findUserById(id: string): Promise<UserRecord | undefined> {
    return guarded(async () => {
      const r = await sql<UserRow>`SELECT ${USER_COLUMNS} FROM identity_users WHERE id = ${id}`.execute(this.h.read);
      return r.rows[0] === undefined ? undefined : toUser(r.rows[0], this.at);
    });
  }

  /**
   * Asked for every request with a user's token (access/user-standing.ts): synchronous and
   * remembered until the next commit on SQLite, one indexed read on PostgreSQL.
   */
  standing(userId: string): Promise<UserStanding | undefined> {
    type Row = Pick<UserRow, 'status' | 'role' | 'fhir_user' | 'clearances'> & { sessions_not_before: number | string | null };
    const toStanding = (r: Row | undefined): UserStanding | undefined =>
      r === undefined
        ? undefined
        : {
            active: r.status === 'active',
            role: r.role,
            ...(r.fhir_user === null ? {} : { fhirUser: r.fhir_user }),
            clearances: parseClearances(r.clearances),
            ...(r.sessions_not_before === null ? {} : { sessionsNotBefore: Number(r.sessions_not_before) }),
          };
    const { readNow, memo } = this.h;
    if (readNow !== undefined && memo !== undefined) {
      return guarded(async () =>
        memo(`standing\u0000${userId}`, () => toStanding(readNow('SELECT status, role, fhir_user, clearances, sessions_not_before FROM identity_users WHERE id = ?', [userId])[0] as Row | undefined)),
      );
    }
    return guarded(async () => toStanding((await sql<Row>`SELECT status, role, fhir_user, clearances, sessions_not_before FROM identity_users WHERE id = ${userId}`.execute(this.h.read)).rows[0]));
  }

  findUserByUsername(username: string): Promise<UserRecord | undefined> {
    return guarded(async () => {
      const r = await sql<UserRow>`SELECT ${USER_COLUMNS} FROM identity_users WHERE username = ${username}`.execute(this.h.read);
      return r.rows[0] === undefined ? undefined : toUser(r.rows[0], this.at);
    });
  }

  async endSessions(id: string, now: number): Promise<void> {
    await this.#write((db) => sql`UPDATE identity_users SET sessions_not_before = ${now}, updated_at = ${now} WHERE id = ${id}`.execute(db));
  }

  setUserStatus(id: string, status: AccountStatus, now: number): Promise<boolean> {
    return this.#write(async (db) => {
      const r = await sql<{ id: string }>`UPDATE identity_users SET status = ${status}, updated_at = ${now} WHERE id = ${id} RETURNING id`.execute(db);
      return r.rows.length > 0;
    });
  }

  async setClearances(id: string, clearances: readonly string[], now: number): Promise<boolean> {
    const r = await this.#write((db) => sql`UPDATE identity_users SET clearances = ${JSON.stringify(clearances)}, updated_at = ${now} WHERE id = ${id}`.execute(db));
    return Number(r.numAffectedRows ?? 0) === 1;
  }

  async setPasswordHash(id: string, passwordHash: string, now: number): Promise<void> {
    await this.#write((db) => sql`UPDATE identity_users SET password_hash = ${passwordHash}, updated_at = ${now} WHERE id = ${id}`.execute(db));
  }

  claimLoginAttempt(id: string, now: number, lockedUntil: (failures: number) => number | undefined): Promise<LoginAttempt | undefined> {
    return this.#write(async (db) => {
      // One statement counts and tests the lock: of two concurrent claims (two processes),
      // the second sees the first's count and lock (PostgreSQL re-reads the row it waited
      // for; SQLite has one writer).
      const r = await sql<{ failed_logins: number | string; locked_until: number | string | null }>`
        UPDATE identity_users SET failed_logins = failed_logins + 1, updated_at = ${now}
        WHERE id = ${id} AND (locked_until IS NULL OR locked_until <= ${now}) RETURNING failed_logins, locked_until`.execute(db);
      const row = r.rows[0];
      if (row === undefined) return undefined;
      const failures = Number(row.failed_logins);
      const until = lockedUntil(failures);
      await sql`UPDATE identity_users SET locked_until = ${until ?? null} WHERE id = ${id}`.execute(db);
      return { failures, lockSet: until !== undefined, ...(row.locked_until === null ? {} : { previousLock: Number(row.locked_until) }) };
    });
  }

  releaseLoginAttempt(id: string, attempt: LoginAttempt, now: number, lockedUntil: (failures: number) => number | undefined): Promise<void> {
    return this.#write(async (db) => {
      const r = await sql<{ failed_logins: number | string }>`
        UPDATE identity_users SET failed_logins = CASE WHEN failed_logins > 0 THEN failed_logins - 1 ELSE 0 END, updated_at = ${now}
        WHERE id = ${id} RETURNING failed_logins`.execute(db);
      const row = r.rows[0];
      if (row === undefined) return;
      if (lockedUntil(Number(row.failed_logins)) === undefined) await sql`UPDATE identity_users SET locked_until = NULL WHERE id = ${id}`.execute(db);
      else if (attempt.lockSet) await sql`UPDATE identity_users SET locked_until = ${attempt.previousLock ?? null} WHERE id = ${id}`.execute(db);
    });
  }

  async resetLoginFailures(id: string, now: number): Promise<void> {
    await this.#write((db) => sql`UPDATE identity_users SET failed_logins = 0, locked_until = NULL, updated_at = ${now} WHERE id = ${id}`.execute(db));
  }

  async setPendingTotp(id: string, t: TotpEnrolment, now: number): Promise<void> {
    const secret = storedTotpSecret(this.at, id, t.secret);
    await this.#write((db) =>
      sql`UPDATE identity_users SET totp_secret = ${secret}, totp_algorithm = ${t.algorithm}, totp_digits = ${t.digits}, totp_confirmed = 0, updated_at = ${now}
          WHERE id = ${id} AND totp_confirmed = 0`.execute(db),
    );
  }

  activateTotp(id: string, recoveryCodeHashes: readonly string[], now: number): Promise<boolean> {
    return this.#write(async (db) => {
      const r = await sql<{ id: string }>`
        UPDATE identity_users SET totp_confirmed = 1, updated_at = ${now}
        WHERE id = ${id} AND totp_secret IS NOT NULL AND totp_confirmed = 0 RETURNING id`.execute(db);
      if (r.rows.length === 0) return false;
      await sql`DELETE FROM identity_recovery_codes WHERE user_id = ${id}`.execute(db);
      for (const hash of recoveryCodeHashes) {
        await sql`INSERT INTO identity_recovery_codes (user_id, code_hash, created_at) VALUES (${id}, ${hash}, ${now})`.execute(db);
      }
      return true;
    });
  }

  clearMfa(id: string, now: number): Promise<boolean> {
    return this.#write(async (db) => {
      const r = await sql<{ id: string }>`
        UPDATE identity_users SET totp_secret = NULL, totp_algorithm = NULL, totp_digits = NULL, totp_confirmed = 0, totp_last_step = NULL, updated_at = ${now}
        WHERE id = ${id} RETURNING id`.execute(db);
      await sql`DELETE FROM identity_recovery_codes WHERE user_id = ${id}`.execute(db);
      return r.rows.length > 0;
    });
  }

  claimTotpStep(id: string, step: number): Promise<boolean> {
    return this.#write(async (db) => {
      const r = await sql<{ id: string }>`
        UPDATE identity_users SET totp_last_step = ${step}
        WHERE id = ${id} AND (totp_last_step IS NULL OR totp_last_step < ${step}) RETURNING id`.execute(db);
      return r.rows.length > 0;
    });
  }

  listRecoveryCodes(userId: string): Promise<StoredRecoveryCode[]> {
    return guarded(async () => {
      const r = await sql<{ id: number | string; code_hash: string }>`
        SELECT id, code_hash FROM identity_recovery_codes WHERE user_id = ${userId} AND used_at IS NULL ORDER BY id`.execute(this.h.read);
      return r.rows.map((row) => ({ id: String(row.id), hash: row.code_hash }));
    });
  }

  consumeRecoveryCode(userId: string, codeId: string, now: number): Promise<boolean> {
    if (!/^\d{1,15}$/.test(codeId)) return Promise.resolve(false);
    return this.#write(async (db) => {
      const r = await sql<{ id: number }>`
        UPDATE identity_recovery_codes SET used_at = ${now}
        WHERE id = ${Number(codeId)} AND user_id = ${userId} AND used_at IS NULL RETURNING id`.execute(db);
      return r.rows.length > 0;
    });
  }

  getRolePolicy(role: Role): Promise<RolePolicy | undefined> {
    return guarded(async () => {
      const r = await sql<{ mfa_required: number }>`SELECT mfa_required FROM identity_role_policies WHERE role = ${role}`.execute(this.h.read);
      const row = r.rows[0];
      return row === undefined ? undefined : { mfaRequired: Number(row.mfa_required) === 1 };
    });
  }

  async setRolePolicy(role: Role, policy: RolePolicy, now: number): Promise<void> {
    const flag = policy.mfaRequired ? 1 : 0;
    await this.#write((db) =>
      sql`INSERT INTO identity_role_policies (role, mfa_required, updated_at) VALUES (${role}, ${flag}, ${now})
          ON CONFLICT (role) DO UPDATE SET mfa_required = ${flag}, updated_at = ${now}`.execute(db),
    );
  }

  insertClient(c: ClientRecord): Promise<void> {
    return this.#insert('A client with this client id already exists', (db) =>
      sql`INSERT INTO identity_clients (client_id, name, kind, redirect_uris, scope, secret_hash, jwks, jwks_uri, tls_subject_dn, status, created_at, updated_at)
          VALUES (${c.clientId}, ${c.name}, ${c.kind}, ${JSON.stringify(c.redirectUris)}, ${c.scope}, ${c.secretHash ?? null},
                  ${c.jwks === undefined ? null : JSON.stringify(c.jwks)}, ${c.jwksUri ?? null}, ${c.tlsSubjectDn ?? null}, ${c.status}, ${c.createdAt}, ${c.updatedAt})`.execute(db),
    );
  }

  findClient(clientId: string): Promise<ClientRecord | undefined> {
    return guarded(async () => {
      const r = await sql<ClientRow>`SELECT ${CLIENT_COLUMNS} FROM identity_clients WHERE client_id = ${clientId}`.execute(this.h.read);
      return r.rows[0] === undefined ? undefined : toClient(r.rows[0]);
    });
  }

  setClientStatus(clientId: string, status: ClientRecord['status'], now: number): Promise<boolean> {
    return this.#write(async (db) => {
      const r = await sql<{ client_id: string }>`UPDATE identity_clients SET status = ${status}, updated_at = ${now} WHERE client_id = ${clientId} RETURNING client_id`.execute(db);
      return r.rows.length > 0;
    });
  }

  /** Asked for every request with a client's token: synchronous and remembered until the next commit on SQLite. */
  clientActive(clientId: string): Promise<boolean> {
    const { readNow, memo } = this.h;
    if (readNow !== undefined && memo !== undefined) {
      return guarded(async () => memo(`client\u0000${clientId}`, () => (readNow('SELECT status FROM identity_clients WHERE client_id = ?', [clientId])[0] as { status: string } | undefined)?.status === 'active'));
    }
    return guarded(async () => (await sql<{ status: string }>`SELECT status FROM identity_clients WHERE client_id = ${clientId}`.execute(this.h.read)).rows[0]?.status === 'active');
  }
}
