/**
 * How often SQLite copies the write-ahead log back into the database file (a checkpoint),
 * on every connection of the vault that writes: the server's writer
 * (sqlite-database.ts) and the audit writer thread (ledger-append-thread.ts).
 *
 * SQLite's default checkpoints once the WAL holds 1,000 pages (4 MB). Each audited read
 * added a row to a B-tree ordered by patient (`audit_patients`, since migration 0024
 * through a tail in log order merged in bulk; until migration 0023 also
 * to the `key_id` index of `ledger_leaves`): with reads spread over many patients, each
 * row dirties a page of its own, and a checkpoint every 1,000 frames copies nearly every
 * one of those pages back, again and again. Measured once, with a scratch script (not kept), on the bench
 * machine: a copy of the bench's audited vault after its Synthea import, and the thread's
 * inserts and commits for 1,200 patients in batches of 40, each followed by an fdatasync.
 * At 1,000 pages the checkpoint was 40% of the commit time; at 10,000 pages the commit
 * cost per record fell from 51 µs to 22 µs, because a page written many times between
 * checkpoints is copied back once.
 *
 * What it costs: the WAL grows to about 40 MB before it is reset (a checkpoint resets it
 * only when no reader still needs it, as before), and a crash recovery reads at most that
 * much. `journal_size_limit` truncates a WAL that a long import grew well past that size
 * back down once it is reset, so that the disk is given back.
 *
 * A checkpoint is PASSIVE (SQLite's automatic kind): it never waits for readers and never
 * changes what a commit guarantees — the WAL is flushed before the database file is
 * written, in every synchronous mode.
 */

/** WAL pages (4 KiB each) after which a commit runs a checkpoint. */
export const WAL_CHECKPOINT_PAGES = 10_000;
/** A WAL reset larger than this (bytes) is truncated to it. */
export const WAL_SIZE_LIMIT = 64 * 1024 * 1024;

/** A connection that takes pragmas (better-sqlite3's Database). */
interface Pragmas {
  pragma(source: string): unknown;
}

/** Applies the checkpoint policy to a connection that writes. */
export function checkpointPolicy(db: Pragmas): void {
  db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
  db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
}

/** WAL pages between checkpoints during a bulk load (an import): about 400 MB. */
export const BULK_LOAD_CHECKPOINT_PAGES = 100_000;

/**
 * A bulk load on `db`: each automatic checkpoint copies the WAL into the database and
 * fsyncs it, most of a bulk load's I/O, so it checkpoints ten times less often still. The
 * function returned ends it: one checkpoint that truncates the WAL, and the policy above again.
 */
export function enterBulkLoad(db: Pragmas): () => void {
  db.pragma(`wal_autocheckpoint = ${BULK_LOAD_CHECKPOINT_PAGES}`);
  return () => {
    checkpointPolicy(db);
    db.pragma('wal_checkpoint(TRUNCATE)');
  };
}
