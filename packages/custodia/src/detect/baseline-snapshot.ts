/**
 * The bytes a device's baselines are kept in between runs (issue 6 §2: "each device keeps
 * a robust baseline"), so that a restart, or a partition of the telemetry bus moving to
 * another scorer, does not send every device back to its learning period — a window in
 * which nothing but the physiological checks can alert, and one an attacker could open
 * by killing a scorer.
 *
 * Layout, little-endian, all lengths checked on reading:
 *
 *   "CDB1"                                      magic and version
 *   u8   parts                                  baselines that follow (1–8)
 *   per part:
 *     u16 name length, name (UTF-8)             e.g. `vitals`, `network`
 *     u16 features length, features (UTF-8)     the feature names, comma-separated
 *     u32 n                                     samples, at most the reader's capacity
 *     f64 latest                                the newest time seen (−∞ when none)
 *     f64 × n  times, f64 × n·k  rows           arrival order (robust-baseline.ts `state`)
 *
 * The length is fixed by the sample counts, never by the values: nothing about a
 * device's readings shows in how long its snapshot is.
 */
import type { BaselineState } from './robust-baseline.js';

export interface NamedBaselineState {
  readonly name: string;
  readonly features: readonly string[];
  readonly state: BaselineState;
}

const MAGIC = 'CDB1';
/** Whether this machine stores a float64 little-endian, as the format does (then the samples copy as bytes). */
const LITTLE_ENDIAN = new Uint8Array(Float64Array.of(1).buffer)[7] === 0x3f;
const MAX_PARTS = 8;
const MAX_TEXT = 4096;

export function encodeBaselines(parts: readonly NamedBaselineState[]): Uint8Array {
  if (parts.length < 1 || parts.length > MAX_PARTS) throw new RangeError(`a snapshot holds 1 to ${MAX_PARTS} baselines`);
  const texts = parts.map((p) => ({ name: Buffer.from(p.name, 'utf8'), features: Buffer.from(p.features.join(','), 'utf8') }));
  let size = 5;
  parts.forEach((p, i) => {
    if (texts[i]!.name.length > MAX_TEXT || texts[i]!.features.length > MAX_TEXT) throw new RangeError('a baseline name or feature list is too long');
    size += 2 + texts[i]!.name.length + 2 + texts[i]!.features.length + 4 + 8 + 8 * (p.state.times.length + p.state.rows.length);
  });
  const out = Buffer.alloc(size);
  let at = out.write(MAGIC, 0, 'latin1');
  out.writeUInt8(parts.length, at++);
  parts.forEach((p, i) => {
    for (const t of [texts[i]!.name, texts[i]!.features]) {
      out.writeUInt16LE(t.length, at);
      at += 2 + t.copy(out, at + 2);
    }
    out.writeUInt32LE(p.state.times.length, at);
    out.writeDoubleLE(p.state.latest, at + 4);
    at += 12;
    at = writeDoubles(out, at, p.state.times);
    at = writeDoubles(out, at, p.state.rows);
  });
  return out;
}

/** Writes `values` as float64 little-endian at `at`; returns the offset after them. */
function writeDoubles(out: Buffer, at: number, values: Float64Array): number {
  if (!LITTLE_ENDIAN) {
    for (const v of values) at = out.writeDoubleLE(v, at);
    return at;
  }
  out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), at);
  return at + values.byteLength;
}

/** `n` float64 little-endian values from `at` (the caller checked that they are there), copied into an array of their own. */
function readDoubles(b: Buffer, at: number, n: number): Float64Array {
  const values = new Float64Array(n);
  if (LITTLE_ENDIAN) new Uint8Array(values.buffer).set(b.subarray(at, at + 8 * n));
  else for (let i = 0; i < n; i++) values[i] = b.readDoubleLE(at + 8 * i);
  return values;
}

/**
 * Reads a snapshot. The bytes come from storage (the database, or whoever wrote there),
 * so they are treated as hostile: every length is checked against what remains and
 * against `maxSamples`, and a RangeError names the first thing wrong. The values
 * themselves are checked by {@link RobustBaseline.restore}.
 */
export function decodeBaselines(bytes: Uint8Array, maxSamples: number): NamedBaselineState[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number, what: string): void => {
    if (at + n > b.length) throw new RangeError(`a baseline snapshot ends inside its ${what}`);
  };
  need(5, 'header');
  if (b.toString('latin1', 0, 4) !== MAGIC) throw new RangeError('not a baseline snapshot (or one of another version)');
  const count = b.readUInt8(4);
  at = 5;
  if (count < 1 || count > MAX_PARTS) throw new RangeError(`a snapshot holds 1 to ${MAX_PARTS} baselines`);
  const text = (what: string): string => {
    need(2, what);
    const n = b.readUInt16LE(at);
    at += 2;
    if (n > MAX_TEXT) throw new RangeError(`a baseline snapshot's ${what} is too long`);
    need(n, what);
    const s = b.toString('utf8', at, at + n);
    at += n;
    return s;
  };
  const parts: NamedBaselineState[] = [];
  for (let p = 0; p < count; p++) {
    const name = text('name');
    const features = text('feature list').split(',');
    need(12, 'sample count');
    const n = b.readUInt32LE(at);
    const latest = b.readDoubleLE(at + 4);
    at += 12;
    if (n > maxSamples) throw new RangeError(`a baseline snapshot holds ${n} samples, more than the ${maxSamples} kept`);
    const k = features.length;
    need(8 * n * (1 + k), 'samples');
    const times = readDoubles(b, at, n);
    at += 8 * n;
    const rows = readDoubles(b, at, n * k);
    at += 8 * n * k;
    parts.push({ name, features, state: { latest, times, rows } });
  }
  if (at !== b.length) throw new RangeError('a baseline snapshot has bytes after its last baseline');
  return parts;
}
