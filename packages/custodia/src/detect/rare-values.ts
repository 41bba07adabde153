/**
 * Rare values: what the isolation forest cannot see. A forest splits a node on a feature
 * only where the node's rows differ in it; a feature that normal traffic holds at one value
 * in nearly every row (a failed-login count, a root-shell flag, a fragment count) is
 * constant in almost every subsample of 256 rows, so the forest never splits on it, and a
 * row that departs from that value there is not isolated any sooner for it. Those are the
 * departures content attacks make (password guessing: `num_failed_logins` 1 where 99.9% of
 * normal NSL-KDD rows have 0), and the forest, which the hybrid keeps for attacks nobody
 * labelled, misses them (docs/detect.md, "attack families never seen in training").
 *
 * So a detection model's forest part (the forest alone, or the hybrid's) also knows, for the numeric features on which its normal
 * training rows leave their most common value least often, that value; a row that departs
 * from it in any of them alerts through the forest part (`forestPartScores`). The
 * features are taken in order of how rarely normal rows depart (never first) while the
 * departures add up to at most `budget` of the training rows — half the forest part's
 * false-positive budget. The threshold is then calibrated on the held-out normal rows with
 * these scores (train-detector.ts), so the forest part as a whole keeps its budget: what
 * the rare values spend, the forest's own cut gives back.
 */
import type { FeatureMatrix } from './feature-encoder.js';
import type { FeatureSchema } from './feature-schema.js';

/** A feature (schema index) and the value normal training traffic almost always holds there, as encoded. */
export interface RareValue {
  readonly feature: number;
  readonly value: number;
}

/**
 * The rare-value features of normal rows `m` (see the header), within `budget` (a share of
 * the rows, in [0, 1)).
 *
 * @example
 *   rareValues(NSL_KDD_SCHEMA, normalRows, 0.0025); // e.g. [{ feature: 7, value: 0 }, …]
 */
export function rareValues(schema: FeatureSchema, m: FeatureMatrix, budget: number): RareValue[] {
  if (!(budget >= 0 && budget < 1)) throw new RangeError('the budget is a share in [0, 1)');
  if (m.rows === 0) return [];
  const candidates: { feature: number; value: number; departures: number }[] = [];
  schema.features.forEach((f, j) => {
    if (f.kind !== 'numeric') return;
    const counts = new Map<number, number>();
    for (let r = 0; r < m.rows; r++) {
      const v = m.data[r * m.width + j]!;
      if (!Number.isNaN(v)) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    let value = Number.NaN;
    let most = 0;
    for (const [v, n] of counts) if (n > most || (n === most && v < value)) [value, most] = [v, n];
    if (most > 0) candidates.push({ feature: j, value, departures: m.rows - most });
  });
  candidates.sort((a, b) => a.departures - b.departures || a.feature - b.feature);
  const out: RareValue[] = [];
  let spent = 0;
  for (const c of candidates) {
    if (spent + c.departures > budget * m.rows) break;
    spent += c.departures;
    out.push({ feature: c.feature, value: c.value });
  }
  return out.sort((a, b) => a.feature - b.feature);
}

/**
 * The rare-value features row `r` of `data` departs in (a missing value departs too: NaN
 * is never the usual value).
 */
export function departures(rare: readonly RareValue[], data: ArrayLike<number>, width: number, r: number): RareValue[] {
  return rare.filter((x) => departs(x, data, width, r));
}

const departs = (x: RareValue, data: ArrayLike<number>, width: number, r: number): boolean => data[r * width + x.feature] !== x.value;

/**
 * The forest part's scores: the forest's, and for a row that departs from a rare value at
 * least a hair above the forest's threshold `tau` — an alert, ranked among the forest's
 * weakest (its own score kept when higher). Not 1: a departing row is not thereby the most
 * anomalous of all, and at 1 the few normal rows that depart would rank above every attack
 * the trees are sure of (the hybrid's 5-fold 1 − AUC was 14 times worse so). Without a
 * threshold (calibrating one), 1.
 */
export function forestPartScores(forestScores: Float64Array, rare: readonly RareValue[] | undefined, data: ArrayLike<number>, width: number, tau?: number): Float64Array {
  if (rare === undefined || rare.length === 0) return forestScores;
  const floor = tau === undefined ? 1 : Math.min(1, tau + Math.max(Number.MIN_VALUE, tau * 2 ** -52));
  for (let r = 0; r < forestScores.length; r++) {
    if (forestScores[r]! < floor && rare.some((x) => departs(x, data, width, r))) forestScores[r] = floor;
  }
  return forestScores;
}
