/** The BreakGlassStore port over the vault's database. */
import { sql } from 'kysely';
import type { BreakGlassSession, BreakGlassStore, ReviewStatus } from '../access/index.js';
import { guarded } from './db-errors.js';
import type { DatabaseHandle } from './open-store.js';

interface Row {
  id: string;
  user_id: string;
  patient_id: string;
  reason: string;
  started_at: number;
  expires_at: number;
  review: string;
  reviewer: string | null;
  review_note: string | null;
  reviewed_at: number | null;
}

function toSession(r: Row): BreakGlassSession {
  return {
    id: r.id,
    userId: r.user_id,
    patientId: r.patient_id,
    reason: r.reason,
    purposeOfUse: 'BTG',
    startedAt: Number(r.started_at),
    expiresAt: Number(r.expires_at),
    review: r.review as ReviewStatus,
    ...(r.reviewer === null ? {} : { reviewer: r.reviewer }),
    ...(r.review_note === null ? {} : { reviewNote: r.review_note }),
    ...(r.reviewed_at === null ? {} : { reviewedAt: Number(r.reviewed_at) }),
  };
}

const COLUMNS = sql`id, user_id, patient_id, reason, started_at, expires_at, review, reviewer, review_note, reviewed_at`;

const ACTIVE_SQL = 'SELECT id, user_id, patient_id, reason, started_at, expires_at, review, reviewer, review_note, reviewed_at FROM break_glass_sessions WHERE user_id = ? AND expires_at > ? ORDER BY started_at';

export function breakGlassStore(db: DatabaseHandle): BreakGlassStore {
  return {
    // Asked on every request by a user. On SQLite the answer is remembered until the next
    // commit: sessions active at the first ask, filtered again by the time of each ask,
    // are exactly the sessions active then (opening one is a commit).
    active: (userId, now) =>
      guarded(async () => {
        const { readNow, memo } = db;
        const rows =
          readNow !== undefined && memo !== undefined
            ? memo(`break-glass\u0000${userId}`, () => readNow(ACTIVE_SQL, [userId, now]) as Row[])
            : (await sql<Row>`SELECT ${COLUMNS} FROM break_glass_sessions WHERE user_id = ${userId} AND expires_at > ${now} ORDER BY started_at`.execute(db.read)).rows;
        return rows.filter((r) => Number(r.expires_at) > now).map(toSession);
      }),
    insert: (s) =>
      guarded(async () => {
        await db.transaction((tx) =>
          sql`INSERT INTO break_glass_sessions (id, user_id, patient_id, reason, started_at, expires_at, review)
              VALUES (${s.id}, ${s.userId}, ${s.patientId}, ${s.reason}, ${s.startedAt}, ${s.expiresAt}, ${s.review})`.execute(tx),
        );
      }),
    list: (filter, limit) =>
      guarded(async () => {
        const where = filter.review === undefined ? sql`1 = 1` : sql`review = ${filter.review}`;
        return (await sql<Row>`SELECT ${COLUMNS} FROM break_glass_sessions WHERE ${where} ORDER BY started_at DESC LIMIT ${limit}`.execute(db.read)).rows.map(toSession);
      }),
    get: (id) => guarded(async () => {
      const row = (await sql<Row>`SELECT ${COLUMNS} FROM break_glass_sessions WHERE id = ${id}`.execute(db.read)).rows[0];
      return row === undefined ? undefined : toSession(row);
    }),
    review: (id, status, reviewer, note, at) =>
      guarded(async () => {
        const r = await db.transaction((tx) =>
          sql`UPDATE break_glass_sessions SET review = ${status}, reviewer = ${reviewer}, review_note = ${note}, reviewed_at = ${at}
              WHERE id = ${id} AND review = 'pending'`.execute(tx),
        );
        return Number(r.numAffectedRows ?? 0) === 1;
      }),
  };
}
