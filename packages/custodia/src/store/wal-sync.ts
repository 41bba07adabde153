/**
 * Durable commits without blocking the event loop, for the audit ledger's own
 * transactions (one per batch of audited reads). better-sqlite3 runs a COMMIT on the main
 * thread, and with `synchronous = FULL` that includes the fsync of the write-ahead log:
 * every audited read would stall the whole server for an fsync.
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
 * Not for `:memory:` databases, which have no WAL file (and no durability to wait for).
 */
import { open, type FileHandle } from 'node:fs/promises';

export interface WalSync {
  /** Resolves once everything committed to the WAL so far is on stable storage. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function walSync(databasePath: string): WalSync | undefined {
  if (databasePath === ':memory:') return undefined;
  let handle: Promise<FileHandle> | undefined;
  return {
    async flush() {
      // Opened on first use: the WAL file exists once the database has been written in WAL mode.
      handle ??= open(`${databasePath}-wal`, 'r+');
      await (await handle).datasync();
    },
    async close() {
      const h = handle;
      handle = undefined;
      if (h !== undefined) await (await h).close().catch(() => undefined);
    },
  };
}
