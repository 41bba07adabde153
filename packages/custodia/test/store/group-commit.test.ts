/**
 * Group commit (store/group-commit.ts) over a real SQLite connection: writers that arrive
 * together share one transaction, each in its own savepoint; with nobody else in flight
 * the COMMIT is durable in itself; while others are in flight the flush is deferred, the
 * writers are answered only once their flush has returned, and the next batch commits
 * meanwhile; a failed flush fails its batch (a job that failed keeps its own error).
 */
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, sql, SqliteDialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { InFlight } from '../../src/kernel/index.js';
import { GroupCommit } from '../../src/store/group-commit.js';

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers) await c();
});

interface Flush {
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

function harness(othersWaiting?: (jobs: number) => boolean) {
  const raw = new BetterSqlite3(':memory:');
  raw.exec('CREATE TABLE t (v INTEGER)');
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: raw }) });
  closers.push(() => db.destroy());
  const commits: { deferFlush: boolean; rows: number }[] = [];
  const flushes: Flush[] = [];
  const group = new GroupCommit(
    (body, _touchesData, deferFlush) =>
      db.connection().execute(async (conn) => {
        await sql`BEGIN IMMEDIATE`.execute(conn);
        try {
          const r = await body(conn);
          await sql`COMMIT`.execute(conn);
          commits.push({ deferFlush, rows: Number(raw.prepare('SELECT COUNT(*) FROM t').pluck().get()) });
          return r;
        } catch (e) {
          await sql`ROLLBACK`.execute(conn);
          throw e;
        }
      }),
    64,
    othersWaiting === undefined ? undefined : { flush: () => new Promise<void>((resolve, reject) => flushes.push({ resolve, reject })), othersWaiting },
  );
  const insert = (v: number) => group.submit(async (conn) => (await sql`INSERT INTO t (v) VALUES (${v})`.execute(conn), v));
  return { group, commits, flushes, insert, rows: () => Number(raw.prepare('SELECT COUNT(*) FROM t').pluck().get()) };
}

/** Settles what is pending and reports whether `p` has resolved, without waiting for it. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  return done;
}

async function until(test: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !test(); i++) await new Promise((r) => setImmediate(r));
  expect(test()).toBe(true);
}

describe('GroupCommit', () => {
  it('writers that arrive together share one commit, and each is answered after it', async () => {
    const h = harness();
    await expect(Promise.all([h.insert(1), h.insert(2), h.insert(3)])).resolves.toEqual([1, 2, 3]);
    expect(h.commits).toEqual([{ deferFlush: false, rows: 3 }]);
  });

  it('with nobody else in flight the COMMIT is durable itself; with others in flight the flush is deferred', async () => {
    const inFlight = new InFlight();
    const seen: number[] = [];
    const h = harness((jobs) => (seen.push(jobs), inFlight.count > jobs));
    const own = inFlight.enter();
    await h.insert(1);
    expect(h.commits.at(-1)).toEqual({ deferFlush: false, rows: 1 });
    expect(h.flushes).toHaveLength(0);
    const other = inFlight.enter();
    const w = h.insert(2);
    // What a job sees: the batch's decision, which its own durable work (a new data key) follows.
    const asking = inFlight.enter();
    const seenByJob = h.group.submit(async () => h.group.deferring);
    await until(() => h.flushes.length === 1);
    expect(h.commits.at(-1)).toEqual({ deferFlush: true, rows: 2 });
    h.flushes[0]!.resolve();
    await expect(w).resolves.toBe(2);
    await expect(seenByJob).resolves.toBe(true);
    expect(h.group.deferring).toBe(false);
    asking();
    // Three writers together, three requests in flight: nobody else waits.
    inFlight.enter();
    await Promise.all([h.insert(3), h.insert(4), h.insert(5)]);
    expect(h.commits.at(-1)).toEqual({ deferFlush: false, rows: 5 });
    expect(seen.at(-1)).toBe(3);
    own();
    other();
  });

  it('a deferred batch is answered only when its flush returns; the next batch commits meanwhile', async () => {
    const h = harness(() => true);
    const a = h.insert(1);
    await until(() => h.flushes.length === 1);
    expect(h.rows()).toBe(1);
    expect(await settled(a)).toBe(false);
    const b = h.insert(2);
    await until(() => h.flushes.length === 2);
    expect(h.commits.map((c) => c.rows)).toEqual([1, 2]);
    expect(await settled(b)).toBe(false);
    h.flushes[0]!.resolve();
    await expect(a).resolves.toBe(1);
    expect(await settled(b)).toBe(false);
    h.flushes[1]!.resolve();
    await expect(b).resolves.toBe(2);
  });

  it('a failed flush fails the batch: its writers get the flush error, a job that failed keeps its own', async () => {
    const h = harness(() => true);
    const ok = h.insert(1);
    const own = h.group.submit(async () => {
      throw new Error('own failure');
    });
    await until(() => h.flushes.length === 1);
    h.flushes[0]!.reject(new Error('flush failed'));
    await expect(ok).rejects.toThrow('flush failed');
    await expect(own).rejects.toThrow('own failure');
  });
});
