/**
 * add-checkpoint end to end (minus HTTP) over a compare-and-swap store: what is cosigned
 * is stored first, and racing requests cannot roll a log back (tlog-witness's race).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/kernel/index.js';
import { formatAddCheckpointRequest } from '../../src/ledger/add-checkpoint-request.js';
import { addCheckpoint, type WitnessStateStore } from '../../src/ledger/add-checkpoint.js';
import { signCheckpoint } from '../../src/ledger/checkpoint.js';
import { NoteVerifierSet } from '../../src/ledger/note-verifier.js';
import { witnessResponse, type WitnessConfig, type WitnessLogState } from '../../src/ledger/witness-protocol.js';
import { LOG_ORIGIN, logSigner, logVerifier, toyCheckpoint, toyProof, toyVerifyConsistency, witnessCosigner } from './note-fixtures.js';

/** An in-memory store with an honest compare-and-swap, and hooks to lose races on purpose. */
class MemoryStore implements WitnessStateStore {
  readonly states = new Map<string, WitnessLogState>();
  loads = 0;
  /** Runs before each compare-and-swap: a concurrent writer can slip in here. */
  beforeSwap: (() => Promise<unknown>) | undefined;

  async load(origin: string): Promise<WitnessLogState | undefined> {
    this.loads++;
    return this.states.get(origin);
  }

  async compareAndSwap(origin: string, expected: WitnessLogState | undefined, next: WitnessLogState): Promise<boolean> {
    await this.beforeSwap?.();
    const current = this.states.get(origin);
    const same = current === undefined ? expected === undefined : expected !== undefined && current.size === expected.size && current.rootHash.equals(expected.rootHash);
    if (!same) return false;
    this.states.set(origin, next);
    return true;
  }
}

const clock = new ManualClock(1_750_000_000_000);
const config: WitnessConfig = { logs: new Map([[LOG_ORIGIN, new NoteVerifierSet([logVerifier])]]), cosigners: [witnessCosigner(clock)], verifyConsistency: toyVerifyConsistency };

const body = (oldSize: number, size: number, lineage = 'honest', origin = LOG_ORIGIN): string =>
  formatAddCheckpointRequest({ oldSize, proof: oldSize === 0 || oldSize === size ? [] : toyProof(oldSize, size), checkpoint: signCheckpoint(toyCheckpoint(size, lineage, origin), [logSigner]) });

describe('addCheckpoint', () => {
  it('stores what it cosigns before answering, and builds on it', async () => {
    const store = new MemoryStore();
    const first = await addCheckpoint(body(0, 10), store, config);
    expect(first.status).toBe(200);
    expect(store.states.get(LOG_ORIGIN)?.size).toBe(10);
    expect((await addCheckpoint(Buffer.from(body(10, 20)), store, config)).status).toBe(200);
    expect(store.states.get(LOG_ORIGIN)?.size).toBe(20);
  });

  it('stores nothing when it refuses', async () => {
    const store = new MemoryStore();
    await addCheckpoint(body(0, 10), store, config);
    for (const b of [body(10, 10, 'fork'), body(3, 12), body(10, 15, 'fork')]) expect((await addCheckpoint(b, store, config)).status).not.toBe(200);
    expect(store.states.get(LOG_ORIGIN)?.size).toBe(10);
  });

  it('answers 400 for a malformed body and 404 for an unknown origin, without reading the store', async () => {
    const store = new MemoryStore();
    const bad = await addCheckpoint('old 01\n\n', store, config);
    expect(bad).toMatchObject({ status: 400, kind: 'malformed' });
    expect(witnessResponse(bad).body).not.toContain('01');
    expect(await addCheckpoint(body(0, 3, 'honest', 'stranger.example/log'), store, config)).toEqual({ status: 404, kind: 'unknown-log' });
    expect(store.loads).toBe(0);
  });

  it('lets a configuration error through rather than calling it a bad request', async () => {
    await expect(addCheckpoint(body(0, 3), new MemoryStore(), config, { limits: { maxSignatures: 1 } })).rejects.toMatchObject({ code: 'config-invalid' });
  });

  it('re-decides after losing a race, against the state that won (no rollback: tlog-witness steps 1–6)', async () => {
    const store = new MemoryStore();
    await addCheckpoint(body(0, 10), store, config);
    // Request A (10 → 12) is decided; before it stores, request B (10 → 15) wins.
    store.beforeSwap = () => {
      store.beforeSwap = undefined;
      return addCheckpoint(body(10, 15), store, config);
    };
    const a = await addCheckpoint(body(10, 12), store, config);
    expect(store.states.get(LOG_ORIGIN)?.size).toBe(15);
    expect(a).toEqual({ status: 409, kind: 'conflict', latestSize: 15 });
  });

  it('tells a request that lost to an identical one the new size, and cosigns its retry', async () => {
    const store = new MemoryStore();
    store.beforeSwap = () => {
      store.beforeSwap = undefined;
      return addCheckpoint(body(0, 10), store, config);
    };
    expect((await addCheckpoint(body(0, 10), store, config)).status).toBe(409);
    expect((await addCheckpoint(body(10, 10), store, config)).status).toBe(200);
  });

  it('gives up with storage-conflict when it keeps losing', async () => {
    const store = new MemoryStore();
    store.compareAndSwap = async () => false;
    await expect(addCheckpoint(body(0, 10), store, config)).rejects.toMatchObject({ code: 'storage-conflict' });
    expect(store.loads).toBe(3);
    await expect(addCheckpoint(body(0, 10), store, config, { maxAttempts: 1 })).rejects.toMatchObject({ code: 'storage-conflict' });
    expect(store.loads).toBe(4);
  });

  it('never lets concurrent submissions roll the log back', async () => {
    const store = new MemoryStore();
    await addCheckpoint(body(0, 1), store, config);
    const sizes = [5, 3, 9, 7, 2, 8];
    const outcomes = await Promise.all(sizes.map((n) => addCheckpoint(body(1, n), store, config)));
    const winners = outcomes.filter((o) => o.status === 200);
    expect(winners).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 409)).toHaveLength(sizes.length - 1);
    expect(store.states.get(LOG_ORIGIN)?.size).toBe(winners[0]!.kind === 'cosigned' ? winners[0]!.state.size : -1);
  });
});
