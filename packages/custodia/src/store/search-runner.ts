/**
 * The vault's side of the search threads (search-thread.ts): a small pool that runs a
 * search's costly statements off the event loop, one statement per thread at a time, in
 * the order they came, each within a deadline.
 *
 * The deadline: a statement still running after `timeoutMs` fails its search with
 * `search-too-costly` (400, OperationOutcome `too-costly`), and the vault sets its
 * thread's stop word. The statement sees it at its next look (once in
 * {@link ROWS_PER_LOOK} rows it inspects: the term {@link SearchRunner.deadlineTerm}
 * puts in its WHERE clause) and is abandoned, and the thread takes the next statement.
 * SQLite could stop any statement (sqlite3_interrupt), but better-sqlite3 does not offer
 * that. A statement that does not look — a sort after the rows are read, or a few rows
 * each costly — runs to its end: while it does, its thread is given up and still holds a
 * core, and a new thread replaces it only while the pool's threads, given up ones
 * included, number no more than `threads` + {@link GIVEN_UP}. Beyond that, searches
 * queue until one ends. The event loop, which serves reads, writes and logins, is never held.
 *
 * A thread is sent statements once it has opened its connection, so the deadline counts
 * the statement, not the thread's start. A thread that cannot open the database fails the
 * search that waited longest, so that searches fail (`storage-unavailable`) rather than
 * wait for a thread that will never start.
 */
import { Worker } from 'node:worker_threads';
import { sql, type CompiledQuery, type RawBuilder } from 'kysely';
import { CustodiaError } from '../kernel/index.js';
import type { SearchReply, SearchStatement, SearchThreadData } from './search-thread.js';
import { IN_TIME_FUNCTION, ROWS_PER_LOOK } from './search-deadline.js';
import { threadModule } from './thread-module.js';

export interface SearchRunner {
  /** The rows of `compiled`, read off the event loop; `search-too-costly` past the deadline. */
  run<R>(compiled: CompiledQuery<R>): Promise<R[]>;
  /** `first`'s rows and, when there are more than `above` of them, `then`'s (on a search thread: read in one snapshot with one hand-off, the deadline covering both). */
  runThen<R, T>(first: CompiledQuery<R>, above: number, then: CompiledQuery<T>): Promise<{ readonly rows: R[]; readonly thenRows?: T[] }>;
  /**
   * A term for the WHERE clause of a statement run here, ANDed with the rest, that makes
   * the statement look at its deadline as it inspects the rows of `rowKey` (an integer key
   * column, named by our code: `r.pk`, `i3.rowid`); undefined where the database keeps the
   * deadline itself. A function of its own (no `this`): it may be passed on detached.
   */
  readonly deadlineTerm: (rowKey: string) => RawBuilder<unknown> | undefined;
  close(): Promise<void>;
}

/** The error of a search past its deadline (`timeoutMs`). */
export const pastDeadline = (timeoutMs: number): CustodiaError =>
  new CustodiaError('search-too-costly', `This search ran longer than the server allows (${timeoutMs / 1000} s); narrow it (a patient, a code, a date range) or ask for _total=none`);

/** A column reference of our own SQL (`alias.column`), never a caller's text. */
const ROW_KEY = /^[a-z][a-z0-9]*\.[a-z_]+$/;

/** Threads that run statements at once (the machines this is built for have two cores; the event loop keeps one). */
const SEARCH_THREADS = 2;
/** The longest a search statement may run, by default (`--search-timeout`, CUSTODIA_SEARCH_TIMEOUT). */
export const DEFAULT_SEARCH_TIMEOUT_MS = 10_000;
/** Threads given up at their deadline and still running, beyond {@link SEARCH_THREADS}, at most. */
const GIVEN_UP = 1;

interface Job {
  readonly statement: SearchStatement;
  readonly resolve: (reply: { readonly rows: unknown[]; readonly thenRows?: unknown[] }) => void;
  readonly reject: (e: unknown) => void;
}

interface Slot {
  readonly worker: Worker;
  /** Set (1) once the statement sent to the thread is past its deadline; cleared (0) before each statement is sent. */
  readonly stop: Int32Array;
  /** Its connection is open: statements may be sent (the deadline counts from the send, not from the thread's start). */
  ready: boolean;
  job: Job | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Past a deadline: its statement no longer has a caller; the thread is taken back, or exits, when it ends. */
  givenUp: boolean;
  exited: boolean;
}

/** A driver error from the thread, with its code, as db-errors.ts translates it. */
const driverError = (e: { code: string; message: string }): Error => Object.assign(new Error(e.message), { code: e.code });

/**
 * A pool over the SQLite file at `path`; undefined where there can be none (`:memory:`,
 * an unbuilt source tree): the caller then runs its statements on its own connection.
 */
export function searchRunner(path: string, timeoutMs: number = DEFAULT_SEARCH_TIMEOUT_MS, threads: number = SEARCH_THREADS): SearchRunner | undefined {
  const module = path === ':memory:' ? undefined : threadModule('search-thread');
  if (module === undefined) return undefined;
  const slots = new Set<Slot>();
  const idle: Slot[] = [];
  const queue: Job[] = [];
  let nextId = 0;
  let closed = false;
  const working = (): number => [...slots].filter((s) => !s.givenUp).length;

  function spawn(): Slot {
    const stop = new SharedArrayBuffer(4);
    const worker = new Worker(module!, { workerData: { role: 'search', path, stop } satisfies SearchThreadData });
    worker.unref();
    const slot: Slot = { worker, stop: new Int32Array(stop), ready: false, job: undefined, timer: undefined, givenUp: false, exited: false };
    slots.add(slot);
    worker.on('message', (reply: SearchReply) => {
      if ('ready' in reply) {
        slot.ready = true;
        idle.push(slot);
        dispatch();
        return;
      }
      if (slot.givenUp) {
        // Its statement ended (stopped at its deadline, or run to its end): the thread is free.
        // Taken back while the pool is short of threads, else it exits.
        if (working() < threads && !closed) {
          slot.givenUp = false;
          idle.push(slot);
          dispatch();
        } else void worker.terminate();
        return;
      }
      const job = slot.job;
      if (job === undefined || job.statement.id !== reply.id) return;
      clearTimeout(slot.timer);
      slot.job = undefined;
      worker.unref();
      if ('error' in reply) job.reject(driverError(reply.error));
      else job.resolve(reply);
      idle.push(slot);
      dispatch();
    });
    const gone = (cause: unknown): void => {
      if (slot.exited) return;
      slot.exited = true;
      slots.delete(slot);
      const at = idle.indexOf(slot);
      if (at >= 0) idle.splice(at, 1);
      const job = slot.job;
      slot.job = undefined;
      clearTimeout(slot.timer);
      job?.reject(new CustodiaError('storage-unavailable', 'The search thread stopped; retry', { cause }));
      // A thread that never got ready (the database could not be opened) fails the search
      // that waited longest, so that searches fail rather than wait for a thread that cannot start.
      if (!slot.ready && !slot.givenUp && !closed) queue.shift()?.reject(new CustodiaError('storage-unavailable', 'The search thread could not start; retry', { cause }));
      dispatch();
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`exit code ${code}`)));
    return slot;
  }

  function expire(slot: Slot): void {
    const job = slot.job;
    if (job === undefined) return;
    slot.job = undefined;
    slot.givenUp = true;
    job.reject(pastDeadline(timeoutMs));
    // The statement stops at its next look (the header); it no longer keeps the process up.
    Atomics.store(slot.stop, 0, 1);
    slot.worker.unref();
    dispatch();
  }

  function dispatch(): void {
    while (queue.length > 0 && !closed) {
      const slot = idle.pop();
      if (slot === undefined) {
        // A new thread is sent work once it is ready (its message calls this again).
        if (working() < threads && slots.size < threads + GIVEN_UP) spawn();
        return;
      }
      const job = queue.shift()!;
      slot.job = job;
      // A statement in flight keeps the process up until it is answered.
      slot.worker.ref();
      const s = slot;
      Atomics.store(slot.stop, 0, 0);
      slot.timer = setTimeout(() => expire(s), timeoutMs);
      slot.worker.postMessage(job.statement);
    }
  }

  function send(statement: SearchStatement): Promise<{ readonly rows: unknown[]; readonly thenRows?: unknown[] }> {
    if (closed) return Promise.reject(new CustodiaError('storage-unavailable', 'The store is closed'));
    return new Promise((resolve, reject) => {
      queue.push({ statement, resolve, reject });
      dispatch();
    });
  }

  return {
    async run<R>(compiled: CompiledQuery<R>): Promise<R[]> {
      return (await send({ id: nextId++, sql: compiled.sql, parameters: compiled.parameters })).rows as R[];
    },
    async runThen<R, T>(first: CompiledQuery<R>, above: number, then: CompiledQuery<T>) {
      const { rows, thenRows } = await send({ id: nextId++, sql: first.sql, parameters: first.parameters, then: { sql: then.sql, parameters: then.parameters, above } });
      return thenRows === undefined ? { rows: rows as R[] } : { rows: rows as R[], thenRows: thenRows as T[] };
    },
    deadlineTerm: (rowKey) => {
      if (!ROW_KEY.test(rowKey)) throw new CustodiaError('internal', 'A search row key is a column of our own SQL');
      // Most rows skip the call (the key's low bits), and the planner is told the term is always true.
      return sql.raw(`likelihood((${rowKey} & ${ROWS_PER_LOOK - 1}) <> 0 OR ${IN_TIME_FUNCTION}(), 1.0)`);
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.reject(new CustodiaError('storage-unavailable', 'The store is closed'));
      // Threads given up are not waited for: their statement has no caller, and a read-only connection may stop anywhere.
      for (const s of slots) if (s.givenUp) Atomics.store(s.stop, 0, 1);
      await Promise.all([...slots].map((s) => (s.givenUp ? void s.worker.terminate() : s.worker.terminate())));
    },
  };
}
