/**
 * Group commit: write transactions that arrive while another is committing are run
 * together in the next database transaction, each inside its own SAVEPOINT, and share
 * one COMMIT — one fsync for many writers, as in PostgreSQL's and Trillian's group
 * commit. Each caller still gets its own outcome: a job that throws is rolled back to
 * its savepoint without touching the others, and nobody's promise resolves before the
 * shared COMMIT has returned, so every acknowledged write is durable.
 *
 * Jobs run one after another inside the batch, so each sees the writes of the jobs
 * before it: the result is the same as running them serially.
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

  constructor(
    /** Runs a body in one write transaction (BEGIN … COMMIT); `touchesData` when any job of it may change resource data. */
    private readonly inTransaction: <T>(body: (db: Kysely<unknown>) => Promise<T>, touchesData: boolean) => Promise<T>,
    private readonly maxJobs = 64,
  ) {}

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
        // Let the event loop read the requests that arrived during the last commit (a
        // synchronous SQLite fsync blocks it), so that they join this batch.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const batch = this.#queue.splice(0, this.maxJobs);
        const outcomes: Outcome[] = [];
        try {
          await this.inTransaction(async (db) => {
            for (const job of batch) outcomes.push(await runInSavepoint(db, job));
          }, batch.some((j) => j.touchesData));
        } catch (error) {
          // The shared COMMIT (or BEGIN) failed: nothing of this batch was written.
          for (const job of batch) job.reject(error);
          continue;
        }
        batch.forEach((job, i) => {
          const o = outcomes[i]!;
          if (o.ok) job.resolve(o.value);
          else job.reject(o.error);
        });
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
