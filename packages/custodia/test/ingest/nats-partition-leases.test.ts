/**
 * Partition leases in a JetStream key/value bucket (ingest/nats-partition-leases.ts),
 * against a real nats-server, ticks driven by the test (no timers), elapsed time from a
 * clock the test moves:
 * - three members share eight partitions 3/3/2, disjointly, and the two left after one
 *   stops take its partitions, 4/4;
 * - a member joining takes its share only as the others hand theirs back: never two
 *   holders of one partition, checked after every tick;
 * - a member whose renewal is late may not consume (fencing), and one whose lease was
 *   taken after it expired is told it lost it and holds nothing.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { PartitionLeases } from '../../src/ingest/nats-partition-leases.js';
import { NATS_URL, natsSuite } from '../helpers/brokers.js';

const P = 8;

describe.skipIf(NATS_URL === undefined)(natsSuite('partition leases'), () => {
  const buckets: KV[] = [];
  const connections: NatsConnection[] = [];
  afterAll(async () => {
    for (const kv of buckets) await kv.destroy().catch(() => undefined);
    for (const nc of connections) await nc.close();
  });

  const bucket = async (ttl: number): Promise<KV> => {
    const nc = await connect({ servers: NATS_URL! });
    connections.push(nc);
    const kv = await new Kvm(nc).create(`custodia-test-leases-${randomBytes(4).toString('hex')}`, { ttl, history: 1 });
    buckets.push(kv);
    return kv;
  };

  /** A member whose partitions are recorded as the handlers see them. */
  const member = (kv: KV, id: string, leaseMs: number, now: () => number = () => performance.now()) => {
    const consuming = new Set<number>();
    const lost: number[] = [];
    const leases = new PartitionLeases(kv, { partitions: P, member: id, leaseMs, now }, {
      acquired: (k) => void consuming.add(k),
      surrender: async (k) => void consuming.delete(k),
      lost: (k) => {
        consuming.delete(k);
        lost.push(k);
      },
    });
    return { id, leases, consuming, lost };
  };

  type Member = ReturnType<typeof member>;
  const noOverlap = (ms: readonly Member[]): void => {
    const all = ms.flatMap((m) => [...m.consuming]);
    expect(new Set(all).size, 'a partition consumed by two members').toBe(all.length);
    for (const m of ms) expect(m.leases.held()).toEqual([...m.consuming].sort((a, b) => a - b));
  };
  const rounds = async (ms: readonly Member[], n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      for (const m of ms) {
        await m.leases.tick();
        noOverlap(ms);
      }
    }
  };

  it('divides eight partitions among three members, and among two when one stops', async () => {
    const kv = await bucket(60_000);
    const ms = ['m-a', 'm-b', 'm-c'].map((id) => member(kv, id, 60_000));
    await rounds(ms, 3);
    expect(ms.map((m) => m.consuming.size)).toEqual([3, 3, 2]);
    expect(ms.flatMap((m) => [...m.consuming]).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await ms[1]!.leases.stop();
    expect(ms[1]!.consuming.size).toBe(0);
    const left = [ms[0]!, ms[2]!];
    await rounds(left, 2);
    expect(left.map((m) => m.consuming.size)).toEqual([4, 4]);
    expect(left.flatMap((m) => [...m.consuming]).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const m of left) await m.leases.stop();
  });

  it('lets a member that joins late take its share only as the holders hand theirs back', async () => {
    const kv = await bucket(60_000);
    const a = member(kv, 'm-a', 60_000);
    await rounds([a], 1);
    expect(a.consuming.size).toBe(P);
    const b = member(kv, 'm-b', 60_000);
    await b.leases.tick(); // b sees two members, wants 4, finds none free
    expect(b.consuming.size).toBe(0);
    await rounds([a, b], 2);
    expect([a.consuming.size, b.consuming.size]).toEqual([4, 4]);
    expect(a.lost).toEqual([]); // handed back, not lost
    await a.leases.stop();
    await b.leases.stop();
  });

  it('fences a member whose renewal is late, and tells one whose expired lease was taken that it lost it', async () => {
    const leaseMs = 1_500;
    const kv = await bucket(leaseMs);
    let t = 0;
    const a = member(kv, 'm-a', leaseMs, () => t);
    await a.leases.tick();
    expect(a.consuming.size).toBe(P);
    expect(a.leases.holds(3)).toBe(true);
    t = 999; // less than two thirds of the lease time since the renewal: may consume
    expect(a.leases.holds(3)).toBe(true);
    t = 1_000; // two thirds: the server keeps the lease a third longer, but a may no longer consume
    expect(a.leases.holds(3)).toBe(false);
    // a stalls past the lease time; its leases expire on the server and b takes them.
    await new Promise((r) => setTimeout(r, leaseMs + 600));
    const b = member(kv, 'm-b', leaseMs);
    await b.leases.tick();
    expect(b.consuming.size).toBe(P);
    await a.leases.tick(); // a wakes: every renewal fails
    expect(a.lost.sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(a.consuming.size).toBe(0);
    expect(a.leases.held()).toEqual([]);
    // a is a member again, so b hands it half; never both on one partition.
    await rounds([b, a], 2);
    expect([a.consuming.size, b.consuming.size]).toEqual([4, 4]);
    await a.leases.stop();
    await b.leases.stop();
  }, 20_000);
});
