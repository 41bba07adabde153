/**
 * The detection stream's kept baselines (app/kept-baselines.ts) over a real sealed SQLite
 * store, no broker: a device is read back once however many of its records arrive
 * together; keeps fall due on the vault's clock and write only devices that learned;
 * a kept snapshot that does not open is counted and the device learns afresh; a partition
 * handed over writes and forgets exactly its own devices, a lost one only forgets them;
 * a keep that fails is reported and its devices kept next time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeptBaselines } from '../../src/app/kept-baselines.js';
import { partitionOf, TelemetryScorer, type TelemetryRecord } from '../../src/detect/index.js';
import { parseTelemetryMessage } from '../../src/ingest/index.js';
import { ManualClock } from '../../src/kernel/index.js';
import { openDatabase, type BaselineStore, type VaultDatabase } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { openRawDatabase } from '../helpers/raw-database.js';
import { encode, jitter, normalMessage } from '../helpers/telemetry.js';

const T0 = 1_764_000_000_000;
let seq = 0;
const record = (mac: string, i: number, over: Record<string, unknown> = {}): TelemetryRecord =>
  parseTelemetryMessage(encode({ ...normalMessage({ mac, addr: '10.0.11.1' }, jitter(i), over), ts: T0 + i * 1000 }), { position: { topic: 't', sequence: ++seq }, fallbackId: `k-${seq}`, receivedMs: 0 });

/** MACs whose senders fall in partitions 0 and 1 of 2. */
const macIn = (k: number, from = 0): string => {
  for (let i = from; ; i++) {
    const mac = `02:00:00:00:0b:${i.toString(16).padStart(2, '0')}`;
    if (partitionOf(`mac:${mac}`, 2) === k) return mac;
  }
};

describe('kept baselines (sealed SQLite, no broker)', () => {
  let db: TestDatabase;
  let vdb: VaultDatabase;
  const loads: string[] = [];
  let store: BaselineStore;
  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    vdb = await openDatabase(db.options);
    // The real store, its reads counted.
    store = { ...vdb.baselines, load: (d) => (loads.push(d), vdb.baselines.load(d)) };
  });
  afterAll(async () => {
    await vdb?.close();
    await db?.cleanup();
  });

  /** Scores `n` records of `mac` as the stream does: restore, score, learned. */
  const feed = async (kept: KeptBaselines, scorer: TelemetryScorer, mac: string, n: number, from = 0): Promise<void> => {
    for (let i = from; i < from + n; i++) {
      const device = `talker:mac:${mac}`;
      await kept.restore(device);
      scorer.score(device, record(mac, i));
      kept.learned(device, `mac:${mac}`);
    }
  };

  it('keeps on the clock, only what learned, and reads a device back once for records that arrive together', async () => {
    const clock = new ManualClock(T0);
    const failures: unknown[] = [];
    const scorer = new TelemetryScorer();
    const kept = new KeptBaselines(scorer, { store, clock, keepEveryMs: 10_000, failed: (e) => failures.push(e) });
    const [a, b] = [macIn(0), macIn(1)];
    await feed(kept, scorer, a, 40);
    await feed(kept, scorer, b, 40);
    expect(kept.report().saved).toBe(0); // not due yet
    clock.advance(10_000);
    await feed(kept, scorer, a, 1, 40); // due: both devices learned since the start
    await kept.settled();
    expect(kept.report()).toEqual({ restored: 0, saved: 2, refused: 0 });
    clock.advance(10_000);
    await feed(kept, scorer, a, 1, 41); // only a learned since
    await kept.settled();
    expect(kept.report().saved).toBe(3);

    // A new scorer: three records of `a` at once make one read.
    loads.length = 0;
    const next = new TelemetryScorer();
    const again = new KeptBaselines(next, { store, clock, failed: (e) => failures.push(e) });
    await Promise.all([1, 2, 3].map(() => again.restore(`talker:mac:${a}`)));
    expect(loads).toEqual([`talker:mac:${a}`]);
    expect(again.report().restored).toBe(1);
    expect(next.snapshot(`talker:mac:${a}`)).toEqual(scorer.snapshot(`talker:mac:${a}`));
    await again.restore(`talker:mac:${a}`); // has baselines now: no read
    expect(loads).toHaveLength(1);
    expect(failures).toEqual([]);
  });

  it('counts a kept snapshot that does not open, and lets the device learn afresh', async () => {
    const raw = await openRawDatabase(db);
    try {
      const [a, b] = [macIn(0), macIn(1)];
      const row = (await raw.query<{ snapshot: Uint8Array }>('SELECT snapshot FROM detect_baselines WHERE device = ?', [`talker:mac:${a}`]))[0]!;
      await raw.query('UPDATE detect_baselines SET snapshot = ? WHERE device = ?', [Buffer.from(row.snapshot), `talker:mac:${b}`]); // a's snapshot on b's row
    } finally {
      await raw.close();
    }
    const scorer = new TelemetryScorer();
    const kept = new KeptBaselines(scorer, { store, clock: new ManualClock(T0), failed: () => undefined });
    await kept.restore(`talker:mac:${macIn(1)}`);
    expect(kept.report()).toEqual({ restored: 0, saved: 0, refused: 1 });
    expect(scorer.has(`talker:mac:${macIn(1)}`)).toBe(false);
  });

  it('writes and forgets the devices of a partition handed over, and only forgets those of one lost', async () => {
    const clock = new ManualClock(T0 + 60_000);
    const scorer = new TelemetryScorer();
    const kept = new KeptBaselines(scorer, { store, clock, failed: () => undefined });
    const [a0, a1, b0] = [macIn(0, 0x40), macIn(1, 0x40), macIn(0, 0x60)];
    for (const mac of [a0, a1, b0]) await feed(kept, scorer, mac, 5, 100);
    await kept.releasing(0, 2);
    expect(kept.report().saved).toBe(2); // a0 and b0, partition 0's
    expect(scorer.has(`talker:mac:${a0}`) || scorer.has(`talker:mac:${b0}`)).toBe(false);
    expect(scorer.has(`talker:mac:${a1}`)).toBe(true);
    expect(await store.load(`talker:mac:${b0}`)).toBeDefined();
    kept.lost(1, 2);
    expect(scorer.has(`talker:mac:${a1}`)).toBe(false);
    expect(await store.load(`talker:mac:${a1}`)).toBeUndefined(); // lost: not written
    await kept.keep();
    expect(kept.report().saved).toBe(2); // nothing left here to keep
  });

  it('forgets devices (an erased patient’s) only once a restore of them under way has ended, and keeps them no more', async () => {
    const clock = new ManualClock(T0);
    const [x, y] = [macIn(0, 40), macIn(1, 40)];
    const dx = `talker:mac:${x}`;
    const earlier = new TelemetryScorer();
    for (let i = 0; i < 40; i++) earlier.score(dx, record(x, i));
    await vdb.baselines.keep([{ device: dx, savedAt: T0, snapshot: earlier.snapshot(dx)! }], 0);
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => (open = r));
    // The real store, its reads held until the test lets them through.
    const slow: BaselineStore = { ...vdb.baselines, load: async (d) => (await gate, vdb.baselines.load(d)) };
    const scorer = new TelemetryScorer();
    const kept = new KeptBaselines(scorer, { store: slow, clock, keepEveryMs: 1_000, failed: () => undefined });
    const restoring = kept.restore(dx);
    let forgotten = false;
    const forgetting = kept.forget([dx]).then(() => (forgotten = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(forgotten).toBe(false); // waits for the restore, which would otherwise put the device back after it
    open();
    await restoring;
    await forgetting;
    expect(scorer.has(dx)).toBe(false);
    // Later keeps write the other device only.
    await feed(kept, scorer, y, 3);
    clock.advance(1_000);
    await feed(kept, scorer, y, 1, 3);
    await kept.settled();
    expect(kept.report().saved).toBe(1);
    expect(scorer.has(dx)).toBe(false);
  });

  it('reports a keep that failed, and keeps its devices next time', async () => {
    const other = await createTestDatabase('sqlite');
    const broken = await openDatabase(other.options);
    const failures: unknown[] = [];
    const clock = new ManualClock(T0);
    const scorer = new TelemetryScorer();
    let down = true;
    const flaky: BaselineStore = { ...broken.baselines, keep: (s, f) => (down ? Promise.reject(new Error('database down')) : broken.baselines.keep(s, f)) };
    const kept = new KeptBaselines(scorer, { store: flaky, clock, keepEveryMs: 1_000, failed: (e) => failures.push(e) });
    try {
      await feed(kept, scorer, macIn(0), 3);
      clock.advance(1_000);
      await feed(kept, scorer, macIn(0), 1, 3);
      await kept.settled();
      expect(failures.map((e) => (e as Error).message)).toEqual(['database down']);
      expect(kept.report().saved).toBe(0);
      down = false;
      await kept.keep();
      expect(kept.report().saved).toBe(1);
      expect(await broken.baselines.count()).toBe(1);
    } finally {
      await broken.close();
      await other.cleanup();
    }
  });
});
