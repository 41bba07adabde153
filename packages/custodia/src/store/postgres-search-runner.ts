/**
 * A search's deadline on PostgreSQL: its statements that may inspect many rows (a page
 * and its count, includes, a history's count: read-queries.ts) run on a pool of their own
 * (postgres-database.ts) whose connections have `statement_timeout` set. PostgreSQL
 * cancels a statement past it (SQLSTATE 57014, query_canceled) and its backend stops
 * working on it; the search fails `search-too-costly` (400), as on SQLite
 * (search-runner.ts). The pool's size bounds how many such statements run at once; the
 * vault's other work keeps its own pool, so costly searches never take its connections.
 *
 * A page and its count are two statements, as before this pool: each reads the database
 * as committed when it starts (READ COMMITTED).
 */
import type pg from 'pg';
import type { CompiledQuery } from 'kysely';
import { CustodiaError } from '../kernel/index.js';
import { pastDeadline, type SearchRunner } from './search-runner.js';

/** SQLSTATE query_canceled: statement_timeout (or an operator's pg_cancel_backend). */
const QUERY_CANCELED = '57014';

export function postgresSearchRunner(pool: pg.Pool, timeoutMs: number): SearchRunner {
  let closed = false;
  async function rows<R>(compiled: CompiledQuery<R>): Promise<R[]> {
    if (closed) throw new CustodiaError('storage-unavailable', 'The store is closed');
    try {
      return (await pool.query({ text: compiled.sql, values: [...compiled.parameters] })).rows as R[];
    } catch (e) {
      // Other driver errors keep their SQLSTATE, for db-errors.ts to translate.
      if (typeof e === 'object' && e !== null && (e as { code?: unknown }).code === QUERY_CANCELED) throw pastDeadline(timeoutMs);
      throw e;
    }
  }
  return {
    run: rows,
    async runThen(first, above, then) {
      const r = await rows(first);
      return r.length <= above ? { rows: r } : { rows: r, thenRows: await rows(then) };
    },
    // PostgreSQL keeps the deadline itself.
    deadlineTerm: () => undefined,
    async close() {
      closed = true;
      await pool.end();
    },
  };
}
