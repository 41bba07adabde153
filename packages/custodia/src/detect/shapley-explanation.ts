/**
 * Explanations for a model we cannot look inside (an imported ONNX model): each feature's
 * Shapley value (L. S. Shapley, "A Value for n-Person Games", 1953) in the game whose
 * players are the features where the alert row x differs from the reference row r
 * (reference-row.ts), and whose value of a coalition S is the score of x with the
 * features outside S put back to the reference:
 *
 *     v(S) = s(x_S, r_rest),   φ_f = E_π [ v(before_π(f) ∪ {f}) − v(before_π(f)) ]
 *
 * over orderings π of the players — the "baseline Shapley" of M. Sundararajan, A. Najmi,
 * "The Many Shapley Values for Model Explanation", ICML 2020, §4.1. Features equal to the
 * reference are dummies (φ = 0) and are never scored.
 *
 * The expectation is estimated by sampling orderings (E. Štrumbelj, I. Kononenko,
 * "Explaining prediction models and individual predictions with feature contributions",
 * Knowledge and Information Systems 41, 2014, §3.1), each with its reverse (antithetic
 * pairs: R. Mitchell et al., "Sampling Permutations for Shapley Value Estimation", JMLR
 * 23, 2022, §5). One ordering walks from r to x a feature at a time, so it costs d − 1
 * scored rows for d players, and its marginal contributions add up to s(x) − s(r); hence
 * so do the estimates, exactly (efficiency), however few orderings are drawn. With one or
 * two players, one pair is every ordering and the values are exact.
 *
 * Why not occlusion (the fall in the score when one feature alone is put back): when
 * either of two features alone keeps a row an alert, putting back one moves the score
 * little, and both looked weak. Here they share the effect. For this effect occlusion
 * needed d rows per alert; this needs {@link ORDERINGS}·(d − 1).
 *
 * Deterministic: a row's orderings are drawn from a generator seeded by the row's own
 * values, so the same row gets the same explanation in any batch, in any position.
 */
import { createHash } from 'node:crypto';
import { seededRandom } from '../kernel/index.js';
import type { DetectionExplanation } from './detection-explanation.js';
import { explainedScore, observedValue, topFeatures } from './detection-explanation.js';
import type { DetectionScores } from './detection-scores.js';
import type { FeatureMatrix } from './feature-encoder.js';
import { seededPrng } from './gbdt-prng.js';
import type { Scorer } from './scorer.js';

/** Orderings sampled per row (half of them the reverses of the other half). */
export const ORDERINGS = 16;
/** The most rows scored in one `score()` call (65,536 rows of 39 doubles: 20 MB). */
export const MAX_SCORED_ROWS = 65_536;

/** What the explanation needs of a scorer. */
export type ShapleyScorer = Pick<Scorer, 'kind' | 'schema' | 'threshold' | 'score' | 'className'>;

/** The orderings of `players` for one row: pairs of an ordering and its reverse, seeded by the row's values. */
function orderings(row: Float64Array, players: readonly number[]): number[][] {
  const seed = createHash('sha256').update(new Uint8Array(row.buffer, row.byteOffset, row.byteLength)).digest('hex');
  const prng = seededPrng(seededRandom(`shapley:${seed}`));
  const out: number[][] = [];
  for (let k = 0; k < ORDERINGS / 2; k++) {
    // Fisher–Yates (Knuth, TAOCP vol. 2, Algorithm 3.4.2P).
    const p = [...players];
    for (let i = p.length - 1; i > 0; i--) {
      const j = Math.floor(prng.nextFloat() * (i + 1));
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    out.push(p, p.toReversed());
  }
  return out;
}

/**
 * The Shapley values of the rows `rows` of `matrix` against `reference`, given their own
 * scores (`scoreOf`) and the reference's (`referenceScore`); one array of `width` values
 * per row, zero for the features equal to the reference.
 */
export async function shapleyValues(scorer: Pick<Scorer, 'score'>, reference: Float64Array, referenceScore: number, matrix: FeatureMatrix, rows: readonly number[], scoreOf: (row: number) => number): Promise<Float64Array[]> {
  const w = matrix.width;
  const values = rows.map(() => new Float64Array(w));
  const xOf = (k: number): Float64Array => matrix.data.subarray(rows[k]! * w, (rows[k]! + 1) * w);
  const playersOf = (x: Float64Array): number[] => {
    const players: number[] = [];
    for (let f = 0; f < w; f++) if (x[f] !== reference[f]) players.push(f);
    return players;
  };
  // Rows scored per alert: ORDERINGS walks of d − 1 steps for its d players (the last step, x itself, is already scored).
  const cost = Int32Array.from(rows, (_, k) => ORDERINGS * Math.max(0, playersOf(xOf(k)).length - 1));
  let i = 0;
  while (i < rows.length) {
    // A chunk of alerts whose walks fit one score() call (one alert at least: 16 · 1023 rows at most, SCHEMA_LIMITS).
    let end = i;
    let n = 0;
    while (end < rows.length && (end === i || n + cost[end]! <= MAX_SCORED_ROWS)) n += cost[end++]!;
    // Each alert's orderings of its players (the features away from the reference).
    const walks: number[][][] = [];
    for (let k = i; k < end; k++) {
      const x = xOf(k);
      const players = playersOf(x);
      walks.push(players.length === 0 ? [] : orderings(x, players));
    }
    const data = new Float64Array(n * w);
    let at = 0;
    for (let k = i; k < end; k++) {
      const x = xOf(k);
      for (const order of walks[k - i]!) {
        // The walk from r: after step j, the first j + 1 players of the ordering have x's values.
        const step = Float64Array.from(reference);
        for (let j = 0; j < order.length - 1; j++) {
          step[order[j]!] = x[order[j]!]!;
          data.set(step, at * w);
          at++;
        }
      }
    }
    const scored = n === 0 ? undefined : (await scorer.score({ data, rows: n, width: w })).score;
    at = 0;
    for (let k = i; k < end; k++) {
      const orders = walks[k - i]!;
      const v = values[k]!;
      const full = scoreOf(rows[k]!);
      for (const order of orders) {
        let before = referenceScore;
        for (let j = 0; j < order.length; j++) {
          const after = j === order.length - 1 ? full : scored![at++]!;
          v[order[j]!]! += (after - before) / orders.length;
          before = after;
        }
      }
    }
    i = end;
  }
  return values;
}

function explanation(scorer: ShapleyScorer, reference: Float64Array, row: Float64Array, contribution: Float64Array, scores: DetectionScores, at: number, count: number): DetectionExplanation {
  const { schema } = scorer;
  return {
    ...explainedScore(scores, at, scorer),
    features: topFeatures(contribution, 1, count).map((f) => ({
      feature: schema.features[f]!.name,
      value: observedValue(schema, f, row[f]!),
      reference: observedValue(schema, f, reference[f]!),
      contribution: contribution[f]!,
      source: 'shapley' as const,
    })),
  };
}

/**
 * Explains every alert (label 1) of `scores`, the scorer's scores of `matrix`, by Shapley
 * values against `reference`, with up to `count` features each (the largest positive
 * values); `undefined` for the other rows.
 *
 * @example
 *   const scores = await scorer.score(matrix);
 *   const e = await explainByShapley(scorer, reference, matrix, scores, 5);
 *   e[3]?.features[0]; // { feature: 'src_bytes', value: 54540, reference: 230, contribution: 0.41, source: 'shapley' }
 */
export async function explainByShapley(scorer: ShapleyScorer, reference: Float64Array, matrix: FeatureMatrix, scores: DetectionScores, count: number): Promise<(DetectionExplanation | undefined)[]> {
  const w = matrix.width;
  if (reference.length !== w || scorer.schema.features.length !== w) throw new RangeError(`rows, reference and schema must have the same width (${w})`);
  const out: (DetectionExplanation | undefined)[] = new Array<DetectionExplanation | undefined>(matrix.rows).fill(undefined);
  const alerts = Array.from(scores.label, (l, r) => (l === 1 ? r : -1)).filter((r) => r >= 0);
  if (alerts.length === 0) return out;
  const referenceScore = (await scorer.score({ data: Float64Array.from(reference), rows: 1, width: w })).score[0]!;
  const values = await shapleyValues(scorer, reference, referenceScore, matrix, alerts, (r) => scores.score[r]!);
  alerts.forEach((r, i) => {
    out[r] = explanation(scorer, reference, matrix.data.slice(r * w, (r + 1) * w), values[i]!, scores, r, count);
  });
  return out;
}
