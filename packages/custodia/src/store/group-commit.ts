/**
 * Group commit: write transactions that arrive while another is committing are run
 * together in the next database transaction, each inside its own SAVEPOINT, and share
 * one COMMIT — one fsync for many writers, as in PostgreSQL's and Trillian's group
 * commit. Each caller still gets its own outcome: a job that throws is rolled back to
 * its savepoint without touching the others, and nobody's promise resolves before the
 * shared COMMIT is durable, so every acknowledged write is.
 *
 * The COMMIT is made durable in one of two ways (SQLite files; PostgreSQL's COMMIT always
 * is). Either it fsyncs the write-ahead log itself, blocking the event loop for the
 * flush; or, given `deferred` and while other requests are in flight (`othersWaiting`),
 * it only writes the log and `deferred.flush` makes it durable off the event loop
 * (wal-sync.ts), so that those requests go on being served meanwhile; the next batch is
 * committed while the last one is being flushed (a pipelined group commit), and each
 * batch's callers are answered when its own flush returns — which covers every batch
 * before it, since a flush covers everything committed before it began. If a flush
 * fails, the batch's callers get its error (and, wal-sync.ts, so does every later one).
 * With nobody else in flight the COMMIT fsyncs itself: blocking then stalls no one, and
 * the hand-off to libuv's thread pool and back is not free (0.3–0.5 ms a create on the
 * 2-core bench machine, docs/architecture.md).
 */
import { sql, type Kysely } from 'kysely';

type Job = {
  readonly fn: (db: Kysely<unknown>) => Promise<unknown>;
  /** False for a job that writes only the audit ledger (caches of resource data stay valid). */
  readonly touchesData: boolean;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
};

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class GroupCommit {
  readonly #queue: Job[] = [];
  #draining = false;

  #deferring = false;

  constructor(
    /**
     * Runs a body in one write transaction (BEGIN … COMMIT); `touchesData` when any job of it
     * may change resource data; `deferFlush`: the COMMIT need not be durable when it returns
     * (`deferred.flush` follows).
     */
    private readonly inTransaction: <T>(body: (db: Kysely<unknown>) => Promise<T>, touchesData: boolean, deferFlush: boolean) => Promise<T>,
    private readonly maxJobs = 64,
    private readonly deferred?: {
      /** Makes everything committed so far durable. */
      readonly flush: () => Promise<void>;
      /** Whether requests other than `jobs` writers are waiting for the event loop. */
      readonly othersWaiting: (jobs: number) => boolean;
    },
  ) {}

  /**
   * Whether the batch being committed leaves its flush for later (`deferred.flush`): a job
   * that makes something durable of its own on the way (a new data key) follows the same
   * decision, taken once per batch.
   */
  get deferring(): boolean {
    return this.#deferring;
  }

  submit<T>(fn: (db: Kysely<unknown>) => Promise<T>, touchesData = true): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, touchesData, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#draining) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#queue.length > 0) {
        // Let the event loop read the requests that arrived during the last commit (which
        // ran on it, synchronously, in SQLite), so that they join this batch.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const batch = this.#queue.splice(0, this.maxJobs);
        const outcomes: Outcome[] = [];
        const defer = this.deferred?.othersWaiting(batch.length + this.#queue.length) === true;
        this.#deferring = defer;
        try {
          await this.inTransaction(
            async (db) => {
              for (const job of batch) outcomes.push(await runInSavepoint(db, job));
            },
            batch.some((j) => j.touchesData),
            defer,
          );
        } catch (error) {
          // The shared COMMIT (or BEGIN) failed: nothing of this batch was written.
          for (const job of batch) job.reject(error);
          continue;
        } finally {
          this.#deferring = false;
        }
        const settle = (): void =>
          batch.forEach((job, i) => {
            const o = outcomes[i]!;
            if (o.ok) job.resolve(o.value);
            else job.reject(o.error);
          });
        if (!defer) settle();
        else
          this.deferred!.flush().then(settle, (error: unknown) =>
            // Committed, but not known to be durable: nobody is told it succeeded.
            batch.forEach((job, i) => {
              const o = outcomes[i]!;
              job.reject(o.ok ? error : o.error);
            }),
          );
      }
    } finally {
      this.#draining = false;
    }
  }
}

async function runInSavepoint(db: Kysely<unknown>, job: Job): Promise<Outcome> {
  await sql`SAVEPOINT custodia_job`.execute(db);
  try {
    const value = await job.fn(db);
    await sql`RELEASE SAVEPOINT custodia_job`.execute(db);
    return { ok: true, value };
  } catch (error) {
    await sql`ROLLBACK TO SAVEPOINT custodia_job`.execute(db);
    await sql`RELEASE SAVEPOINT custodia_job`.execute(db);
    return { ok: false, error };
  }
}
