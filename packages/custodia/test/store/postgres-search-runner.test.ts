/**
 * A search's deadline on PostgreSQL (store/postgres-search-runner.ts): the search pool's
 * connections carry `statement_timeout`, PostgreSQL cancels a statement past it and the
 * search fails `search-too-costly` at the deadline; the pool goes on serving; other driver
 * errors keep their SQLSTATE for db-errors.ts. Runs when CUSTODIA_TEST_POSTGRES_URL is set.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CompiledQuery } from 'kysely';
import { openPostgres } from '../../src/store/postgres-database.js';
import { postgresSearchRunner } from '../../src/store/postgres-search-runner.js';
import type { SearchRunner } from '../../src/store/search-runner.js';
import { isCustodiaError } from '../../src/kernel/index.js';
import { POSTGRES_URL } from '../helpers/databases.js';

describe.skipIf(POSTGRES_URL === undefined)('search deadline (PostgreSQL)', () => {
  let runner: SearchRunner | undefined;
  let close: (() => Promise<void>) | undefined;

  function open(timeoutMs: number): SearchRunner {
    const { db, searchPool } = openPostgres({ url: POSTGRES_URL!, searchTimeoutMs: timeoutMs });
    runner = postgresSearchRunner(searchPool, timeoutMs);
    close = () => db.destroy();
    return runner;
  }

  afterEach(async () => {
    await runner?.close();
    await close?.();
    runner = undefined;
    close = undefined;
  });

  it('fails a statement past its deadline with search-too-costly, at the deadline, and goes on serving', async () => {
    const r = open(300);
    const show: CompiledQuery<{ statement_timeout: string }> = CompiledQuery.raw('SHOW statement_timeout', []);
    expect(await r.run(show)).toEqual([{ statement_timeout: '300ms' }]);
    const started = performance.now();
    const failure = await r.run(CompiledQuery.raw('SELECT pg_sleep(5)', [])).then(
      () => 'finished',
      (e: unknown) => e,
    );
    const waited = performance.now() - started;
    expect(isCustodiaError(failure) && failure.code).toBe('search-too-costly');
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(3_000);
    const seven: CompiledQuery<{ n: number }> = CompiledQuery.raw('SELECT $1::int AS n', [7]);
    expect(await r.run(seven)).toEqual([{ n: 7 }]);
    // The page's count runs only when the page holds more rows than asked for.
    const page: CompiledQuery<{ n: number }> = CompiledQuery.raw('SELECT generate_series(1, 4) AS n', []);
    const count: CompiledQuery<{ c: number }> = CompiledQuery.raw('SELECT 100 AS c', []);
    expect(await r.runThen(page, 3, count)).toEqual({ rows: [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }], thenRows: [{ c: 100 }] });
    expect(await r.runThen(page, 4, count)).toEqual({ rows: [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }] });
  }, 20_000);

  it('keeps the SQLSTATE of other driver errors, and needs no deadline term', async () => {
    const r = open(5_000);
    await expect(r.run(CompiledQuery.raw('SELECT * FROM no_such_table', []))).rejects.toMatchObject({ code: '42P01' });
    expect(r.deadlineTerm('r.pk')).toBeUndefined();
  });

  it('refuses a timeout that is not a whole number of milliseconds', () => {
    expect(() => openPostgres({ url: POSTGRES_URL!, searchTimeoutMs: 0.5 })).toThrow(/whole number/);
  });
});
