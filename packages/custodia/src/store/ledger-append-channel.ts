/**
 * The shared memory between the vault and its audit writer thread (ledger-appender.ts,
 * ledger-append-thread.ts). No message port: a port's queue is guarded by a mutex, and on
 * a busy machine the thread holding it can be descheduled, stalling the server's event
 * loop for a whole time slice (measured: 1 ms at the 90th percentile under load). Here
 * each side only stores to counters the other reads (Atomics). The vault waits with
 * Atomics.waitAsync (its event loop must go on). The thread does not make the vault wake
 * it while it is busy: waking another thread costs the waker (measured under load on two
 * cores, the vault's Atomics.notify took 0.5 ms at the 90th percentile, whether the
 * thread waited with waitAsync or blocked in Atomics.wait: the woken thread preempts the
 * waker). So while requests keep coming the thread polls the `sent` counter, blocking a
 * quarter of a millisecond at a time, and only once it has been idle for a while does it
 * say it sleeps, and the vault then wakes it.
 *
 * The protocol, with one request in the slot at a time:
 *   - the vault writes a request (JSON text) into the slot when the thread has taken every
 *     request sent before (`taken === sent`), then advances `sent`;
 *   - the thread reads it, commits it, stores its first leaf index, advances `taken`;
 *   - after the flush that makes it durable (or when it failed) the thread stores its
 *     status and advances `durable`, in request order;
 *   - every advance of `taken` or `durable` also advances `progress`, which the vault waits on.
 * At most {@link RING} requests are sent and not yet settled (the status ring's size).
 */

/** Int32 control words. */
const SENT = 0;
const TAKEN = 1;
const DURABLE = 2;
const PROGRESS = 3;
const LENGTH = 4;
const REASON_LENGTH = 5;
/** Set by the vault: write what was sent, flush, and stop. */
const CLOSING = 6;
/** Set by the thread while it waits to be woken (it is not polling). */
const SLEEPING = 7;
const STATUS = 8;

/** Requests in flight (sent, not settled) at most. */
export const RING = 4096;
/** The largest request (JSON bytes); a batch is split to fit. */
export const SLOT_BYTES = 8 * 1024 * 1024;
const REASON_BYTES = 512;

const FAILED = 1;

/** Atomics.waitAsync (ES2024, in Node since 16; the project's type library is ES2023). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: false; value: string } | { async: true; value: Promise<string> } }).waitAsync;

export interface ChannelMemory {
  readonly control: SharedArrayBuffer;
  readonly slot: SharedArrayBuffer;
  readonly firsts: SharedArrayBuffer;
  readonly reason: SharedArrayBuffer;
}

export function channelMemory(): ChannelMemory {
  return {
    control: new SharedArrayBuffer((STATUS + RING) * 4),
    slot: new SharedArrayBuffer(SLOT_BYTES),
    firsts: new SharedArrayBuffer(RING * 8),
    reason: new SharedArrayBuffer(REASON_BYTES),
  };
}

/** Calls `then` once `word` is no longer `seen` (at once if it already is not). */
function whenChanged(control: Int32Array, word: number, seen: number, then: () => void): void {
  const w = waitAsync(control, word, seen);
  if (w.async) void w.value.then(then);
  else queueMicrotask(then);
}

export class AppendChannel {
  readonly #control: Int32Array;
  readonly #slot: Buffer;
  readonly #firsts: Float64Array;
  readonly #reason: Buffer;

  constructor(readonly memory: ChannelMemory) {
    this.#control = new Int32Array(memory.control);
    this.#slot = Buffer.from(memory.slot);
    this.#firsts = new Float64Array(memory.firsts);
    this.#reason = Buffer.from(memory.reason);
  }

  #load = (word: number): number => Atomics.load(this.#control, word);
  #advance(word: number, value: number): void {
    Atomics.store(this.#control, word, value);
    Atomics.add(this.#control, PROGRESS, 1);
    Atomics.notify(this.#control, word);
    Atomics.notify(this.#control, PROGRESS);
  }

  // The vault's side.

  get sent(): number {
    return this.#load(SENT);
  }
  get taken(): number {
    return this.#load(TAKEN);
  }
  get durable(): number {
    return this.#load(DURABLE);
  }
  get progress(): number {
    return this.#load(PROGRESS);
  }

  /** Writes request `id` (the next one) into the slot and publishes it; false if it does not fit. */
  send(id: number, json: string): boolean {
    const n = Buffer.byteLength(json);
    if (n > SLOT_BYTES) return false;
    this.#slot.write(json, 0, n, 'utf8');
    Atomics.store(this.#control, LENGTH, n);
    Atomics.store(this.#control, SENT, id + 1);
    // After the store: a thread that says it sleeps after it looked at `sent` is woken here.
    if (Atomics.load(this.#control, SLEEPING) === 1) Atomics.notify(this.#control, SENT);
    return true;
  }

  /** Whether settled request `id` failed, and why. */
  outcome(id: number): { readonly first: number } | { readonly error: string } {
    if (Atomics.load(this.#control, STATUS + (id % RING)) === FAILED) return { error: this.#reason.toString('utf8', 0, Math.min(REASON_BYTES, this.#load(REASON_LENGTH))) };
    return { first: this.#firsts[id % RING]! };
  }

  /** Calls `then` once the thread has made progress since `seen` (a value of {@link progress}). */
  onProgress(seen: number, then: () => void): void {
    whenChanged(this.#control, PROGRESS, seen, then);
  }

  /** Tells the thread to stop once it has written and flushed everything sent. */
  close(): void {
    Atomics.store(this.#control, CLOSING, 1);
    Atomics.notify(this.#control, SENT);
  }

  // The thread's side.

  /**
   * Blocks until a request after the `seen`th is sent, the vault closes, or `timeoutMs`
   * passes. `wake`: the vault is to wake the thread (it sleeps); otherwise the thread polls
   * and nobody wakes it before the timeout.
   */
  waitForSent(seen: number, timeoutMs: number, wake: boolean): void {
    if (wake) Atomics.store(this.#control, SLEEPING, 1);
    // Atomics.wait returns at once if `sent` moved since it was read (no lost wake-up).
    if (this.#load(CLOSING) === 0) Atomics.wait(this.#control, SENT, seen, timeoutMs);
    if (wake) Atomics.store(this.#control, SLEEPING, 0);
  }

  get closing(): boolean {
    return this.#load(CLOSING) === 1;
  }

  /** The request in the slot (the `sent`th). */
  read(): string {
    return this.#slot.toString('utf8', 0, this.#load(LENGTH));
  }

  /** Request `id` is committed (its records from leaf `first` on), or failed: the slot is free. */
  took(id: number, first: number | undefined): void {
    if (first !== undefined) this.#firsts[id % RING] = first;
    this.#advance(TAKEN, id + 1);
  }

  /** Requests up to `to` (exclusive) are settled: durable, except those in `failed`. */
  settle(to: number, failed: ReadonlyMap<number, string>): void {
    for (const [id, reason] of failed) {
      const n = this.#reason.write(reason.slice(0, REASON_BYTES), 0, REASON_BYTES, 'utf8');
      Atomics.store(this.#control, REASON_LENGTH, n);
      Atomics.store(this.#control, STATUS + (id % RING), FAILED);
    }
    this.#advance(DURABLE, to);
  }

  /** A status slot is reused RING requests later: cleared when its request is taken. */
  clearStatus(id: number): void {
    Atomics.store(this.#control, STATUS + (id % RING), 0);
  }
}
