// Device baselines kept between runs (issue 6 §2; docs/detect.md "Kept between runs"):
// what the detect stream's keep (snapshot, seal, write to SQLite) and restore (read, open,
// restore) cost per device, against scoring one telemetry record, the work they sit
// beside. Devices with full baselines (256 samples of 8 vital signs and 27 network
// features), a sealed SQLite store as `custodia serve` opens it, batches of 8 devices
// per transaction, as the stream writes them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NETWORK_FEATURES, TelemetryScorer, UniformRandom, VITAL_SIGNS } from '../dist/detect/index.js';
import { parseTelemetryMessage } from '../dist/ingest/index.js';
import { secureRandom, seededRandom } from '../dist/kernel/index.js';
import { KeyStore, openDatabase, openKeyringProvider, sealedAtRest } from '../dist/store/index.js';

const BATCH = 8; // as app/kept-baselines.ts KEEP_BATCH
const T0 = 1_764_000_000_000;

function records(devices, samples) {
  const uniform = new UniformRandom(seededRandom('bench-baselines')); // the same readings every run
  const rand = () => uniform.next();
  const around = (x, s) => Math.round((x + (rand() * 2 - 1) * s) * 100) / 100;
  const out = [];
  let seq = 0;
  for (let i = 0; i < samples; i++) {
    for (let d = 0; d < devices; d++) {
      const hr = Math.round(around(78, 4));
      const m = { SrcAddr: `10.1.${d >> 8}.${d & 255}`, DstAddr: '10.0.0.1', SrcMac: `02:00:00:01:${((d >> 8) & 255).toString(16).padStart(2, '0')}:${(d & 255).toString(16).padStart(2, '0')}`, Sport: 50000, Dport: 1883, ts: T0 + i * 1000 };
      for (const f of NETWORK_FEATURES) m[f] = Math.round(around(100, 10));
      Object.assign(m, { Temp: around(36.8, 0.2), SpO2: Math.round(around(97, 1)), Pulse_Rate: hr, SYS: Math.round(around(122, 4)), DIA: Math.round(around(78, 3)), Heart_rate: hr, Resp_Rate: Math.round(around(16, 1)), ST: around(0.1, 0.03) });
      if (VITAL_SIGNS.some((v) => m[v] === undefined)) throw new Error('a vital sign is missing');
      seq += 1;
      out.push({ device: `Device/bench-${d}`, record: parseTelemetryMessage(Buffer.from(JSON.stringify(m)), { position: { topic: 'bench', sequence: seq }, fallbackId: `b-${seq}`, receivedMs: 0 }) });
    }
  }
  return out;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Records scored a second (without and with a device class and patient), devices kept and restored a second (medians of three alternating rounds), and a snapshot's size. */
export async function baselineFigures({ devices = 500, samples = 256 } = {}) {
  const all = records(devices, samples);
  const scorer = new TelemetryScorer();
  const dir = mkdtempSync(join(tmpdir(), 'custodia-bench-baselines-'));
  const keys = new KeyStore(join(dir, 'keystore.db'), openKeyringProvider({ dataDir: dir, random: secureRandom, now: () => Date.now() }), secureRandom, () => Date.now());
  const db = await openDatabase({ database: join(dir, 'custodia.db'), atRest: sealedAtRest(keys, secureRandom) });
  const names = Array.from({ length: devices }, (_, d) => `Device/bench-${d}`);
  // The same records through a scorer that also knows each device's class and patient (the stream's case with Device.type and Device.patient).
  const inContext = new TelemetryScorer();
  const context = { deviceClass: 'http://snomed.info/sct|706172005', patient: 'Patient/bench' };
  const contextRates = [];
  const scoreRates = [];
  const keepRates = [];
  const restoreRates = [];
  try {
    for (let round = 0; round < 3; round++) {
      // Scoring: every record of every device (the first round fills the baselines; later rounds score full ones).
      let t = process.hrtime.bigint();
      for (const { device, record } of all) scorer.score(device, round === 0 ? record : { ...record, timeMs: record.timeMs + round * samples * 1000 });
      if (round > 0) scoreRates.push(all.length / (Number(process.hrtime.bigint() - t) / 1e9));
      t = process.hrtime.bigint();
      for (const { device, record } of all) inContext.score(device, round === 0 ? record : { ...record, timeMs: record.timeMs + round * samples * 1000 }, context);
      if (round > 0) contextRates.push(all.length / (Number(process.hrtime.bigint() - t) / 1e9));
      // Keeping: snapshot and write, in the stream's batches.
      t = process.hrtime.bigint();
      for (let i = 0; i < devices; i += BATCH) {
        const now = Date.now();
        await db.baselines.keep(names.slice(i, i + BATCH).map((device) => ({ device, savedAt: now, snapshot: scorer.snapshot(device) })), now - 3_600_000);
      }
      keepRates.push(devices / (Number(process.hrtime.bigint() - t) / 1e9));
      // Restoring: read, open and restore each device into a scorer that has none.
      const fresh = new TelemetryScorer();
      t = process.hrtime.bigint();
      for (const device of names) if (!fresh.restore(device, await db.baselines.load(device))) throw new Error('not restored');
      restoreRates.push(devices / (Number(process.hrtime.bigint() - t) / 1e9));
    }
    return { score: median(scoreRates), scoreInContext: median(contextRates), keep: median(keepRates), restore: median(restoreRates), snapshotBytes: scorer.snapshot(names[0]).length, sampleBytes: samples * (2 + VITAL_SIGNS.length + NETWORK_FEATURES.length) * 8 };
  } finally {
    await db.close();
    keys.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
