/**
 * Device baselines kept between runs (store/baseline-store.ts, migration 0027), on every
 * database: a snapshot comes back as it was kept and a newer one replaces it; snapshots
 * not kept within the window are deleted; at rest a snapshot is sealed (none of its
 * readings in the row), a snapshot copied onto another device's row does not open, and
 * data-key rotation moves the snapshots to the new tenant key before the old one is dropped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyRotation } from '../../src/app/key-rotation.js';
import { envelopeKeyId } from '../../src/crypto/index.js';
import { TelemetryScorer, type TelemetryRecord } from '../../src/detect/index.js';
import { parseTelemetryMessage } from '../../src/ingest/index.js';
import { ManualClock } from '../../src/kernel/index.js';
import { openDatabase, type VaultDatabase } from '../../src/store/index.js';
import { ALL_DATABASES, createTestDatabase, isAvailable, type TestDatabase } from '../helpers/databases.js';
import { openRawDatabase, type RawDatabase } from '../helpers/raw-database.js';
import { encode, jitter, normalMessage } from '../helpers/telemetry.js';

const monitor = { mac: '02:00:00:00:00:aa', addr: '10.0.4.17' };
let seq = 0;
const record = (i: number, over: Record<string, unknown> = {}): TelemetryRecord =>
  parseTelemetryMessage(encode({ ...normalMessage(monitor, jitter(i), over), ts: 1_764_000_000_000 + i * 1000 }), { position: { topic: 't', sequence: ++seq }, fallbackId: `f-${seq}`, receivedMs: 0 });

/** A device's snapshot after `n` records, with one distinctive reading (SpO2 91.375) among them. */
function snapshotOf(device: string, n: number): Uint8Array {
  const s = new TelemetryScorer();
  for (let i = 0; i < n; i++) s.score(device, record(i, i === 3 ? { SpO2: 91.375 } : {}));
  return s.snapshot(device)!;
}

const bytes = (v: Uint8Array): Buffer => Buffer.from(v);

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`device baselines kept on ${name}`, () => {
    let db: TestDatabase;
    let vdb: VaultDatabase;
    let raw: RawDatabase;
    const clock = new ManualClock(Date.UTC(2026, 10, 1));

    beforeAll(async () => {
      db = await createTestDatabase(name);
      vdb = await openDatabase(db.options);
      raw = await openRawDatabase(db);
    });
    afterAll(async () => {
      await raw?.close();
      await vdb?.close();
      await db?.cleanup();
    });

    const stored = async (device: string): Promise<Buffer> => bytes((await raw.query<{ snapshot: Uint8Array }>('SELECT snapshot FROM detect_baselines WHERE device = ?', [device]))[0]!.snapshot);

    it('gives back what it kept, the newest snapshot of each device, and forgets what was not kept within the window', async () => {
      const a1 = snapshotOf('Device/a', 10);
      const a2 = snapshotOf('Device/a', 40);
      const b = snapshotOf('talker:mac:02:00:00:00:00:bb', 5);
      expect(await vdb.baselines.load('Device/a')).toBeUndefined();
      await vdb.baselines.keep([{ device: 'Device/a', savedAt: 1_000, snapshot: a1 }, { device: 'talker:mac:02:00:00:00:00:bb', savedAt: 1_000, snapshot: b }], 0);
      expect(bytes((await vdb.baselines.load('Device/a'))!)).toEqual(bytes(a1));
      await vdb.baselines.keep([{ device: 'Device/a', savedAt: 5_000, snapshot: a2 }], 0);
      expect(bytes((await vdb.baselines.load('Device/a'))!)).toEqual(bytes(a2));
      expect(await vdb.baselines.count()).toBe(2);
      // A scorer takes it back as it was.
      const next = new TelemetryScorer();
      expect(next.restore('Device/a', (await vdb.baselines.load('Device/a'))!)).toBe(true);
      expect(bytes(next.snapshot('Device/a')!)).toEqual(bytes(a2));
      // The talker was last kept at 1,000: a keep that forgets before 2,000 deletes it, and nothing newer.
      await vdb.baselines.keep([], 2_000);
      expect(await vdb.baselines.load('talker:mac:02:00:00:00:00:bb')).toBeUndefined();
      expect(await vdb.baselines.count()).toBe(1);
    });

    it('forgets the snapshots of given devices, and only those', async () => {
      await vdb.baselines.keep([{ device: 'Device/x1', savedAt: 5_000, snapshot: snapshotOf('Device/x1', 3) }, { device: 'Device/x2', savedAt: 5_000, snapshot: snapshotOf('Device/x2', 3) }], 0);
      expect(await vdb.baselines.forget(['Device/x1', 'Device/never-kept', "Device/x2' OR 1=1 --"])).toBe(1);
      expect(await vdb.baselines.load('Device/x1')).toBeUndefined();
      expect(await vdb.baselines.load('Device/x2')).toBeDefined();
      expect(await vdb.baselines.forget([])).toBe(0);
      expect(await vdb.baselines.forget(['Device/x2'])).toBe(1);
      expect(await vdb.baselines.load('Device/a')).toBeDefined();
    });

    it('keeps a snapshot sealed, bound to its device', async () => {
      const a = (await vdb.baselines.load('Device/a'))!;
      const row = await stored('Device/a');
      const reading = Buffer.alloc(8);
      reading.writeDoubleLE(91.375);
      expect(bytes(a).includes(reading)).toBe(true);
      expect(row.includes(reading)).toBe(false);
      expect(row.includes(Buffer.from('SpO2'))).toBe(false);
      await vdb.baselines.keep([{ device: 'Device/c', savedAt: 5_000, snapshot: snapshotOf('Device/c', 3) }], 0);
      await raw.query("UPDATE detect_baselines SET snapshot = ? WHERE device = 'Device/c'", [row]);
      await expect(vdb.baselines.load('Device/c')).rejects.toMatchObject({ code: 'decrypt-failed' });
      await raw.query("DELETE FROM detect_baselines WHERE device = 'Device/c'");
    });

    it('moves the snapshots to the new tenant key on data-key rotation', async () => {
      const before = envelopeKeyId(await stored('Device/a'));
      const kept = bytes((await vdb.baselines.load('Device/a'))!);
      const rotation = new KeyRotation(db.keys, vdb.sealedData, db.options.atRest, vdb.operatorLog, clock);
      await rotation.retireDataKeys('test');
      await rotation.resealAll();
      const after = envelopeKeyId(await stored('Device/a'));
      expect(after).not.toBe(before);
      expect(db.keys.ownerOf(after)).toBe('tenant');
      expect(db.keys.lookup(before)).toBeUndefined(); // dropped: nothing is sealed under it any more
      expect(bytes((await vdb.baselines.load('Device/a'))!)).toEqual(kept);
    });
  });
}
