/**
 * Which scorer consumes which partition of the telemetry bus: leases in a JetStream
 * key/value bucket (JetStream docs, "Key/Value Store": `create` succeeds only when the
 * key has no value, `update` only when the key's last revision is the one given; the
 * bucket's max age removes an entry not written for that long). No leader, no other
 * service: the server's compare-and-set is the only arbiter.
 *
 * Every tick (a third of the lease time) a scorer:
 * 1. writes its heartbeat `members.<id>` and lists the live members (an entry not renewed
 *    within the lease time is gone);
 * 2. renews each lease it holds, `partitions.<k>`, by an update at the revision it last
 *    wrote: one that fails was lost (expired, or taken after it expired), and the scorer
 *    stops consuming that partition at once;
 * 3. computes its share (detect/telemetry-partition.ts: the partitions divided evenly
 *    among the live members, the same arithmetic in every member), hands back the
 *    partitions it holds beyond it — consumption stopped first, the lease deleted at its
 *    revision after — and claims free ones up to it by `create`.
 *
 * Fencing: a scorer consumes a partition only while its last successful renewal is less
 * than two thirds of the lease time old ({@link PartitionLeases.holds}); the server keeps
 * the lease for the whole lease time after that renewal was stored, so two scorers
 * consume one partition at the same time only if one of them stalls in the middle of a
 * message (a message taken is handled to its end). Elapsed time is measured with the
 * monotonic clock, not the vault's Clock, which tests may freeze.
 */
import type { KV } from '@nats-io/kv';
import { partitionShare, fnv1a32 } from '../detect/index.js';

export interface LeaseHandlers {
  /** The scorer may consume partition k. */
  acquired(k: number): void;
  /** Stop consuming partition k, resolving once nothing taken from it is in hand; the lease is then released. */
  surrender(k: number): Promise<void>;
  /** The lease on partition k was lost: stop consuming it at once. */
  lost(k: number): void;
}

export interface PartitionLeaseOptions {
  readonly partitions: number;
  /** This scorer's id: unique among the scorers of the bus. */
  readonly member: string;
  /** The lease time: the bucket's max age, ms. */
  readonly leaseMs: number;
  /** A monotonic clock, ms (default performance.now). */
  readonly now?: () => number;
}

const MEMBERS = 'members.';
const PARTITIONS = 'partitions.';
/** A scorer consumes a partition while its last renewal is younger than this share of the lease time. */
const FRESH_SHARE = 2 / 3;

interface Lease {
  revision: number;
  /** When the request that wrote `revision` was sent: the server stored it later, so its lease runs past this plus the lease time. */
  renewedAt: number;
}

export class PartitionLeases {
  readonly #held = new Map<number, Lease>();
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(
    private readonly kv: KV,
    private readonly options: PartitionLeaseOptions,
    private readonly handlers: LeaseHandlers,
  ) {
    this.#now = options.now ?? (() => performance.now());
  }

  /** Whether this scorer may consume partition k now. */
  holds(k: number): boolean {
    const lease = this.#held.get(k);
    return lease !== undefined && this.#now() - lease.renewedAt < this.options.leaseMs * FRESH_SHARE;
  }

  /** The partitions this scorer holds, ascending. */
  held(): number[] {
    return [...this.#held.keys()].sort((a, b) => a - b);
  }

  /** Ticks now, then every third of the lease time; a tick that fails (the server unreachable) is tried again at the next. */
  start(): Promise<void> {
    this.#timer = setInterval(() => void this.#next(), this.options.leaseMs / 3);
    return this.#next();
  }

  #next(): Promise<void> {
    // Ticks never overlap: one that runs long delays the next.
    this.#tick = this.#tick.then(() => (this.#stopped ? undefined : this.tick().catch(() => undefined)));
    return this.#tick;
  }

  /** One round: heartbeat, renewals, hand-backs, claims. */
  async tick(): Promise<void> {
    const { kv, options } = this;
    await kv.put(`${MEMBERS}${options.member}`, '');
    const members: string[] = [];
    for await (const key of await kv.keys(`${MEMBERS}>`)) members.push(key.slice(MEMBERS.length));
    if (!members.includes(options.member)) members.push(options.member);
    await this.#renew();
    const share = partitionShare(options.partitions, members, options.member);
    await this.#handBack(share);
    await this.#claim(share);
  }

  async #renew(): Promise<void> {
    for (const [k, lease] of [...this.#held]) {
      const sentAt = this.#now();
      try {
        lease.revision = await this.kv.update(`${PARTITIONS}${k}`, this.options.member, lease.revision);
        lease.renewedAt = sentAt;
      } catch {
        // Expired, or taken by another scorer after it expired: stop at once.
        this.#held.delete(k);
        this.handlers.lost(k);
      }
    }
  }

  /** Hands back the highest partitions beyond `share`, all at once: each is stopped, then its lease deleted. */
  async #handBack(share: number): Promise<void> {
    const extra = this.held().slice(share);
    await Promise.all(extra.map((k) => this.#release(k)));
  }

  async #release(k: number): Promise<void> {
    const lease = this.#held.get(k);
    if (lease === undefined) return;
    await this.handlers.surrender(k);
    this.#held.delete(k);
    // At its revision: a lease that expired and was taken meanwhile is not ours to delete.
    await this.kv.delete(`${PARTITIONS}${k}`, { previousSeq: lease.revision }).catch(() => undefined);
  }

  /** Claims free partitions up to `share`, starting from a place of its own so that members joining together rarely race for the same one. */
  async #claim(share: number): Promise<void> {
    const { partitions, member } = this.options;
    const start = fnv1a32(member) % partitions;
    for (let i = 0; i < partitions && this.#held.size < share; i++) {
      const k = (start + i) % partitions;
      if (this.#held.has(k)) continue;
      const sentAt = this.#now();
      try {
        const revision = await this.kv.create(`${PARTITIONS}${k}`, member);
        this.#held.set(k, { revision, renewedAt: sentAt });
      } catch {
        continue; // held by another scorer (or the server did not answer): not ours this round
      }
      this.handlers.acquired(k);
    }
  }

  /** Stops ticking, hands back every partition held (consumption stopped first), and leaves the membership. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#tick;
    await Promise.all(this.held().map((k) => this.#release(k)));
    await this.kv.delete(`${MEMBERS}${this.options.member}`).catch(() => undefined);
  }

  /** Stops ticking without handing anything back (the connection is gone): the leases expire on the server. */
  abandon(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    for (const k of this.held()) {
      this.#held.delete(k);
      this.handlers.lost(k);
    }
  }
}
