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
import { Worker } from 'node:worker_threads';
import { CustodiaError } from '../kernel/index.js';
import type { DataKey } from '../crypto/index.js';
import type { AuditRecord } from '../ledger/index.js';
import type { AppendRequest, AppendThreadData } from './ledger-append-thread.js';
import { AppendChannel, channelMemory, RING } from './ledger-append-channel.js';
import { threadModule } from './thread-module.js';

export interface LedgerAppender {
  /**
   * Appends `audits` (sealed with `keys`, their patients filed blind under `filingKey`: both
   * null in a clear vault) at time `at` (or later); resolves to their first index once durable.
   */
  append(audits: readonly AuditRecord[], keys: readonly (readonly [string, DataKey])[] | null, filingKey: Buffer | null, at: number): Promise<number>;
  close(): Promise<void>;
}

interface Waiting {
  readonly audits: readonly AuditRecord[];
  readonly keys: readonly (readonly [string, DataKey])[] | null;
  readonly filingKey: Buffer | null;
  readonly at: number;
  readonly resolve: (first: number) => void;
  readonly reject: (e: unknown) => void;
}

const stopped = (cause?: unknown): CustodiaError => new CustodiaError('storage-unavailable', 'The audit writer thread stopped', cause === undefined ? {} : { cause });

/**
 * An appender for the SQLite file at `path`; undefined when there is no thread to run
 * (`:memory:`, an unbuilt source tree).
 *
 * Each append goes into the channel's ring as it is made, and the thread commits what it
 * finds there after each flush as one batch, so a busy server's batches grow with the load
 * without the vault gathering them. Appends wait here only while the ring is full. The
 * vault wakes when the thread settles requests (after each flush). While anything is in
 * flight the thread is ref'd, so that the process does not exit before a record it waits
 * for is durable.
 */
export function ledgerAppender(path: string): LedgerAppender | undefined {
  const module = path === ':memory:' ? undefined : threadModule('ledger-append-thread');
  if (module === undefined) return undefined;
  let thread: { readonly worker: Worker; readonly channel: AppendChannel } | undefined;
  let sent = 0;
  let settled = 0;
  let closed = false;
  let parked = false;
  /** Appends not yet in the ring (it was full), in order. */
  let waiting: Waiting[] = [];
  /** Who waits for everything to be settled (close). */
  const drained: (() => void)[] = [];
  /** Sent, not yet settled, by request id. */
  const inFlight = new Map<number, Waiting>();

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
      for (const w of inFlight.values()) w.reject(stopped(cause));
      inFlight.clear();
      pump();
      for (const r of drained.splice(0)) r();
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`exit code ${code}`)));
    return t;
  }

  /** Answers every append the thread has settled. */
  function settle(channel: AppendChannel): void {
    for (const durable = channel.durable; settled < durable; settled++) {
      const w = inFlight.get(settled);
      inFlight.delete(settled);
      if (w === undefined) continue;
      const outcome = channel.outcome(settled);
      if ('error' in outcome) w.reject(new CustodiaError('storage-unavailable', `The audit ledger append failed: ${outcome.error}`));
      else w.resolve(outcome.first);
    }
  }

  /** Puts `w` into the ring; false if there is no room for it now. */
  function send(channel: AppendChannel, w: Waiting): boolean {
    if (sent - settled >= RING) return false;
    const keys = w.keys === null ? null : w.keys.map(([owner, k]): [string, string, string] => [owner, k.id, Buffer.from(k.key).toString('base64')]);
    const request: AppendRequest = { id: sent, audits: w.audits, keys, filingKey: w.filingKey?.toString('base64') ?? null, at: w.at };
    // Nothing in flight: the thread is waiting for work (polling or asleep), so wake it now rather than at its next poll.
    const done = channel.send(sent, JSON.stringify(request), inFlight.size === 0);
    if (done === 'full') return false;
    if (done === 'too-large') w.reject(new CustodiaError('storage-unavailable', 'An audit record is too large to append'));
    else inFlight.set(sent++, w);
    return true;
  }

  /** Settles what the thread has settled, sends what waits if there is room, and waits for the thread if anything is left. */
  function pump(): void {
    if (waiting.length === 0 && inFlight.size === 0 && thread === undefined) return;
    thread ??= start();
    const { worker, channel } = thread;
    // Read before looking, so that progress made while looking is not missed by the wait.
    const seen = channel.durable;
    settle(channel);
    let i = 0;
    while (i < waiting.length && send(channel, waiting[i]!)) i++;
    if (i > 0) waiting = waiting.slice(i);
    if (waiting.length === 0 && inFlight.size === 0) {
      worker.unref();
      for (const r of drained.splice(0)) r();
      return;
    }
    worker.ref();
    if (parked) return;
    parked = true;
    channel.onDurable(seen, () => {
      parked = false;
      pump();
    });
  }

  return {
    append(audits, keys, filingKey, at) {
      if (closed) return Promise.reject(new CustodiaError('storage-unavailable', 'The store is closed'));
      return new Promise((resolve, reject) => {
        const w: Waiting = { audits, keys, filingKey, at, resolve, reject };
        // Straight into the ring when nothing waits before it; the vault is already waiting for the thread if anything is in flight.
        if (thread === undefined || waiting.length > 0 || !send(thread.channel, w)) waiting.push(w);
        if (!parked) pump();
      });
    },
    async close() {
      closed = true;
      // Everything accepted is written and flushed before the thread stops.
      while (thread !== undefined && (waiting.length > 0 || inFlight.size > 0)) await new Promise<void>((r) => drained.push(r));
      const t = thread;
      if (t === undefined) return;
      const exited = new Promise<void>((r) => t.worker.once('exit', () => r()));
      t.worker.ref();
      t.channel.close();
      await exited;
    },
  };
}
