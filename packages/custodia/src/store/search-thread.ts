/**
 * A search thread (SQLite files): runs a search's statements that may inspect many rows —
 * its page of keys and its count (read-queries.ts `search`) — on a read-only connection of
 * its own, so that a search no index serves (`:text`, `:not`, `_sort` over a large type, a
 * count over millions of rows) holds this thread and not the event loop that serves every
 * other request. better-sqlite3 is synchronous: on the event loop such a statement stopped
 * the whole server for as long as it ran.
 *
 * Isolation: WAL lets this connection read beside the vault's writer. Each statement reads
 * the database as last committed when it starts, so a search sees every write whose caller
 * has been answered (commits are visible to other connections at once; durability is a
 * separate matter, wal-sync.ts). Searches inside a write transaction (conditional
 * operations, transaction bundles) must see that transaction's own rows and do not come here.
 *
 * Stopping a statement at its deadline: better-sqlite3 offers neither sqlite3_interrupt nor
 * a progress handler, so the thread defines a SQL function, {@link IN_TIME_FUNCTION},
 * that the search's statements call as they go through the rows they inspect
 * (search-runner.ts `inTimeTerm`). It reads a word the vault sets when the deadline
 * passes, and once it is set, it throws: SQLite abandons the statement, and the thread is
 * free again within a few hundred rows of the deadline instead of holding a core until
 * the statement's end.
 *
 * Input: the statements come from this process (search-runner.ts), compiled by kysely from
 * a parsed and checked query; the values a caller sent are bound parameters, never SQL
 * text. Rows go back as they are (keys and counts, no patient data).
 */
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { BUSY_TIMEOUT_MS } from './sqlite-write-lock.js';
import { IN_TIME_FUNCTION, STOPPED_AT_DEADLINE } from './search-deadline.js';

export interface SearchThreadData {
  readonly role: 'search';
  readonly path: string;
  /** One Int32 word: set (not 0) by the vault once the statement running here is past its deadline; cleared before the next is sent. */
  readonly stop: SharedArrayBuffer;
}

/**
 * One statement to run: kysely's compiled SQL and its parameters; with `then`, a second
 * one run in the same read transaction (one snapshot) when the first returned more than
 * `then.above` rows (a search's count, needed only when its page does not hold every match).
 */
export interface SearchStatement {
  readonly id: number;
  readonly sql: string;
  readonly parameters: readonly unknown[];
  readonly then?: { readonly sql: string; readonly parameters: readonly unknown[]; readonly above: number };
}

/**
 * Its rows, or the driver's error (code and message; the runner translates it as db-errors.ts
 * does); first of all, once the connection is open, that the thread is ready.
 */
export type SearchReply = { readonly ready: true } | { readonly id: number; readonly rows: unknown[]; readonly thenRows?: unknown[] } | { readonly id: number; readonly error: { readonly code: string; readonly message: string } };

/** Prepared statements kept, by SQL text (a search's SQL varies with its parameters' shape, not their values). */
const STATEMENTS = 256;

/** A parameter as better-sqlite3 binds it: a byte array that crossed the thread boundary is a Uint8Array, not a Buffer. */
const bindable = (v: unknown): unknown => (v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v);

function run(data: SearchThreadData, port: MessagePort): void {
  const db = new BetterSqlite3(data.path, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  const stop = new Int32Array(data.stop);
  // Called by the statements themselves (never by a value a caller sent: `directOnly`); throwing abandons the statement.
  db.function(IN_TIME_FUNCTION, { deterministic: false, directOnly: true }, () => {
    if (Atomics.load(stop, 0) !== 0) throw Object.assign(new Error('stopped at its deadline'), { code: STOPPED_AT_DEADLINE });
    return 1;
  });
  const prepared = new Map<string, BetterSqlite3.Statement>();
  const statement = (text: string): BetterSqlite3.Statement => {
    let s = prepared.get(text);
    if (s === undefined) {
      s = db.prepare(text);
      if (prepared.size >= STATEMENTS) prepared.delete(prepared.keys().next().value!);
      prepared.set(text, s);
    }
    return s;
  };
  const all = (text: string, parameters: readonly unknown[]): unknown[] => statement(text).all(...parameters.map(bindable));
  // A read transaction (BEGIN, not IMMEDIATE: a read-only connection takes no write lock), so that both statements read one snapshot.
  const both = db.transaction((m: SearchStatement): SearchReply => {
    const rows = all(m.sql, m.parameters);
    return m.then === undefined || rows.length <= m.then.above ? { id: m.id, rows } : { id: m.id, rows, thenRows: all(m.then.sql, m.then.parameters) };
  });
  port.on('message', (m: SearchStatement) => {
    let reply: SearchReply;
    try {
      reply = m.then === undefined ? { id: m.id, rows: all(m.sql, m.parameters) } : both(m);
    } catch (e) {
      const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
      reply = { id: m.id, error: { code, message: e instanceof Error ? e.message.slice(0, 300) : 'the search failed' } };
    }
    port.postMessage(reply);
  });
  port.postMessage({ ready: true } satisfies SearchReply);
}

// Only as search-runner.ts starts it (another worker that imports this module has other data).
const given = workerData as Partial<SearchThreadData> | null;
if (!isMainThread && parentPort !== null && given?.role === 'search' && typeof given.path === 'string' && given.stop instanceof SharedArrayBuffer) run(given as SearchThreadData, parentPort);
