/**
 * Encoding records into rows of numbers under a {@link FeatureSchema}: one row is the
 * schema's features in order, numeric ones as (transformed) numbers and categorical ones
 * as their vocabulary index. Rows are stored row-major in one Float64Array (or
 * Float32Array), the layout the models score in a tight loop.
 *
 * Record values come from flow files and telemetry: attacker-reachable. A numeric field
 * must be a finite number or a plain decimal string (no hex, no `Infinity`, no empty
 * string); anything else is refused with `import-failed`, naming the feature but never
 * quoting the value.
 */
import { CustodiaError } from '../kernel/index.js';
import type { FeatureSchema } from './feature-schema.js';

/** A record as a flow parser yields it: feature name → number or already-split string field. */
export type FeatureRecord = Readonly<Record<string, string | number | undefined>>;

/** A row of features, or many rows back to back. */
export type FeatureRow = Float64Array | Float32Array;

/** Rows of one schema, row-major: row r is `data[r·width … (r+1)·width)`. */
export interface FeatureMatrix {
  readonly data: Float64Array;
  readonly rows: number;
  readonly width: number;
}

// No ambiguity between the alternatives, so no catastrophic backtracking on long input.
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const MAX_FIELD = 64;

function refuse(feature: string, why: string): CustodiaError {
  return new CustodiaError('import-failed', `Feature ${feature}: ${why}`);
}

function toNumber(v: string | number | undefined, feature: string): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw refuse(feature, 'not a finite number');
    return v;
  }
  if (typeof v !== 'string') throw refuse(feature, 'missing');
  if (v.length > MAX_FIELD || !DECIMAL.test(v)) throw refuse(feature, 'not a decimal number');
  const n = Number(v);
  if (!Number.isFinite(n)) throw refuse(feature, 'out of range');
  return n;
}

type Slot = (record: FeatureRecord) => number;

/**
 * A schema compiled for encoding: vocabularies become Maps (never plain objects, so a
 * category named `__proto__` or `constructor` is just a string).
 *
 * @example
 *   const encoder = new FeatureEncoder(NSL_KDD_SCHEMA);
 *   const row = encoder.encode({ duration: '0', protocol_type: 'tcp', … });
 */
export class FeatureEncoder {
  readonly schema: FeatureSchema;
  readonly width: number;
  readonly #slots: readonly Slot[];

  constructor(schema: FeatureSchema) {
    this.schema = schema;
    this.width = schema.features.length;
    this.#slots = schema.features.map((f): Slot => {
      const name = f.name;
      if (f.kind === 'categorical') {
        const index = new Map(f.vocabulary.map((c, i) => [c, i]));
        const unseen = f.vocabulary.length;
        return (r) => {
          const v = r[name];
          if (typeof v !== 'string') throw refuse(name, 'missing');
          return index.get(v) ?? unseen;
        };
      }
      if (f.transform === 'log1p') {
        return (r) => {
          const x = toNumber(r[name], name);
          if (x < 0) throw refuse(name, 'negative where a count is expected');
          return Math.log1p(x);
        };
      }
      return (r) => toNumber(r[name], name);
    });
  }

  /**
   * Writes `record` as one row into `out` at `offset` (default: a new Float64Array).
   * Throws `import-failed` for a missing or malformed field; `out` is then unchanged.
   */
  encode(record: FeatureRecord, out: FeatureRow = new Float64Array(this.width), offset = 0): FeatureRow {
    if (offset < 0 || offset + this.width > out.length) throw new RangeError('row does not fit');
    const slots = this.#slots;
    const row = new Float64Array(this.width);
    for (let i = 0; i < slots.length; i++) row[i] = slots[i]!(record);
    out.set(row, offset);
    return out;
  }

  /**
   * Encodes many records into one matrix. A record that fails to encode fails the whole
   * call; callers that must skip bad records encode one by one.
   *
   * @example
   *   const { data, rows, width } = encoder.encodeAll(records);
   */
  encodeAll(records: readonly FeatureRecord[]): FeatureMatrix {
    const data = new Float64Array(records.length * this.width);
    for (let r = 0; r < records.length; r++) this.encode(records[r]!, data, r * this.width);
    return { data, rows: records.length, width: this.width };
  }
}
