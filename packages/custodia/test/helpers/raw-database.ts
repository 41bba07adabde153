/**
 * Raw SQL on a test database, outside the store: what someone holding the database file
 * or a PostgreSQL login can do (read bytes, edit rows, bypass the immutability triggers).
 * Tests use it to tamper with stored versions and to look at what is really stored.
 */
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type { TestDatabase } from './databases.js';

export interface RawDatabase {
  /** Runs one statement with `?` placeholders (turned into `$n` on PostgreSQL); rows for a SELECT. */
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs `fn` with the resource_versions immutability triggers out of the way (an attacker with the database can). */
  withVersionsUnlocked<T>(fn: () => Promise<T>): Promise<T>;
  /** The same for any tables (the ledger's append-only ones too). */
  withTablesUnlocked<T>(tables: readonly string[], fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function openRawDatabase(db: TestDatabase): Promise<RawDatabase> {
  if (db.name === 'sqlite') {
    const raw = new BetterSqlite3(db.options.database);
    raw.pragma('busy_timeout = 5000');
    // Whatever triggers the migrations put there: dropped, then recreated from their own SQL.
    const unlockSqlite = async <T>(tables: readonly string[], fn: () => Promise<T>): Promise<T> => {
      const triggers = tables.flatMap((t) => raw.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?").all(t) as { name: string; sql: string }[]);
      for (const t of triggers) raw.exec(`DROP TRIGGER "${t.name}"`);
      try {
        return await fn();
      } finally {
        for (const t of triggers) raw.exec(t.sql);
      }
    };
    const query = async <T>(text: string, params: readonly unknown[] = []): Promise<T[]> => {
      const stmt = raw.prepare(text);
      if (stmt.reader) return stmt.all(...params) as T[];
      stmt.run(...params);
      // A store open on the file keeps what it read while the store epoch stands still
      // (only the store advances it, store/sqlite-fast-path.ts): advanced here too, so that
      // it reads the changed rows, which is what these tests look at. (Without it a running
      // server serves the authentic versions it has cached; the change is found when it
      // next reads them, and by `custodia ledger verify`.)
      raw.prepare('UPDATE store_epoch SET n = n + 1').run();
      return [];
    };
    return {
      query,
      withVersionsUnlocked: (fn) => unlockSqlite(['resource_versions'], fn),
      withTablesUnlocked: (tables, fn) => unlockSqlite(tables, fn),
      async close() {
        raw.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: db.options.database });
  await client.connect();
  await client.query(`SET search_path TO ${db.options.schema}`);
  // Every user trigger on the tables, whatever the migrations named them.
  const unlockPostgres = async <T>(tables: readonly string[], fn: () => Promise<T>): Promise<T> => {
    for (const t of tables) await client.query(`ALTER TABLE ${t} DISABLE TRIGGER USER`);
    try {
      return await fn();
    } finally {
      for (const t of tables) await client.query(`ALTER TABLE ${t} ENABLE TRIGGER USER`);
    }
  };
  const query = async <T>(text: string, params: readonly unknown[] = []): Promise<T[]> => {
    let n = 0;
    const r = await client.query(
      text.replace(/\?/g, () => `$${++n}`),
      params as unknown[],
    );
    return r.rows as T[];
  };
  return {
    query,
    withVersionsUnlocked: (fn) => unlockPostgres(['resource_versions'], fn),
    withTablesUnlocked: (tables, fn) => unlockPostgres(tables, fn),
    async close() {
      await client.end();
    },
  };
}
