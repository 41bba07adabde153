/**
 * A search's deadline on PostgreSQL: its statements that may inspect many rows (a page
 * and its count, includes, a history's count: read-queries.ts) run on a pool of their own
 * (postgres-database.ts) whose connections have `statement_timeout` set. PostgreSQL
 * cancels a statement past it (SQLSTATE 57014, query_canceled) and its backend stops
 * working on it; the search fails `search-too-costly` (400), as on SQLite
 * (search-runner.ts). The pool's size bounds how many such statements run at once; the
 * vault's other work keeps its own pool, so costly searches never take its connections.
 *
 * A page and its count (`runThen`) read one snapshot, as on a SQLite search thread: they
 * run in one read-only REPEATABLE READ transaction (PostgreSQL takes its snapshot at the
 * transaction's first statement: "Transaction Isolation", §13.2.2 of its manual), so that
 * the total a Bundle reports was true of the rows it lists. The deadline covers both: the
 * count runs under `SET LOCAL statement_timeout` of what the page left of it.
 */
import type pg from 'pg';
import type { CompiledQuery } from 'kysely';
import { CustodiaError } from '../kernel/index.js';
import { pastDeadline, type SearchRunner } from './search-runner.js';

/** SQLSTATE query_canceled: statement_timeout (or an operator's pg_cancel_backend). */
const QUERY_CANCELED = '57014';

export function postgresSearchRunner(pool: pg.Pool, timeoutMs: number): SearchRunner {
  let closed = false;
  const translated = (e: unknown): unknown =>
    // Other driver errors keep their SQLSTATE, for db-errors.ts to translate.
    typeof e === 'object' && e !== null && (e as { code?: unknown }).code === QUERY_CANCELED ? pastDeadline(timeoutMs) : e;
  function open(): void {
    if (closed) throw new CustodiaError('storage-unavailable', 'The store is closed');
  }
  async function rows<R>(on: pg.Pool | pg.PoolClient, compiled: CompiledQuery<R>): Promise<R[]> {
    return (await on.query({ text: compiled.sql, values: [...compiled.parameters] })).rows as R[];
  }
  return {
    async run<R>(compiled: CompiledQuery<R>): Promise<R[]> {
      open();
      try {
        return await rows(pool, compiled);
      } catch (e) {
        throw translated(e);
      }
    },
    async runThen<R, T>(first: CompiledQuery<R>, above: number, then: CompiledQuery<T>) {
      open();
      const started = performance.now();
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
        const r = await rows(client, first);
        if (r.length <= above) {
          await client.query('COMMIT');
          return { rows: r };
        }
        const left = Math.floor(timeoutMs - (performance.now() - started));
        if (left < 1) throw pastDeadline(timeoutMs);
        // A whole number of milliseconds of our own making, never a caller's text.
        await client.query(`SET LOCAL statement_timeout = ${left}`);
        const thenRows = await rows(client, then);
        await client.query('COMMIT');
        return { rows: r, thenRows };
      } catch (e) {
        // An aborted transaction must not go back to the pool: roll it back, or drop the connection.
        await client.query('ROLLBACK').catch((rollback: unknown) => {
          broken = rollback instanceof Error ? rollback : new Error('ROLLBACK failed');
        });
        throw translated(e);
      } finally {
        client.release(broken);
      }
    },
    // PostgreSQL keeps the deadline itself.
    deadlineTerm: () => undefined,
    async close() {
      closed = true;
      await pool.end();
    },
  };
}
