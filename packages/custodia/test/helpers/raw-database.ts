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
  close(): Promise<void>;
}

export async function openRawDatabase(db: TestDatabase): Promise<RawDatabase> {
  if (db.name === 'sqlite') {
    const raw = new BetterSqlite3(db.options.database);
    raw.pragma('busy_timeout = 5000');
    const query = async <T>(text: string, params: readonly unknown[] = []): Promise<T[]> => {
      const stmt = raw.prepare(text);
      if (stmt.reader) return stmt.all(...params) as T[];
      stmt.run(...params);
      return [];
    };
    return {
      query,
      async withVersionsUnlocked(fn) {
        // Whatever triggers the migrations put there: dropped, then recreated from their own SQL.
        const triggers = raw.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'resource_versions'").all() as { name: string; sql: string }[];
        for (const t of triggers) raw.exec(`DROP TRIGGER "${t.name}"`);
        try {
          return await fn();
        } finally {
          for (const t of triggers) raw.exec(t.sql);
        }
      },
      async close() {
        raw.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: db.options.database });
  await client.connect();
  await client.query(`SET search_path TO ${db.options.schema}`);
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
    async withVersionsUnlocked(fn) {
      // Every user trigger on the table, whatever the migrations named them.
      await client.query('ALTER TABLE resource_versions DISABLE TRIGGER USER');
      try {
        return await fn();
      } finally {
        await client.query('ALTER TABLE resource_versions ENABLE TRIGGER USER');
      }
    },
    async close() {
      await client.end();
    },
  };
}
