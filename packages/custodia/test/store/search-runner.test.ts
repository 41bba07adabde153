/**
 * The search threads (store/search-runner.ts, store/search-thread.ts) on a SQLite file:
 * statements run off the event loop with their parameters bound (bytes included); a
 * statement past its deadline fails `search-too-costly` at the deadline, while the event
 * loop and the pool's other thread go on serving; a statement that looks at its deadline
 * (the term searches carry) stops there and frees its thread; one that does not is given
 * up and its thread replaced within the pool's bound; driver errors keep their SQLite code (db-errors.ts translates them);
 * a thread that cannot open the database fails the search instead of leaving it waiting;
 * closing fails what is queued and what comes after.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect } from 'kysely';
import { searchRunner, type SearchRunner } from '../../src/store/search-runner.js';
import { isCustodiaError } from '../../src/kernel/index.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const built = existsSync(fileURLToPath(new URL('../../dist/store/search-thread.js', import.meta.url)));

/** A statement that runs for seconds: a recursive count to 50 million (about 4 s here). */
const SLOW = CompiledQuery.raw('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000000) SELECT COUNT(*) AS n FROM c', []);
const cheap = (n: number): CompiledQuery<{ n: number }> => CompiledQuery.raw('SELECT n FROM t WHERE n = ?', [n]);

describe.skipIf(!built)('search threads (SQLite file)', () => {
  const tempDir = tempDirs('custodia-search-threads-');
  let dir: string;
  let path: string;
  let runner: SearchRunner | undefined;

  beforeEach(() => {
    dir = tempDir();
    path = join(dir, 'custodia.db');
    const db = new BetterSqlite3(path);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY, b BLOB)');
    const insert = db.prepare('INSERT INTO t (n, b) VALUES (?, ?)');
    for (let n = 1; n <= 100; n++) insert.run(n, Buffer.from([n, 0, 255]));
    db.close();
  });

  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  it('runs statements with their parameters bound, bytes included, and sees what was committed before', async () => {
    runner = searchRunner(path, 5_000)!;
    expect(runner).toBeDefined();
    expect(await runner.run(cheap(7))).toEqual([{ n: 7 }]);
    const bytes = await runner.run<{ n: number }>(CompiledQuery.raw('SELECT n FROM t WHERE b = ?', [Buffer.from([42, 0, 255])]));
    expect(bytes).toEqual([{ n: 42 }]);
    // A write committed on another connection after the thread opened its own.
    const db = new BetterSqlite3(path);
    db.prepare('INSERT INTO t (n, b) VALUES (?, ?)').run(1000, null);
    db.close();
    expect(await runner.run(cheap(1000))).toEqual([{ n: 1000 }]);
  });

  it('runs a second statement in the same hand-off only when the first returned more rows than asked', async () => {
    runner = searchRunner(path, 5_000)!;
    const first: CompiledQuery<{ n: number }> = CompiledQuery.raw('SELECT n FROM t WHERE n <= ? ORDER BY n', [4]);
    const count: CompiledQuery<{ c: number }> = CompiledQuery.raw('SELECT COUNT(*) AS c FROM t', []);
    expect(await runner.runThen(first, 3, count)).toEqual({ rows: [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }], thenRows: [{ c: 100 }] });
    expect(await runner.runThen(first, 4, count)).toEqual({ rows: [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }] });
  });

  it('fails a statement past its deadline with search-too-costly, while the event loop and the other thread go on', async () => {
    runner = searchRunner(path, 300, 2)!;
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const started = performance.now();
    const slow = runner.run(SLOW).then(
      () => 'finished',
      (e: unknown) => e,
    );
    // The pool's other thread answers while the slow statement runs.
    expect(await runner.run(cheap(3))).toEqual([{ n: 3 }]);
    const failure = await slow;
    const waited = performance.now() - started;
    clearInterval(timer);
    expect(isCustodiaError(failure) && failure.code).toBe('search-too-costly');
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(2_000);
    // The event loop was not held: a 10 ms timer fired through the wait.
    expect(ticks).toBeGreaterThan(waited / 10 / 4);
    // A thread replaces the one given up (whose statement still runs to its end).
    expect(await runner.run(cheap(4))).toEqual([{ n: 4 }]);
    expect(await runner.run(cheap(5))).toEqual([{ n: 5 }]);
  }, 20_000);

  it('queues searches beyond the bound on threads given up until one ends, and answers them then', async () => {
    runner = searchRunner(path, 100, 1)!;
    // One thread, one given up at most: two slow statements past their deadline fill the bound.
    const failures = await Promise.all([runner.run(SLOW), runner.run(SLOW)].map((p) => p.then(() => 'finished', (e: unknown) => (isCustodiaError(e) ? e.code : e))));
    expect(failures).toEqual(['search-too-costly', 'search-too-costly']);
    // Answered once a given-up thread has ended its statement and exited.
    expect(await runner.run(cheap(9))).toEqual([{ n: 9 }]);
  }, 60_000);

  it('stops a statement that looks at its deadline, and its thread takes the next statement at once', async () => {
    runner = searchRunner(path, 200, 1)!;
    // The same count, looking at the deadline as it goes through the rows (as a search's statements do).
    const term = runner.deadlineTerm('c.x')!.compile(new Kysely({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) })).sql;
    const watched = CompiledQuery.raw(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE ${term} AND x < 50000000) SELECT COUNT(*) AS n FROM c`, []);
    const started = performance.now();
    // One thread and one given up at most: had the two statements run to their end (seconds
    // each, the test above), the third would wait for the first of them.
    const failures = await Promise.all([runner.run(watched), runner.run(watched)].map((p) => p.then(() => 'finished', (e: unknown) => (isCustodiaError(e) ? e.code : e))));
    expect(failures).toEqual(['search-too-costly', 'search-too-costly']);
    expect(await runner.run(cheap(9))).toEqual([{ n: 9 }]);
    expect(performance.now() - started).toBeLessThan(2_000);
    // Within its deadline the term lets every row through.
    expect(await runner.run(CompiledQuery.raw(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE ${term} AND x < 100000) SELECT COUNT(*) AS n FROM c`, []))).toEqual([{ n: 100000 }]);
  }, 20_000);

  it('takes only our own column names into a deadline term', () => {
    runner = searchRunner(path, 5_000)!;
    expect(() => runner!.deadlineTerm('r.pk); DROP TABLE t; --')).toThrow();
  });

  it('keeps the SQLite code of a driver error, for db-errors.ts to translate', async () => {
    runner = searchRunner(path, 5_000)!;
    await expect(runner.run(CompiledQuery.raw('SELECT * FROM no_such_table', []))).rejects.toMatchObject({ code: 'SQLITE_ERROR' });
    // The thread goes on after an error.
    expect(await runner.run(cheap(2))).toEqual([{ n: 2 }]);
  });

  it('fails what is queued and what comes after once closed', async () => {
    runner = searchRunner(path, 5_000, 1)!;
    const first = runner.run(cheap(1)).catch(() => undefined);
    const queued = runner.run(cheap(2)).then(
      () => 'answered',
      (e: unknown) => (isCustodiaError(e) ? e.code : e),
    );
    await runner.close();
    expect(['answered', 'storage-unavailable']).toContain(await queued);
    await first;
    await expect(runner.run(cheap(3))).rejects.toMatchObject({ code: 'storage-unavailable' });
    runner = undefined;
  });

  it('fails a search, rather than let it wait, when no thread can open the database', async () => {
    runner = searchRunner(join(dir, 'missing.db'), 5_000, 1)!;
    await expect(runner.run(cheap(1))).rejects.toMatchObject({ code: 'storage-unavailable' });
    await expect(runner.run(cheap(2))).rejects.toMatchObject({ code: 'storage-unavailable' });
  });

  it('is not made for a database in memory', () => {
    expect(searchRunner(':memory:')).toBeUndefined();
  });
});
