/**
 * The OAuthStore port over the vault's database (SQLite or PostgreSQL), migration 0006.
 * Reads use the read connection; every change is one group-committed write transaction.
 * Write transactions run one at a time on both dialects (SQLite's BEGIN IMMEDIATE, the
 * PostgreSQL advisory lock of open-store.ts), so the read-then-write steps inside one
 * (redeeming a code, rotating a refresh token) are atomic: of two concurrent requests
 * with the same code or refresh token, exactly one gets tokens. Every value is a bound
 * parameter.
 */
import { sql, type Kysely } from 'kysely';
import { CustodiaError } from '../kernel/index.js';
import type {
  AuthorizationRequest,
  CodeRecord,
  GrantContext,
  GrantRecord,
  LaunchRecord,
  OAuthStore,
  PendingAuthorization,
  PendingStage,
  PendingUpdate,
  RedeemOutcome,
  RefreshTokenRecord,
  TokenIssue,
} from '../access/index.js';
import { guarded } from './db-errors.js';
import type { DatabaseHandle } from './open-store.js';

type Num = number | string;
const num = (v: Num): number => Number(v);
const opt = (v: Num | null): number | undefined => (v === null ? undefined : Number(v));

interface PendingRow {
  handle_hash: string;
  browser_hash: string;
  csrf_hash: string;
  request: string;
  stage: string;
  version: Num;
  user_id: string | null;
  auth_time: Num | null;
  candidates: string | null;
  enrolment_hash: string | null;
  attempts: Num;
  created_at: Num;
  expires_at: Num;
}

interface GrantRow {
  id: string;
  client_id: string;
  context: string;
  created_at: Num;
  expires_at: Num;
  revoked_at: Num | null;
}

interface CodeRow {
  code_hash: string;
  grant_id: string;
  client_id: string;
  redirect_uri: string;
  code_challenge: string;
  expires_at: Num;
  used_at: Num | null;
}

interface RefreshRow {
  token_hash: string;
  grant_id: string;
  created_at: Num;
  expires_at: Num;
  used_at: Num | null;
}

interface LaunchRow {
  id_hash: string;
  patient: string;
  encounter: string | null;
  created_by: string;
  bound_user: string | null;
  created_at: Num;
  expires_at: Num;
}

const STAGES: readonly string[] = ['login', 'mfa', 'enrol', 'recovery', 'consent', 'patient'];

/** Grants (with their codes and refresh tokens) are kept this long past their end, so a late reuse still finds them. */
const GRANT_RETENTION_MS = 24 * 3600_000;
/** How long an issued token's record outlives the token. */
const ISSUED_RECORD_RETENTION_MS = 24 * 3600_000;

function toPending(r: PendingRow): PendingAuthorization {
  if (!STAGES.includes(r.stage)) throw new CustodiaError('internal', 'The OAuth tables hold an unexpected stage');
  return {
    handleHash: r.handle_hash,
    browserHash: r.browser_hash,
    csrfHash: r.csrf_hash,
    request: JSON.parse(r.request) as AuthorizationRequest,
    stage: r.stage as PendingStage,
    version: num(r.version),
    ...(r.user_id === null ? {} : { userId: r.user_id }),
    ...(r.auth_time === null ? {} : { authTime: num(r.auth_time) }),
    ...(r.candidates === null ? {} : { candidates: JSON.parse(r.candidates) as string[] }),
    ...(r.enrolment_hash === null ? {} : { enrolmentHash: r.enrolment_hash }),
    attempts: num(r.attempts),
    createdAt: num(r.created_at),
    expiresAt: num(r.expires_at),
  };
}

function toGrant(r: GrantRow): GrantRecord {
  const revokedAt = opt(r.revoked_at);
  return {
    id: r.id,
    clientId: r.client_id,
    context: JSON.parse(r.context) as GrantContext,
    createdAt: num(r.created_at),
    expiresAt: num(r.expires_at),
    ...(revokedAt === undefined ? {} : { revokedAt }),
  };
}

function toCode(r: CodeRow): CodeRecord {
  const usedAt = opt(r.used_at);
  return {
    codeHash: r.code_hash,
    grantId: r.grant_id,
    clientId: r.client_id,
    redirectUri: r.redirect_uri,
    codeChallenge: r.code_challenge,
    expiresAt: num(r.expires_at),
    ...(usedAt === undefined ? {} : { usedAt }),
  };
}

function toRefresh(r: RefreshRow): RefreshTokenRecord {
  const usedAt = opt(r.used_at);
  return { tokenHash: r.token_hash, grantId: r.grant_id, createdAt: num(r.created_at), expiresAt: num(r.expires_at), ...(usedAt === undefined ? {} : { usedAt }) };
}

function toLaunch(r: LaunchRow): LaunchRecord {
  return {
    idHash: r.id_hash,
    patient: r.patient,
    ...(r.encounter === null ? {} : { encounter: r.encounter }),
    createdBy: r.created_by,
    ...(r.bound_user === null ? {} : { boundUser: r.bound_user }),
    createdAt: num(r.created_at),
    expiresAt: num(r.expires_at),
  };
}

/** Revokes a grant inside a write transaction: the grant, and every unexpired access token issued under it. */
async function revokeGrantIn(db: Kysely<unknown>, grantId: string, now: number): Promise<void> {
  await sql`UPDATE oauth_grants SET revoked_at = ${now} WHERE id = ${grantId} AND revoked_at IS NULL`.execute(db);
  await sql`INSERT INTO oauth_revoked_tokens (jti, expires_at)
            SELECT jti, expires_at FROM oauth_grant_tokens WHERE grant_id = ${grantId} AND expires_at > ${now}
            ON CONFLICT (jti) DO NOTHING`.execute(db);
}

async function recordIssue(db: Kysely<unknown>, grantId: string, now: number, issue: TokenIssue): Promise<void> {
  await sql`INSERT INTO oauth_grant_tokens (jti, grant_id, expires_at) VALUES (${issue.accessTokenId}, ${grantId}, ${issue.accessExpiresAt})`.execute(db);
  if (issue.refresh !== undefined) {
    await sql`INSERT INTO oauth_refresh_tokens (token_hash, grant_id, created_at, expires_at) VALUES (${issue.refresh.tokenHash}, ${grantId}, ${now}, ${issue.refresh.expiresAt})`.execute(db);
  }
}

async function liveGrant(db: Kysely<unknown>, grantId: string, now: number): Promise<boolean> {
  const g = (await sql<{ revoked_at: Num | null; expires_at: Num }>`SELECT revoked_at, expires_at FROM oauth_grants WHERE id = ${grantId}`.execute(db)).rows[0];
  return g !== undefined && g.revoked_at === null && num(g.expires_at) > now;
}

export class KyselyOAuthStore implements OAuthStore {
  constructor(private readonly h: DatabaseHandle) {}

  #write<T>(fn: (db: Kysely<unknown>) => Promise<T>): Promise<T> {
    return guarded(() => this.h.transaction(fn));
  }

  #read<T>(fn: (db: Kysely<unknown>) => Promise<T>): Promise<T> {
    return guarded(() => fn(this.h.read));
  }

  // ── pending sign-ins ────────────────────────────────────────────────────────

  async insertPending(p: PendingAuthorization): Promise<void> {
    await this.#write((db) =>
      sql`INSERT INTO oauth_pending (handle_hash, browser_hash, csrf_hash, client_id, request, stage, version, user_id, auth_time, candidates, enrolment_hash, attempts, created_at, expires_at)
          VALUES (${p.handleHash}, ${p.browserHash}, ${p.csrfHash}, ${p.request.clientId}, ${JSON.stringify(p.request)}, ${p.stage}, ${p.version}, ${p.userId ?? null},
                  ${p.authTime ?? null}, ${p.candidates === undefined ? null : JSON.stringify(p.candidates)}, ${p.enrolmentHash ?? null}, ${p.attempts}, ${p.createdAt}, ${p.expiresAt})`.execute(db),
    );
  }

  findPending(handleHash: string, now: number): Promise<PendingAuthorization | undefined> {
    return this.#read(async (db) => {
      const row = (await sql<PendingRow>`SELECT * FROM oauth_pending WHERE handle_hash = ${handleHash} AND expires_at > ${now}`.execute(db)).rows[0];
      return row === undefined ? undefined : toPending(row);
    });
  }

  updatePending(handleHash: string, version: number, u: PendingUpdate): Promise<boolean> {
    return this.#write(async (db) => {
      const r = await sql<{ handle_hash: string }>`
        UPDATE oauth_pending SET stage = ${u.stage}, version = version + 1, attempts = attempts + ${u.countAttempt === true ? 1 : 0},
          user_id = COALESCE(${u.userId ?? null}, user_id), auth_time = COALESCE(${u.authTime ?? null}, auth_time),
          candidates = COALESCE(${u.candidates === undefined ? null : JSON.stringify(u.candidates)}, candidates),
          enrolment_hash = COALESCE(${u.enrolmentHash ?? null}, enrolment_hash)
        WHERE handle_hash = ${handleHash} AND version = ${version} RETURNING handle_hash`.execute(db);
      return r.rows.length > 0;
    });
  }

  async deletePending(handleHash: string): Promise<void> {
    await this.#write((db) => sql`DELETE FROM oauth_pending WHERE handle_hash = ${handleHash}`.execute(db));
  }

  completePending(handleHash: string, version: number, g: GrantRecord, c: CodeRecord): Promise<boolean> {
    return this.#write(async (db) => {
      const r = await sql<{ handle_hash: string }>`DELETE FROM oauth_pending WHERE handle_hash = ${handleHash} AND version = ${version} RETURNING handle_hash`.execute(db);
      if (r.rows.length === 0) return false;
      await sql`INSERT INTO oauth_grants (id, client_id, user_id, context, created_at, expires_at)
                VALUES (${g.id}, ${g.clientId}, ${g.context.userId}, ${JSON.stringify(g.context)}, ${g.createdAt}, ${g.expiresAt})`.execute(db);
      await sql`INSERT INTO oauth_codes (code_hash, grant_id, client_id, redirect_uri, code_challenge, expires_at)
                VALUES (${c.codeHash}, ${c.grantId}, ${c.clientId}, ${c.redirectUri}, ${c.codeChallenge}, ${c.expiresAt})`.execute(db);
      return true;
    });
  }

  // ── codes, grants, refresh tokens ───────────────────────────────────────────

  findCode(codeHash: string): Promise<CodeRecord | undefined> {
    return this.#read(async (db) => {
      const row = (await sql<CodeRow>`SELECT * FROM oauth_codes WHERE code_hash = ${codeHash}`.execute(db)).rows[0];
      return row === undefined ? undefined : toCode(row);
    });
  }

  findGrant(grantId: string): Promise<GrantRecord | undefined> {
    return this.#read(async (db) => {
      const row = (await sql<GrantRow>`SELECT id, client_id, context, created_at, expires_at, revoked_at FROM oauth_grants WHERE id = ${grantId}`.execute(db)).rows[0];
      return row === undefined ? undefined : toGrant(row);
    });
  }

  redeemCode(codeHash: string, now: number, issue: TokenIssue | undefined): Promise<RedeemOutcome> {
    return this.#write(async (db) => {
      const row = (await sql<{ grant_id: string; used_at: Num | null; expires_at: Num }>`
        SELECT grant_id, used_at, expires_at FROM oauth_codes WHERE code_hash = ${codeHash}`.execute(db)).rows[0];
      if (row === undefined) return 'invalid';
      if (row.used_at !== null) {
        await revokeGrantIn(db, row.grant_id, now);
        return 'reused';
      }
      await sql`UPDATE oauth_codes SET used_at = ${now} WHERE code_hash = ${codeHash}`.execute(db);
      if (issue === undefined) {
        // A failed exchange burns the code, and with it the grant (nothing was issued yet).
        await revokeGrantIn(db, row.grant_id, now);
        return 'invalid';
      }
      if (num(row.expires_at) <= now || !(await liveGrant(db, row.grant_id, now))) return 'invalid';
      await recordIssue(db, row.grant_id, now, issue);
      return 'issued';
    });
  }

  findRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    return this.#read(async (db) => {
      const row = (await sql<RefreshRow>`SELECT * FROM oauth_refresh_tokens WHERE token_hash = ${tokenHash}`.execute(db)).rows[0];
      return row === undefined ? undefined : toRefresh(row);
    });
  }

  rotateRefreshToken(tokenHash: string, now: number, issue: TokenIssue): Promise<RedeemOutcome> {
    return this.#write(async (db) => {
      const row = (await sql<{ grant_id: string; used_at: Num | null; expires_at: Num }>`
        SELECT grant_id, used_at, expires_at FROM oauth_refresh_tokens WHERE token_hash = ${tokenHash}`.execute(db)).rows[0];
      if (row === undefined) return 'invalid';
      if (row.used_at !== null) {
        await revokeGrantIn(db, row.grant_id, now);
        return 'reused';
      }
      if (num(row.expires_at) <= now || !(await liveGrant(db, row.grant_id, now))) return 'invalid';
      await sql`UPDATE oauth_refresh_tokens SET used_at = ${now} WHERE token_hash = ${tokenHash}`.execute(db);
      await recordIssue(db, row.grant_id, now, issue);
      return 'issued';
    });
  }

  async revokeGrant(grantId: string, now: number): Promise<void> {
    await this.#write((db) => revokeGrantIn(db, grantId, now));
  }

  revokeUserGrants(userId: string, clientId: string, now: number): Promise<GrantRecord[]> {
    return this.#write(async (db) => {
      const rows = (
        await sql<GrantRow>`SELECT id, client_id, context, created_at, expires_at, revoked_at FROM oauth_grants
                            WHERE user_id = ${userId} AND client_id = ${clientId} AND revoked_at IS NULL AND expires_at > ${now}`.execute(db)
      ).rows;
      for (const row of rows) await revokeGrantIn(db, row.id, now);
      return rows.map((row) => ({ ...toGrant(row), revokedAt: now }));
    });
  }

  // ── revocation list ─────────────────────────────────────────────────────────

  async revokeAccessToken(tokenId: string, expiresAt: number): Promise<void> {
    await this.#write((db) => sql`INSERT INTO oauth_revoked_tokens (jti, expires_at) VALUES (${tokenId}, ${expiresAt}) ON CONFLICT (jti) DO NOTHING`.execute(db));
  }

  async recordIssuedToken(tokenId: string, expiresAt: number): Promise<void> {
    await this.#write((db) => sql`INSERT INTO oauth_issued_tokens (jti, expires_at) VALUES (${tokenId}, ${expiresAt})`.execute(db));
  }

  issuedTokenExpiry(tokenId: string): Promise<number | undefined> {
    return this.#read(async (db) => {
      const row = (await sql<{ expires_at: number | string }>`SELECT expires_at FROM oauth_issued_tokens WHERE jti = ${tokenId}`.execute(db)).rows[0];
      return row === undefined ? undefined : num(row.expires_at);
    });
  }

  /** Asked for every request: synchronous on SQLite. */
  isRevoked(tokenId: string): Promise<boolean> {
    const { readNow, memo } = this.h;
    if (readNow !== undefined && memo !== undefined) {
      return guarded(async () => memo(`revoked\u0000${tokenId}`, () => readNow('SELECT 1 AS one FROM oauth_revoked_tokens WHERE jti = ?', [tokenId]).length > 0));
    }
    return this.#read(async (db) => (await sql<{ one: number }>`SELECT 1 AS one FROM oauth_revoked_tokens WHERE jti = ${tokenId}`.execute(db)).rows.length > 0);
  }

  // ── client assertions ───────────────────────────────────────────────────────

  claimAssertionId(clientId: string, jti: string, expiresAt: number, now: number): Promise<boolean> {
    return this.#write(async (db) => {
      await sql`DELETE FROM oauth_assertion_ids WHERE client_id = ${clientId} AND jti = ${jti} AND expires_at <= ${now}`.execute(db);
      const r = await sql<{ jti: string }>`
        INSERT INTO oauth_assertion_ids (client_id, jti, expires_at) VALUES (${clientId}, ${jti}, ${expiresAt})
        ON CONFLICT (client_id, jti) DO NOTHING RETURNING jti`.execute(db);
      return r.rows.length > 0;
    });
  }

  // ── EHR launches ────────────────────────────────────────────────────────────

  async insertLaunch(l: LaunchRecord): Promise<void> {
    await this.#write((db) =>
      sql`INSERT INTO oauth_launches (id_hash, patient, encounter, created_by, bound_user, created_at, expires_at)
          VALUES (${l.idHash}, ${l.patient}, ${l.encounter ?? null}, ${l.createdBy}, ${l.boundUser ?? null}, ${l.createdAt}, ${l.expiresAt})`.execute(db),
    );
  }

  /** Single use: the row is deleted by the statement that returns it, so only one caller gets it. */
  claimLaunch(idHash: string, now: number): Promise<LaunchRecord | undefined> {
    return this.#write(async (db) => {
      const row = (await sql<LaunchRow>`DELETE FROM oauth_launches WHERE id_hash = ${idHash} AND expires_at > ${now} RETURNING *`.execute(db)).rows[0];
      return row === undefined ? undefined : toLaunch(row);
    });
  }

  // ── housekeeping ────────────────────────────────────────────────────────────

  async purgeExpired(now: number): Promise<void> {
    const gone = now - GRANT_RETENTION_MS;
    await this.#write(async (db) => {
      await sql`DELETE FROM oauth_pending WHERE expires_at <= ${now}`.execute(db);
      await sql`DELETE FROM oauth_launches WHERE expires_at <= ${now}`.execute(db);
      await sql`DELETE FROM oauth_assertion_ids WHERE expires_at <= ${now}`.execute(db);
      await sql`DELETE FROM oauth_revoked_tokens WHERE expires_at <= ${now}`.execute(db);
      await sql`DELETE FROM oauth_grant_tokens WHERE expires_at <= ${now}`.execute(db);
      // A day past expiry, so that revoking an id just expired says so rather than that it was never issued.
      await sql`DELETE FROM oauth_issued_tokens WHERE expires_at <= ${now - ISSUED_RECORD_RETENTION_MS}`.execute(db);
      await sql`DELETE FROM oauth_codes WHERE grant_id IN (SELECT id FROM oauth_grants WHERE expires_at <= ${gone})`.execute(db);
      await sql`DELETE FROM oauth_refresh_tokens WHERE grant_id IN (SELECT id FROM oauth_grants WHERE expires_at <= ${gone})`.execute(db);
      await sql`DELETE FROM oauth_grants WHERE expires_at <= ${gone}`.execute(db);
    });
  }
}
