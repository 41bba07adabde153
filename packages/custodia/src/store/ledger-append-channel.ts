/**
 * The shared memory between the vault and its audit writer thread (ledger-appender.ts,
 * ledger-append-thread.ts). No message port: a port's queue is guarded by a mutex, and on
 * a busy machine the thread holding it can be descheduled, stalling the server's event
 * loop for a whole time slice (measured: 1 ms at the 90th percentile under load). Here
 * each side only stores to words the other reads (Atomics).
 *
 * Requests go through a ring of bytes (one producer, the vault; one consumer, the
 * thread), written as they are made: the thread never waits for the vault's event loop to
 * hand it work. When a flush ends, everything written meanwhile is already there to be
 * taken, so under load the thread goes from flush to commit to flush without a pause.
 * (Before, one request at a time sat in a single slot that the vault refilled only once
 * its event loop had seen the last one taken: measured under load with 10 clients, the
 * thread then waited 0.66 ms at the median between a flush and the next commit, longer
 * than the commit and the flush together.)
 *
 * The vault waits with Atomics.waitAsync (its event loop must go on). The thread does not
 * make the vault wake it while it is busy: waking another thread costs the waker
 * (measured under load on two cores, the vault's Atomics.notify took 0.5 ms at the 90th
 * percentile: the woken thread preempts the waker). So while requests keep coming the
 * thread polls the `sent` counter between flushes, blocking a millisecond at a time (a
 * group-commit delay, ledger-append-thread.ts `POLL_MS`), and only once it has been idle
 * for a while does it say it sleeps, and the vault
 * then wakes it. The vault also wakes a polling thread when it sends into an idle channel
 * (nothing in flight: a lightly loaded server, where the poll's wait was most of what
 * auditing added to a read — one client reading one record at a time: median 1.78 ms
 * without the wake, 1.60 ms with it, lower in each of six interleaved pairs, and 10 and 50
 * clients unchanged within noise, 2026-11-30). Under load something is always in flight,
 * so that wake never happens there.
 *
 * The protocol:
 *   - the vault writes request `sent` at its write offset (a 4-byte length, then the JSON
 *     text, padded to 4 bytes; a length of -1 means "go on at offset 0"), publishes the new
 *     offset and then advances `sent`;
 *   - the thread reads every request up to `sent`, gives back their bytes (its read
 *     offset), commits them and stores each one's first leaf index;
 *   - after the flush that makes them durable (or when they failed) the thread stores their
 *     status and advances `durable`, in request order, and only that wakes the vault.
 * At most {@link RING} requests are sent and not yet settled (the status ring's size).
 */

/** Int32 control words. */
const SENT = 0;
const DURABLE = 1;
/** The byte offset in the ring after the last request written (the vault's). */
const WRITE_AT = 2;
/** The byte offset in the ring after the last request read (the thread's). */
const READ_AT = 3;
const REASON_LENGTH = 4;
/** Set by the vault: write what was sent, flush, and stop. */
const CLOSING = 5;
/** Set by the thread while it waits to be woken (it is not polling). */
const SLEEPING = 6;
const STATUS = 7;

/** Requests in flight (sent, not settled) at most. */
export const RING = 4096;
/** The ring's size in bytes; one request takes at most half of it. */
export const RING_BYTES = 16 * 1024 * 1024;
/** The largest request (JSON bytes) a ring of `ringBytes` takes: one that would not fit beside another is refused. */
export const maxRequestBytes = (ringBytes: number): number => ringBytes / 2 - 8;
const REASON_BYTES = 512;
/** The length word that sends the reader back to offset 0. */
const WRAP = -1;

const FAILED = 1;

/** Atomics.waitAsync (ES2024, in Node since 16; the project's type library is ES2023). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: false; value: string } | { async: true; value: Promise<string> } }).waitAsync;

export interface ChannelMemory {
  readonly control: SharedArrayBuffer;
  readonly ring: SharedArrayBuffer;
  readonly firsts: SharedArrayBuffer;
  readonly reason: SharedArrayBuffer;
}

/** `ringBytes`: a multiple of 8. */
export function channelMemory(ringBytes = RING_BYTES): ChannelMemory {
  return {
    control: new SharedArrayBuffer((STATUS + RING) * 4),
    ring: new SharedArrayBuffer(ringBytes),
    firsts: new SharedArrayBuffer(RING * 8),
    reason: new SharedArrayBuffer(REASON_BYTES),
  };
}

const padded = (n: number): number => (n + 3) & ~3;

export class AppendChannel {
  readonly #control: Int32Array;
  readonly #ring: Buffer;
  /** The ring's length words (at offsets that are multiples of 4). */
  readonly #words: Int32Array;
  readonly #firsts: Float64Array;
  readonly #reason: Buffer;

  constructor(readonly memory: ChannelMemory) {
    this.#control = new Int32Array(memory.control);
    this.#ring = Buffer.from(memory.ring);
    this.#words = new Int32Array(memory.ring);
    this.#firsts = new Float64Array(memory.firsts);
    this.#reason = Buffer.from(memory.reason);
  }

  #load = (word: number): number => Atomics.load(this.#control, word);

  // The vault's side.

  get sent(): number {
    return this.#load(SENT);
  }
  get durable(): number {
    return this.#load(DURABLE);
  }

  /**
   * Writes request `id` (the next one) into the ring and publishes it. 'full' when the
   * ring has no room for it now (it will once the thread has read what is there),
   * 'too-large' when it never will. `wake`: wake the thread even if it is polling (the
   * vault had nothing in flight); a sleeping thread is woken either way.
   */
  send(id: number, json: string, wake = false): 'sent' | 'full' | 'too-large' {
    const n = Buffer.byteLength(json);
    const size = this.#ring.length;
    if (n > maxRequestBytes(size)) return 'too-large';
    const need = 4 + padded(n);
    let at = this.#load(WRITE_AT);
    const readAt = this.#load(READ_AT);
    // The write offset never catches up with the read offset from behind: equal means empty.
    if (at >= readAt) {
      if (size - at < need || (size - at === need && readAt === 0)) {
        // No room before the end: wrap, if there is room at the start.
        if (need >= readAt) return 'full';
        this.#words[at >> 2] = WRAP;
        at = 0;
      }
    } else if (at + need >= readAt) return 'full';
    this.#ring.write(json, at + 4, n, 'utf8');
    this.#words[at >> 2] = n;
    Atomics.store(this.#control, WRITE_AT, (at + need) % size);
    Atomics.store(this.#control, SENT, id + 1);
    // After the store: a thread that says it sleeps after it looked at `sent` is woken here.
    if (wake || Atomics.load(this.#control, SLEEPING) === 1) Atomics.notify(this.#control, SENT);
    return 'sent';
  }

  /** Whether settled request `id` failed, and why. */
  outcome(id: number): { readonly first: number } | { readonly error: string } {
    if (Atomics.load(this.#control, STATUS + (id % RING)) === FAILED) return { error: this.#reason.toString('utf8', 0, Math.min(REASON_BYTES, this.#load(REASON_LENGTH))) };
    return { first: this.#firsts[id % RING]! };
  }

  /** Calls `then` once `durable` is no longer `seen` (at once if it already is not). */
  onDurable(seen: number, then: () => void): void {
    const w = waitAsync(this.#control, DURABLE, seen);
    if (w.async) void w.value.then(then);
    else queueMicrotask(then);
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

  /**
   * Reads the requests from the `from`th up to `sent` (the text of each) and gives their
   * bytes back to the vault, zeroed: a request carries data keys, and no copy of a key may
   * outlive its request here (an erasure destroys the key in the key store). Clears the
   * status slots they will use.
   */
  readFrom(from: number): string[] {
    const to = this.#load(SENT);
    const out: string[] = [];
    let at = this.#load(READ_AT);
    for (let id = from; id < to; id++) {
      let n = this.#words[at >> 2]!;
      if (n === WRAP) {
        at = 0;
        n = this.#words[0]!;
      }
      out.push(this.#ring.toString('utf8', at + 4, at + 4 + n));
      this.#ring.fill(0, at, at + 4 + n);
      at = (at + 4 + padded(n)) % this.#ring.length;
      Atomics.store(this.#control, STATUS + (id % RING), 0);
    }
    Atomics.store(this.#control, READ_AT, at);
    return out;
  }

  /** Request `id` is committed, its records from leaf `first` on (read once it is settled). */
  committed(id: number, first: number): void {
    this.#firsts[id % RING] = first;
  }

  /** Requests up to `to` (exclusive) are settled: durable, except those in `failed`. */
  settle(to: number, failed: ReadonlyMap<number, string>): void {
    for (const [id, reason] of failed) {
      const n = this.#reason.write(reason.slice(0, REASON_BYTES), 0, REASON_BYTES, 'utf8');
      Atomics.store(this.#control, REASON_LENGTH, n);
      Atomics.store(this.#control, STATUS + (id % RING), FAILED);
    }
    Atomics.store(this.#control, DURABLE, to);
    Atomics.notify(this.#control, DURABLE);
  }
}
