/**
 * The BreakGlassStore port over the vault's database.
 *
 * The clinician's reason is free text that may name the patient's condition, so it is
 * sealed at rest like a TOTP secret or a finding's detail (at-rest.ts `sealSecret`): an
 * envelope under the tenant key in `reason_sealed` (migration 0021), AAD purpose
 * `break-glass` and subject the session id, so a reason copied onto another session does
 * not open. Tenant key, not the patient's: the review queue is accountability for an
 * emergency access and must still read after the patient is erased (the ledger's copy of
 * the reason is under the patient's key and goes with them).
 *
 * Rows written before 0021 kept the reason in clear in `reason`. They are sealed when the
 * vault opens ({@link SealingBreakGlassStore.sealClearReasons}, an eager pass rather than
 * a re-seal on read: break-the-glass sessions are few, and a reason must not stay in clear
 * until someone happens to list the queue). Until then, and for a row an older binary
 * writes during a rolling upgrade on PostgreSQL, the clear reason is read as it is: the
 * session's other columns are not authenticated either (who, which patient, until when),
 * so refusing such a row would protect nothing and would lock its user out.
 *
 * Data-key rotation re-seals the reasons sealed by a retired tenant key
 * (`resealReasons`, through sealed-data-store.ts `resealSecrets`).
 */
import { sql } from 'kysely';
import type { BreakGlassSession, BreakGlassStore, ReviewStatus } from '../access/index.js';
import type { AtRest } from './at-rest.js';
import { guarded } from './db-errors.js';
import type { DatabaseHandle } from './open-store.js';
import { resealSecretRows, type ResealOutcome } from './reseal-secrets.js';

/** The purpose a break-the-glass reason is sealed for (the AAD's; the subject is the session id). */
export const BREAK_GLASS_REASON = 'break-glass';

interface Row {
  id: string;
  user_id: string;
  patient_id: string;
  /** Clear reason of a row from before migration 0021 not yet sealed; '' otherwise. */
  reason: string;
  reason_sealed: Uint8Array | null;
  started_at: number;
  expires_at: number;
  review: string;
  reviewer: string | null;
  review_note: string | null;
  reviewed_at: number | null;
}

/** The break-the-glass store with what only the vault's composition root and key rotation call. */
export interface SealingBreakGlassStore extends BreakGlassStore {
  /** Seals every reason still in clear (rows from before migration 0021); returns how many. */
  sealClearReasons(): Promise<number>;
  /** Re-seals the reasons sealed by `keyIds` under the current tenant key; which of them still seal one. */
  resealReasons(keyIds: readonly string[]): Promise<ResealOutcome>;
}

const sealReason = (at: AtRest, id: string, reason: string): Buffer => at.sealSecret(BREAK_GLASS_REASON, id, Buffer.from(reason, 'utf8'));

function toSession(at: AtRest, r: Row): BreakGlassSession {
  // reason_sealed is database content (hostile if the database was written outside Custodia): openSecret authenticates it against this row's id.
  const reason = r.reason_sealed === null ? r.reason : at.openSecret(BREAK_GLASS_REASON, r.id, r.reason_sealed).toString('utf8');
  return {
    id: r.id,
    userId: r.user_id,
    patientId: r.patient_id,
    reason,
    purposeOfUse: 'BTG',
    startedAt: Number(r.started_at),
    expiresAt: Number(r.expires_at),
    review: r.review as ReviewStatus,
    ...(r.reviewer === null ? {} : { reviewer: r.reviewer }),
    ...(r.review_note === null ? {} : { reviewNote: r.review_note }),
    ...(r.reviewed_at === null ? {} : { reviewedAt: Number(r.reviewed_at) }),
  };
}

const COLUMNS = sql`id, user_id, patient_id, reason, reason_sealed, started_at, expires_at, review, reviewer, review_note, reviewed_at`;

const ACTIVE_SQL = 'SELECT id, user_id, patient_id, reason, reason_sealed, started_at, expires_at, review, reviewer, review_note, reviewed_at FROM break_glass_sessions WHERE user_id = ? AND expires_at > ? ORDER BY started_at';

export function breakGlassStore(db: Pick<DatabaseHandle, 'read' | 'transaction' | 'readNow' | 'memo'>, at: AtRest): SealingBreakGlassStore {
  return {
    // Asked on every request by a user. On SQLite the answer is remembered until the next
    // commit: sessions active at the first ask, filtered again by the time of each ask,
    // are exactly the sessions active then (opening one is a commit).
    active: (userId, now) =>
      guarded(async () => {
        const { readNow, memo } = db;
        // Remembered opened, so that a reason is decrypted once per commit, not on every request.
        const sessions =
          readNow !== undefined && memo !== undefined
            ? memo(`break-glass\u0000${userId}`, () => (readNow(ACTIVE_SQL, [userId, now]) as Row[]).map((r) => toSession(at, r)))
            : (await sql<Row>`SELECT ${COLUMNS} FROM break_glass_sessions WHERE user_id = ${userId} AND expires_at > ${now} ORDER BY started_at`.execute(db.read)).rows.map((r) => toSession(at, r));
        return sessions.filter((s) => s.expiresAt > now);
      }),
    insert: (s) =>
      guarded(async () => {
        const sealed = sealReason(at, s.id, s.reason);
        await db.transaction((tx) =>
          sql`INSERT INTO break_glass_sessions (id, user_id, patient_id, reason, reason_sealed, started_at, expires_at, review)
              VALUES (${s.id}, ${s.userId}, ${s.patientId}, '', ${sealed}, ${s.startedAt}, ${s.expiresAt}, ${s.review})`.execute(tx),
        );
      }),
    list: (filter, limit) =>
      guarded(async () => {
        const where = filter.review === undefined ? sql`1 = 1` : sql`review = ${filter.review}`;
        return (await sql<Row>`SELECT ${COLUMNS} FROM break_glass_sessions WHERE ${where} ORDER BY started_at DESC LIMIT ${limit}`.execute(db.read)).rows.map((r) => toSession(at, r));
      }),
    get: (id) =>
      guarded(async () => {
        const row = (await sql<Row>`SELECT ${COLUMNS} FROM break_glass_sessions WHERE id = ${id}`.execute(db.read)).rows[0];
        return row === undefined ? undefined : toSession(at, row);
      }),
    review: (id, status, reviewer, note, reviewedAt) =>
      guarded(async () => {
        const r = await db.transaction((tx) =>
          sql`UPDATE break_glass_sessions SET review = ${status}, reviewer = ${reviewer}, review_note = ${note}, reviewed_at = ${reviewedAt}
              WHERE id = ${id} AND review = 'pending'`.execute(tx),
        );
        return Number(r.numAffectedRows ?? 0) === 1;
      }),
    sealClearReasons: () =>
      guarded(async () => {
        const clear = (await sql<{ id: string; reason: string }>`SELECT id, reason FROM break_glass_sessions WHERE reason_sealed IS NULL`.execute(db.read)).rows;
        if (clear.length === 0) return 0;
        const sealed = clear.map((r) => ({ id: r.id, sealed: sealReason(at, r.id, r.reason) }));
        return db.transaction(async (tx) => {
          let n = 0;
          // Only rows still in clear: a row sealed meanwhile (another server of the same database) is left as it is.
          for (const r of sealed) n += Number((await sql`UPDATE break_glass_sessions SET reason_sealed = ${r.sealed}, reason = '' WHERE id = ${r.id} AND reason_sealed IS NULL`.execute(tx)).numAffectedRows ?? 0);
          return n;
        });
      }),
    resealReasons: (keyIds) =>
      guarded(async () => {
        const rows = (await sql<{ id: string; reason_sealed: Uint8Array }>`SELECT id, reason_sealed FROM break_glass_sessions WHERE reason_sealed IS NOT NULL`.execute(db.read)).rows;
        return resealSecretRows(at, BREAK_GLASS_REASON, keyIds, rows.map((r) => ({ subject: r.id, sealed: r.reason_sealed })), db.transaction, async (tx, r, resealed) =>
          Number((await sql`UPDATE break_glass_sessions SET reason_sealed = ${resealed} WHERE id = ${r.subject} AND reason_sealed = ${r.sealed}`.execute(tx)).numAffectedRows ?? 0),
        );
      }),
  };
}
