/**
 * Durable commits without blocking the event loop. better-sqlite3 runs a COMMIT on the
 * main thread, and with `synchronous = FULL` that includes the fsync of the write-ahead
 * log: every write (and every batch of audited reads) would stall the whole server for an
 * fsync.
 *
 * Instead such a transaction commits with `synchronous = NORMAL` (its WAL frames are
 * written, not yet flushed) and then the WAL file itself is flushed with fdatasync on
 * libuv's thread pool; the callers are answered only after that returns. fsync applies to
 * the file, not the descriptor, so this flushes exactly what the commit wrote (and every
 * earlier frame): once it returns, the commit survives a power cut, as with FULL. If a
 * checkpoint ran in between, it synced the WAL and the database itself first (SQLite does
 * that in every synchronous mode). Requests arriving meanwhile join the next batch, so
 * the batches grow with the load and the flushes do not.
 *
 * A failed flush is final (fail-stop, as PostgreSQL PANICs on a failed WAL fsync): after
 * an fsync error Linux may mark the unwritten pages clean, so a later fsync can succeed
 * while frames before it are gone — and SQLite's recovery stops at the first bad frame,
 * dropping every frame after it. So once one flush fails, every later one fails with the
 * same error until the process restarts and SQLite recovers the log from what is really
 * on disk.
 *
 * Not for `:memory:` databases, which have no WAL file (and no durability to wait for).
 */
import { closeSync, fdatasyncSync, openSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { CustodiaError } from '../kernel/index.js';

export interface WalSync {
  /** Resolves once everything committed to the WAL so far is on stable storage; rejects for good once a flush has failed. */
  flush(): Promise<void>;
  /**
   * The same flush on the calling thread, blocking it (the audit writer thread, whose
   * whole job is to wait for it; a key store caller that needs a key another caller is
   * flushing); it shares the fail-stop with {@link flush}.
   */
  flushSync(): void;
  /** Throws the error of a failed flush, if one has failed: nothing committed after it may be called durable. */
  check(): void;
  close(): Promise<void>;
}

export function walSync(databasePath: string): WalSync | undefined {
  if (databasePath === ':memory:') return undefined;
  let handle: Promise<FileHandle> | undefined;
  let syncFd: number | undefined;
  let failure: unknown;
  const failed = (e: unknown): unknown => (failure ??= new CustodiaError('storage-unavailable', 'The database log could not be flushed to stable storage; nothing more is acknowledged until the server restarts', { cause: e }));
  // One flush at a time: callers who arrive while one runs (it may have begun before their
  // commit) share the next one, so a burst of commits costs two flushes, not one each.
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  const ignore = (): void => undefined;

  async function datasync(): Promise<void> {
    if (failure !== undefined) throw failure;
    // Opened on first use: the WAL file exists once the database has been written in WAL mode.
    // Failing to open it flushes nothing and loses nothing: the next flush tries again.
    handle ??= open(`${databasePath}-wal`, 'r+').catch((e: unknown) => {
      handle = undefined;
      throw e;
    });
    const file = await handle;
    try {
      await file.datasync();
    } catch (e) {
      throw failed(e);
    }
  }
  function start(): Promise<void> {
    const p = datasync();
    running = p;
    p.then(
      () => (running === p ? (running = undefined) : undefined),
      () => (running === p ? (running = undefined) : undefined),
    );
    return p;
  }
  return {
    flush() {
      if (running === undefined) return start();
      next ??= running.then(ignore, ignore).then(() => {
        next = undefined;
        return start();
      });
      return next;
    },
    flushSync() {
      if (failure !== undefined) throw failure;
      // As in datasync: a file that cannot be opened flushes nothing and loses nothing.
      syncFd ??= openSync(`${databasePath}-wal`, 'r+');
      try {
        fdatasyncSync(syncFd);
      } catch (e) {
        throw failed(e);
      }
    },
    check() {
      if (failure !== undefined) throw failure;
    },
    async close() {
      if (syncFd !== undefined) closeSync(syncFd);
      syncFd = undefined;
      const h = handle;
      handle = undefined;
      if (h !== undefined) await (await h).close().catch(() => undefined);
    },
  };
}
