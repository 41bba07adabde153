/**
 * The vault's side of the audit writer thread (ledger-append-thread.ts): hands it audit
 * records with the data keys that seal them, and resolves each append once it is durable.
 * If the thread fails or exits, every append waiting on it fails (the request then fails
 * closed, `audit-unavailable`) and the next append starts a new thread.
 *
 * The data keys cross to the thread by copy, inside this process, and only those the
 * records need: the thread keeps none between appends, so an erasure (which destroys a
 * key in the key store) is never undone by a copy it still holds.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { CustodiaError } from '../kernel/index.js';
import type { DataKey } from '../crypto/index.js';
import type { AuditRecord } from '../ledger/index.js';
import type { AppendRequest, AppendThreadData } from './ledger-append-thread.js';
import { AppendChannel, channelMemory, RING } from './ledger-append-channel.js';

export interface LedgerAppender {
  /**
   * Appends `audits` (sealed with `keys`, their patients filed blind under `filingKey`: both
   * null in a clear vault) at time `at` (or later); resolves to their first index once durable.
   */
  append(audits: readonly AuditRecord[], keys: readonly (readonly [string, DataKey])[] | null, filingKey: Buffer | null, at: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * The thread's module. Under vitest this file runs from its TypeScript source, which a
 * worker thread cannot load: the build of the same module is used (`npm test` builds
 * first), and without a build there is no thread (the caller appends in-process).
 */
function threadModule(): URL | undefined {
  if (!import.meta.url.endsWith('.ts')) return new URL('./ledger-append-thread.js', import.meta.url);
  const built = new URL('../../dist/store/ledger-append-thread.js', import.meta.url);
  return existsSync(built) ? built : undefined;
}

interface Waiting {
  readonly audits: readonly AuditRecord[];
  readonly keys: readonly (readonly [string, DataKey])[] | null;
  readonly filingKey: Buffer | null;
  readonly at: number;
  readonly resolve: (first: number) => void;
  readonly reject: (e: unknown) => void;
}

/** Appends that go at once even while the thread flushes. */
const GATHER = 64;

const stopped = (cause?: unknown): CustodiaError => new CustodiaError('storage-unavailable', 'The audit writer thread stopped', cause === undefined ? {} : { cause });

/**
 * An appender for the SQLite file at `path`; undefined when there is no thread to run
 * (`:memory:`, an unbuilt source tree).
 *
 * One request is with the thread at a time until it is committed: appends made meanwhile
 * wait here and go as one request as soon as it is, so a busy server sends few, large
 * requests. The thread flushes while it commits the next one and settles requests after
 * each flush. While anything is in flight the thread is ref'd, so that the process does
 * not exit before a record it waits for is durable.
 */
export function ledgerAppender(path: string): LedgerAppender | undefined {
  const module = path === ':memory:' ? undefined : threadModule();
  if (module === undefined) return undefined;
  let thread: { readonly worker: Worker; readonly channel: AppendChannel } | undefined;
  let sent = 0;
  let settled = 0;
  let closed = false;
  let parked = false;
  let buffered: Waiting[] = [];
  /** Who waits for everything to be settled (close). */
  const drained: (() => void)[] = [];
  /** Sent, not yet settled: each request's callers, by request id. */
  const inFlight = new Map<number, Waiting[]>();

  function start(): NonNullable<typeof thread> {
    const memory = channelMemory();
    const worker = new Worker(module!, { workerData: { path, memory } satisfies AppendThreadData });
    worker.unref();
    const t = { worker, channel: new AppendChannel(memory) };
    sent = 0;
    settled = 0;
    const gone = (cause: unknown): void => {
      if (thread !== t) return;
      thread = undefined;
      settle(t.channel);
      for (const ws of inFlight.values()) for (const w of ws) w.reject(stopped(cause));
      inFlight.clear();
      pump();
      for (const r of drained.splice(0)) r();
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`exit code ${code}`)));
    return t;
  }

  /** Answers the appends of every request the thread has settled. */
  function settle(channel: AppendChannel): void {
    for (const durable = channel.durable; settled < durable; settled++) {
      const ws = inFlight.get(settled) ?? [];
      inFlight.delete(settled);
      const outcome = channel.outcome(settled);
      if ('error' in outcome) {
        const error = new CustodiaError('storage-unavailable', `The audit ledger append failed: ${outcome.error}`);
        for (const x of ws) x.reject(error);
      } else {
        let first = outcome.first;
        for (const x of ws) {
          x.resolve(first);
          first += x.audits.length;
        }
      }
    }
  }

  /** Settles what the thread has settled, sends what is buffered if it may, and waits for the thread if anything is left. */
  function pump(): void {
    if (buffered.length === 0 && inFlight.size === 0 && thread === undefined) return;
    thread ??= start();
    const { worker, channel } = thread;
    // Read before looking, so that progress made while looking is not missed by the wait.
    const seen = channel.progress;
    settle(channel);
    // The thread takes one request at a time; and while it flushes, a request sent now would
    // be committed alone and wait for the next flush anyway: unless many are waiting, they
    // gather here until the flush ends and go as one.
    const idle = channel.taken === sent && (channel.durable === sent || buffered.length >= GATHER);
    if (buffered.length > 0 && idle && sent - settled < RING) sendBuffered(channel);
    if (buffered.length === 0 && inFlight.size === 0) {
      worker.unref();
      for (const r of drained.splice(0)) r();
      return;
    }
    worker.ref();
    if (parked) return;
    parked = true;
    channel.onProgress(seen, () => {
      parked = false;
      pump();
    });
  }

  /** Sends the buffered appends as one request (as many as fit in the slot). */
  function sendBuffered(channel: AppendChannel): void {
    let batch = buffered;
    buffered = [];
    for (;;) {
      const keys = batch[0]!.keys === null ? null : [...new Map(batch.flatMap((x) => x.keys ?? [])).entries()].map(([owner, k]): [string, string, string] => [owner, k.id, Buffer.from(k.key).toString('base64')]);
      const filingKey = batch[0]!.filingKey?.toString('base64') ?? null;
      const request: AppendRequest = { id: sent, audits: batch.flatMap((x) => x.audits), keys, filingKey, at: Math.max(...batch.map((x) => x.at)) };
      if (channel.send(sent, JSON.stringify(request))) break;
      if (batch.length === 1) {
        batch[0]!.reject(new CustodiaError('storage-unavailable', 'An audit record is too large to append'));
        return;
      }
      // Too large for the slot: the first half now, the rest next time.
      const half = Math.ceil(batch.length / 2);
      buffered = [...batch.slice(half), ...buffered];
      batch = batch.slice(0, half);
    }
    inFlight.set(sent, batch);
    sent++;
  }

  return {
    append(audits, keys, filingKey, at) {
      if (closed) return Promise.reject(new CustodiaError('storage-unavailable', 'The store is closed'));
      return new Promise((resolve, reject) => {
        buffered.push({ audits, keys, filingKey, at, resolve, reject });
        if (!parked) pump();
      });
    },
    async close() {
      closed = true;
      // Everything accepted is written and flushed before the thread stops.
      while (thread !== undefined && (buffered.length > 0 || inFlight.size > 0)) await new Promise<void>((r) => drained.push(r));
      const t = thread;
      if (t === undefined) return;
      const exited = new Promise<void>((r) => t.worker.once('exit', () => r()));
      t.worker.ref();
      t.channel.close();
      await exited;
    },
  };
}
