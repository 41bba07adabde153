/** Legal holds (migration 0013) over the vault's database. */
import { sql } from 'kysely';
import { guarded } from './db-errors.js';
import type { DatabaseHandle } from './open-store.js';

export interface LegalHold {
  readonly patientId: string;
  readonly reason: string;
  readonly placedBy: string;
  /** Epoch ms. */
  readonly placedAt: number;
}

export interface LegalHoldStore {
  place(hold: LegalHold): Promise<void>;
  /** Whether a hold was released. */
  release(patientId: string): Promise<boolean>;
  get(patientId: string): Promise<LegalHold | undefined>;
  list(): Promise<LegalHold[]>;
}

interface Row {
  patient_id: string;
  reason: string;
  placed_by: string;
  placed_at: number | string;
}

const toHold = (r: Row): LegalHold => ({ patientId: r.patient_id, reason: r.reason, placedBy: r.placed_by, placedAt: Number(r.placed_at) });

export function legalHoldStore(h: DatabaseHandle): LegalHoldStore {
  return {
    place: (hold) =>
      guarded(() =>
        h.transaction(async (db) => {
          await sql`DELETE FROM legal_holds WHERE patient_id = ${hold.patientId}`.execute(db);
          await sql`INSERT INTO legal_holds (patient_id, reason, placed_by, placed_at) VALUES (${hold.patientId}, ${hold.reason}, ${hold.placedBy}, ${hold.placedAt})`.execute(db);
        }),
      ),
    release: (patientId) => guarded(() => h.transaction(async (db) => Number((await sql`DELETE FROM legal_holds WHERE patient_id = ${patientId}`.execute(db)).numAffectedRows ?? 0) > 0)),
    get: (patientId) => guarded(async () => (await sql<Row>`SELECT * FROM legal_holds WHERE patient_id = ${patientId}`.execute(h.read)).rows.map(toHold)[0]),
    list: () => guarded(async () => (await sql<Row>`SELECT * FROM legal_holds ORDER BY placed_at`.execute(h.read)).rows.map(toHold)),
  };
}
