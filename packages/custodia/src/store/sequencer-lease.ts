/**
 * One sequencer per log (issue 5 §2): when several servers share a PostgreSQL database,
 * the one holding a session-level advisory lock on `custodia.sequencer.<schema>` integrates
 * leaves and signs checkpoints; the others only append (their entries are integrated by
 * the holder). The lock lives as long as its connection: if the holder dies, PostgreSQL
 * frees it and the next server to ask takes over. Correctness does not depend on it —
 * integration succeeds only from the size it read (ledger-log.ts `integrate`) — it keeps
 * servers from racing to sign the same checkpoints.
 */
import type pg from 'pg';

export interface SequencerLease {
  /** True while this process holds the lease; takes it when it is free. */
  acquire(): Promise<boolean>;
  release(): Promise<void>;
}

export function sequencerLease(pool: pg.Pool): SequencerLease {
  let holder: pg.PoolClient | undefined;
  let trying: Promise<boolean> | undefined;
  return {
    acquire() {
      if (holder !== undefined) return Promise.resolve(true);
      trying ??= (async () => {
        const client = await pool.connect();
        try {
          const r = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtext('custodia.sequencer.' || current_schema())) AS ok");
          if (r.rows[0]?.ok === true) {
            holder = client;
            // A lost connection loses the lock: ask again next time.
            client.once('error', () => (holder = undefined));
            return true;
          }
          client.release();
          return false;
        } catch (e) {
          client.release(true);
          throw e;
        }
      })().finally(() => (trying = undefined));
      return trying;
    },
    async release() {
      const h = holder;
      holder = undefined;
      if (h === undefined) return;
      try {
        await h.query("SELECT pg_advisory_unlock(hashtext('custodia.sequencer.' || current_schema()))");
      } finally {
        h.release();
      }
    },
  };
}
