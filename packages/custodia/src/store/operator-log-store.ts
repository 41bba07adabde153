/** The OperatorLog port over the vault's database: append-only rows, newest read first. */
import { sql } from 'kysely';
import type { OperatorAction, OperatorLog } from '../access/index.js';
import { guarded } from './db-errors.js';
import type { DatabaseHandle } from './open-store.js';

export function operatorLogStore(db: DatabaseHandle): OperatorLog {
  return {
    record: (a) =>
      guarded(async () => {
        await db.transaction((tx) => sql`INSERT INTO operator_log (at, action, actor, detail) VALUES (${a.at}, ${a.action}, ${a.actor}, ${JSON.stringify(a.detail)})`.execute(tx));
      }),
    recent: (limit) =>
      guarded(async () => {
        const rows = await sql<{ at: number; action: string; actor: string; detail: string }>`SELECT at, action, actor, detail FROM operator_log ORDER BY seq DESC LIMIT ${limit}`.execute(db.read);
        return rows.rows.map((r) => ({ at: Number(r.at), action: r.action, actor: r.actor, detail: JSON.parse(r.detail) as OperatorAction['detail'] }));
      }),
  };
}
