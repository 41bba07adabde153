/**
 * The log asking its witnesses for cosignatures (C2SP tlog-witness §add-checkpoint, client
 * side; issue 5 §3). After each checkpoint, every witness is sent the newest one with the
 * size that witness last cosigned and a consistency proof from it; a 409 names the size
 * the witness really holds and the request is made again from there; a returned line is
 * kept (ledger_cosignatures) only once it verifies under the witness's configured key.
 *
 * It runs beside the vault, never in a request's path: a witness that is down, slow or
 * refusing only delays cosignatures. Each witness is handled on its own, one request at a
 * time, with exponential backoff after a failure.
 */
import type { Clock } from '../kernel/index.js';
import {
  cosignatureVerifier,
  formatAddCheckpointRequest,
  parseSignedNote,
  parseVerifierKey,
  readWitnessReply,
  witnessKeyRef,
  type CosignatureStore,
  type NoteVerifier,
  type StoredCheckpoint,
  type WitnessReply,
} from '../ledger/index.js';
import type { WitnessPeer } from './witness-config.js';
import { httpWitnessTransport, type WitnessTransport } from './witness-transport.js';

export type { WitnessTransport } from './witness-transport.js';

/** Where the checkpoints and proofs come from (LedgerService). */
export interface CheckpointSource {
  consistencyProof(from: number, to: number): Promise<Buffer[]>;
}

export type CosignatureEvent = 'cosigned' | 'conflict' | 'refused' | 'bad-reply' | 'unreachable' | 'ahead';

/** One exchange with a witness, for the log (sizes and counts, nothing else). */
export interface CosignatureReport {
  /** The witness key's `<name>+<hex key ID>`. */
  readonly witness: string;
  readonly event: CosignatureEvent;
  /** The checkpoint size submitted. */
  readonly size: number;
  /** The HTTP status of a refusal. */
  readonly status?: number;
  /** Failures in a row (0 after a success). */
  readonly failures: number;
}

export interface CollectorOptions {
  readonly clock: Clock;
  readonly transport?: WitnessTransport;
  /** First retry delay after a failure (ms); doubled per failure… */
  readonly minBackoffMs?: number;
  /** …up to this (ms). */
  readonly maxBackoffMs?: number;
  /** Per-request timeout of the default transport (ms). */
  readonly timeoutMs?: number;
  /** PEM CA bundle of the default transport: the only trust anchor for https witnesses (`--witness-ca`). */
  readonly ca?: Buffer;
}

interface Peer {
  readonly url: string;
  readonly ref: string;
  readonly verifier: NoteVerifier;
  /** The size the witness last cosigned, as far as the log knows (undefined: not yet read from storage). */
  known: number | undefined;
  /** The size of the newest line stored for this witness. */
  stored: number;
  running: Promise<void> | undefined;
  again: boolean;
  failures: number;
  retryAt: number;
  timer: NodeJS.Timeout | undefined;
}

/** A 409 may send the log back at most this many times for one checkpoint. */
const MAX_CONFLICTS = 3;

export class CosignatureCollector {
  readonly #peers: Peer[];
  readonly #transport: WitnessTransport;
  readonly #minBackoff: number;
  readonly #maxBackoff: number;
  #latest: StoredCheckpoint | undefined;
  #stopped = false;
  #report: (r: CosignatureReport) => void = () => undefined;

  constructor(
    private readonly source: CheckpointSource,
    private readonly store: CosignatureStore,
    witnesses: readonly WitnessPeer[],
    private readonly options: CollectorOptions,
  ) {
    this.#peers = witnesses.map((w) => {
      const k = parseVerifierKey(w.vkey);
      // Fresh cosignatures dated more than five minutes ahead of this clock are refused.
      const verifier = cosignatureVerifier(k, { clock: options.clock });
      return { url: `${w.url}/add-checkpoint`, ref: witnessKeyRef(k.name, k.keyId), verifier, known: undefined, stored: -1, running: undefined, again: false, failures: 0, retryAt: 0, timer: undefined };
    });
    this.#transport = options.transport ?? httpWitnessTransport(options.timeoutMs ?? 10_000, options.ca);
    this.#minBackoff = options.minBackoffMs ?? 1000;
    this.#maxBackoff = options.maxBackoffMs ?? 300_000;
  }

  /** The witness keys' references (`<name>+<hex key ID>`), in configuration order. */
  get witnesses(): readonly string[] {
    return this.#peers.map((p) => p.ref);
  }

  /** Where each exchange is reported (the server logs failures, counts only). */
  onReport(report: (r: CosignatureReport) => void): void {
    this.#report = (r) => {
      try {
        report(r);
      } catch {
        // a logger's failure is not the witness's
      }
    };
  }

  /** A checkpoint was published (or re-read): submit it to every witness that has not cosigned it. */
  notify(checkpoint: StoredCheckpoint): void {
    if (this.#latest === undefined || checkpoint.size >= this.#latest.size) this.#latest = checkpoint;
    for (const p of this.#peers) this.#kick(p);
  }

  /** Resolves once no request is in flight (retries scheduled for later do not count). */
  async idle(): Promise<void> {
    while (this.#peers.some((p) => p.running !== undefined)) await Promise.all(this.#peers.map((p) => p.running?.catch(() => undefined)));
  }

  /** Waits for requests in flight and stops retrying. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const p of this.#peers) clearTimeout(p.timer);
    await Promise.all(this.#peers.map((p) => p.running?.catch(() => undefined)));
  }

  #kick(peer: Peer): void {
    if (this.#stopped) return;
    if (peer.running !== undefined) {
      peer.again = true;
      return;
    }
    const wait = peer.retryAt - this.options.clock.now();
    if (wait > 0) {
      // Backing off: the timer set at the failure tries again with the newest checkpoint.
      return;
    }
    peer.running = this.#serve(peer).finally(() => {
      peer.running = undefined;
      if (peer.again) {
        peer.again = false;
        this.#kick(peer);
      }
    });
  }

  async #serve(peer: Peer): Promise<void> {
    const checkpoint = this.#latest;
    if (checkpoint === undefined) return;
    try {
      await this.#submit(peer, checkpoint);
    } catch {
      // Storage or proof trouble on our side: retried like a witness failure.
      this.#failed(peer, 'unreachable', checkpoint.size);
    }
  }

  async #submit(peer: Peer, checkpoint: StoredCheckpoint): Promise<void> {
    if (peer.known === undefined) {
      // After a restart: resume from the newest line we hold (a 409 corrects it if the witness moved on).
      const size = (await this.store.latestSizes([peer.ref])).get(peer.ref);
      peer.known = size ?? 0;
      peer.stored = size ?? -1;
    }
    if (peer.known === checkpoint.size && peer.stored === checkpoint.size) return; // the common case: nothing new
    const note = parseSignedNote(checkpoint.note);
    for (let conflicts = 0; conflicts <= MAX_CONFLICTS; conflicts++) {
      const oldSize: number = peer.known!;
      if (oldSize === checkpoint.size && peer.stored === checkpoint.size) return; // cosigned already
      if (oldSize > checkpoint.size) return this.#failed(peer, 'ahead', checkpoint.size); // the witness saw a larger tree than ours
      const proof = oldSize === 0 || oldSize === checkpoint.size ? [] : await this.source.consistencyProof(oldSize, checkpoint.size);
      const body = formatAddCheckpointRequest({ oldSize, proof, checkpoint: note });
      let reply: WitnessReply;
      try {
        reply = await this.#transport(peer.url, body);
      } catch {
        return this.#failed(peer, 'unreachable', checkpoint.size);
      }
      const outcome = readWitnessReply(reply, note.text, peer.verifier);
      switch (outcome.kind) {
        case 'cosigned':
          await this.store.add({ size: checkpoint.size, witness: peer.ref, line: outcome.line, at: this.options.clock.now() });
          peer.known = checkpoint.size;
          peer.stored = checkpoint.size;
          peer.failures = 0;
          peer.retryAt = 0;
          this.#report({ witness: peer.ref, event: 'cosigned', size: checkpoint.size, failures: 0 });
          return;
        case 'conflict':
          // "If it doesn't match, the witness MUST respond with a 409 … the tree size of the latest cosigned checkpoint."
          if (outcome.size === oldSize) return this.#failed(peer, 'bad-reply', checkpoint.size);
          peer.known = outcome.size;
          this.#report({ witness: peer.ref, event: 'conflict', size: checkpoint.size, failures: peer.failures });
          continue;
        case 'refused':
          return this.#failed(peer, 'refused', checkpoint.size, outcome.status);
        default:
          return this.#failed(peer, 'bad-reply', checkpoint.size);
      }
    }
    this.#failed(peer, 'bad-reply', checkpoint.size);
  }

  #failed(peer: Peer, event: CosignatureEvent, size: number, status?: number): void {
    peer.failures++;
    const delay = Math.min(this.#maxBackoff, this.#minBackoff * 2 ** Math.min(peer.failures - 1, 30));
    peer.retryAt = this.options.clock.now() + delay;
    clearTimeout(peer.timer);
    peer.timer = setTimeout(() => {
      peer.timer = undefined;
      peer.retryAt = 0;
      this.#kick(peer);
    }, delay);
    peer.timer.unref();
    this.#report({ witness: peer.ref, event, size, failures: peer.failures, ...(status === undefined ? {} : { status }) });
  }
}
