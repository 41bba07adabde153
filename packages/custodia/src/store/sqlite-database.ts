/**
 * Embedded SQLite through better-sqlite3 12. One connection writes (serialised by
 * kysely's connection mutex and `BEGIN IMMEDIATE`), another reads, so readers never wait
 * for a writer and never see uncommitted rows (WAL gives each read statement a snapshot).
 * `synchronous = FULL` makes every COMMIT durable (fsync of the WAL) before it returns,
 * so a response is only sent for data that survives a crash or power loss.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { BUSY_TIMEOUT_MS } from './sqlite-write-lock.js';
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import type { Database } from './schema.js';
import { checkpointPolicy } from './wal-checkpoints.js';

/** Prepared statements are cached by SQL text: the store's SQL is a small fixed set. */
function withStatementCache(db: BetterSqlite3.Database, max = 512): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => db.close(),
    prepare(sqlText: string): SqliteStatement {
      let stmt = cache.get(sqlText);
      if (stmt === undefined) {
        stmt = db.prepare(sqlText) as unknown as SqliteStatement;
        if (cache.size >= max) cache.delete(cache.keys().next().value as string);
        cache.set(sqlText, stmt);
      }
      return stmt;
    },
  };
}

export interface SqliteHandles {
  readonly write: Kysely<Database>;
  readonly read: Kysely<Database>;
  /** The raw connections, for the adapter's synchronous fast paths. */
  readonly writer: BetterSqlite3.Database;
  readonly reader: BetterSqlite3.Database;
  close(): Promise<void>;
}

export function openSqlite(path: string): SqliteHandles {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const writer = new BetterSqlite3(path, { timeout: BUSY_TIMEOUT_MS });
  writer.pragma('journal_mode = WAL');
  writer.pragma('synchronous = FULL');
  writer.pragma('foreign_keys = ON');
  checkpointPolicy(writer);
  const reader = path === ':memory:' ? writer : new BetterSqlite3(path, { timeout: BUSY_TIMEOUT_MS, readonly: false });
  if (reader !== writer) {
    reader.pragma('foreign_keys = ON');
    reader.pragma('query_only = ON');
  }
  const write = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(writer) }) });
  const read = reader === writer ? write : new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(reader) }) });
  return {
    write,
    read,
    writer,
    reader,
    async close() {
      if (read !== write) await read.destroy();
      await write.destroy();
    },
  };
}
