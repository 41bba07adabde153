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

  it('reads a page and its count in one snapshot, and the deadline covers both', async () => {
    const r = open(1_500);
    const { db, pool, searchPool } = openPostgres({ url: POSTGRES_URL!, searchTimeoutMs: 1_500 });
    const table = `snapshot_probe_${process.pid}_${Date.now()}`;
    try {
      await pool.query(`CREATE TABLE ${table} (n int)`);
      await pool.query(`INSERT INTO ${table} SELECT generate_series(1, 5)`);
      // The page reads slowly; a row committed while it runs must not reach its count.
      const page: CompiledQuery<{ n: number }> = CompiledQuery.raw(`SELECT n FROM ${table}, pg_sleep(0.4) ORDER BY n`, []);
      const count: CompiledQuery<{ c: number }> = CompiledQuery.raw(`SELECT count(*)::int AS c FROM ${table}`, []);
      const reading = r.runThen(page, 2, count);
      await new Promise((done) => setTimeout(done, 150));
      await pool.query(`INSERT INTO ${table} VALUES (6)`);
      const read = await reading;
      expect(read.rows).toHaveLength(5);
      expect(read.thenRows).toEqual([{ c: 5 }]);
      // Read afresh, the new row is there.
      expect((await r.runThen(page, 2, count)).thenRows).toEqual([{ c: 6 }]);
      // 0.9 s of page and 0.9 s of count: each under the deadline, together over it.
      const slowPage: CompiledQuery<{ n: number }> = CompiledQuery.raw(`SELECT n FROM ${table}, pg_sleep(0.9) ORDER BY n`, []);
      const slowCount: CompiledQuery<{ c: number }> = CompiledQuery.raw('SELECT 1 AS c FROM pg_sleep(0.9)', []);
      const started = performance.now();
      const failure = await r.runThen(slowPage, 2, slowCount).then(
        () => 'finished',
        (e: unknown) => e,
      );
      expect(isCustodiaError(failure) && failure.code).toBe('search-too-costly');
      expect(performance.now() - started).toBeLessThan(1_750);
      // The connection went back to the pool usable: no transaction left open on it.
      for (let i = 0; i < 6; i++) expect(await r.run(CompiledQuery.raw('SELECT 1 AS one', []))).toEqual([{ one: 1 }]);
      const open = await pool.query(`SELECT count(*)::int AS c FROM pg_stat_activity WHERE application_name = 'custodia-search' AND state LIKE 'idle in transaction%'`);
      expect(open.rows).toEqual([{ c: 0 }]);
    } finally {
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      await searchPool.end();
      await db.destroy();
    }
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
