/**
 * Device baselines kept between runs (migration 0027; what they hold: detect/
 * baseline-snapshot.ts). Each snapshot is sealed under the tenant key for the purpose
 * `device-baseline` and the device as subject, so a snapshot copied onto another device's
 * row does not open (`decrypt-failed`), and data-key rotation re-seals them
 * (`resealBaselines`, through sealed-data-store.ts `resealSecrets`).
 *
 * What the seal does not stop, and why that is acceptable: someone who can write the
 * database can delete a row, or put back an older snapshot of the same device. Either
 * leaves that device with a baseline it had before (or none, to learn again), never one
 * made up.
 */
import { sql, type Kysely } from 'kysely';
import type { AtRest } from './at-rest.js';
import { guarded } from './db-errors.js';
import type { DatabaseHandle } from './open-store.js';
import { resealSecretRows, type ResealOutcome } from './reseal-secrets.js';

const PURPOSE = 'device-baseline';

/** One device's snapshot and when it was taken (epoch ms, the vault's clock). */
export interface KeptBaseline {
  readonly device: string;
  readonly savedAt: number;
  readonly snapshot: Uint8Array;
}

export interface BaselineStore {
  /** The snapshot kept for `device`, opened; undefined if none is. `decrypt-failed` if the row does not open for this device. */
  load(device: string): Promise<Uint8Array | undefined>;
  /** Keeps these snapshots, replacing each device's earlier one, and deletes those saved before `forgetBefore`; one transaction. */
  keep(snapshots: readonly KeptBaseline[], forgetBefore: number): Promise<void>;
  /** Deletes the snapshots of these devices (a patient they held was erased); how many there were. */
  forget(devices: readonly string[]): Promise<number>;
  /** Devices with a snapshot kept. */
  count(): Promise<number>;
  /** Re-seals the snapshots sealed by `keyIds` under the current tenant key; which of them still seal one. */
  resealBaselines(keyIds: readonly string[]): Promise<ResealOutcome>;
}

export function baselineStore(h: Pick<DatabaseHandle, 'read' | 'transaction'>, at: AtRest): BaselineStore {
  return {
    load: (device) =>
      guarded(async () => {
        const row = (await sql<{ snapshot: Uint8Array }>`SELECT snapshot FROM detect_baselines WHERE device = ${device}`.execute(h.read)).rows[0];
        // The row is database content: openSecret authenticates it against this device before anything reads it.
        return row === undefined ? undefined : at.openSecret(PURPOSE, device, row.snapshot);
      }),
    keep: (snapshots, forgetBefore) =>
      guarded(() =>
        h.transaction(async (db: Kysely<unknown>) => {
          for (const s of snapshots) {
            const sealed = at.sealSecret(PURPOSE, s.device, Buffer.from(s.snapshot.buffer, s.snapshot.byteOffset, s.snapshot.byteLength));
            await sql`INSERT INTO detect_baselines (device, saved_at, snapshot) VALUES (${s.device}, ${s.savedAt}, ${sealed})
              ON CONFLICT (device) DO UPDATE SET saved_at = excluded.saved_at, snapshot = excluded.snapshot`.execute(db);
          }
          await sql`DELETE FROM detect_baselines WHERE saved_at < ${forgetBefore}`.execute(db);
        }),
      ),
    forget: (devices) =>
      guarded(async () => {
        let n = 0;
        for (let i = 0; i < devices.length; i += 500) {
          const chunk = devices.slice(i, i + 500);
          n += Number((await h.transaction((db: Kysely<unknown>) => sql`DELETE FROM detect_baselines WHERE device IN (${sql.join(chunk)})`.execute(db))).numAffectedRows ?? 0);
        }
        return n;
      }),
    count: () => guarded(async () => Number((await sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM detect_baselines`.execute(h.read)).rows[0]?.n ?? 0)),
    resealBaselines: (keyIds) =>
      guarded(async () => {
        const rows = (await sql<{ device: string; saved_at: number | string; snapshot: Uint8Array }>`SELECT device, saved_at, snapshot FROM detect_baselines`.execute(h.read)).rows;
        return resealSecretRows(at, PURPOSE, keyIds, rows.map((r) => ({ subject: r.device, sealed: r.snapshot, savedAt: Number(r.saved_at) })), h.transaction, async (db, r, resealed) =>
          Number((await sql`UPDATE detect_baselines SET snapshot = ${resealed} WHERE device = ${r.subject} AND saved_at = ${r.savedAt}`.execute(db)).numAffectedRows ?? 0),
        );
      }),
  };
}
