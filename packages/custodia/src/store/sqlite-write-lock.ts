/**
 * Taking SQLite's write lock (BEGIN IMMEDIATE) on the server's writer without blocking the
 * event loop. While another connection holds the lock — the audit writer thread's commit
 * (ledger-append-thread.ts), another process — SQLite's busy handler sleeps on the calling
 * thread, 1 ms, then 2, 5, 10 and more, and the server answers nothing meanwhile. Instead
 * the attempt is made with no busy wait and, while the lock is taken, made again after a
 * timer, the event loop serving other requests in between; for up to the connection's
 * usual busy timeout, after which SQLITE_BUSY stands (db-errors.ts: `storage-unavailable`).
 */
import { isSqliteBusy } from './db-errors.js';

/** A connection whose busy timeout can be set (better-sqlite3's Database). */
interface BusyTimeout {
  pragma(source: string): unknown;
}

/** How long a connection of the vault waits for a lock another connection holds before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 10_000;

/** Between attempts (Node's timers do not go below a millisecond). */
const RETRY_MS = 1;

/** Runs `begin` (BEGIN IMMEDIATE on `writer`) until it takes the lock or `timeoutMs` has passed; the busy timeout is `timeoutMs` again afterwards. */
export async function beginImmediate(writer: BusyTimeout, begin: () => Promise<unknown>, timeoutMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    // Through pragma() every time (about 3 µs each): SQLite applies PRAGMA busy_timeout as it
    // compiles the statement, so a prepared one run again would change nothing.
    writer.pragma('busy_timeout = 0');
    try {
      await begin();
      return;
    } catch (e) {
      if (!isSqliteBusy(e) || Date.now() - started >= timeoutMs) throw e;
    } finally {
      writer.pragma(`busy_timeout = ${timeoutMs}`);
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}
