/**
 * The two losses the trees are boosted on, with the first and second derivatives that
 * Newton boosting needs (Friedman, "Greedy Function Approximation", Ann. Statist. 2001,
 * §4.5–4.6; Chen & Guestrin, XGBoost, KDD 2016, §2.2):
 *
 * - binary logloss on one raw score s, p = σ(s): g = p − y, h = p(1 − p);
 * - multiclass softmax on K raw scores, one tree per class per round:
 *   g_k = p_k − [y = k], h_k = K/(K−1) · p_k(1 − p_k) (LightGBM's scaling of the diagonal
 *   hessian, which accounts for the softmax's one redundant degree of freedom).
 *
 * Every row carries a weight (its class weight), multiplying its g, h and loss. The
 * initial scores are the weighted class priors: log-odds, or log-probabilities.
 */
export type ObjectiveName = 'binary' | 'multiclass';

const EPS = 1e-15;

/** Number of raw scores per row: 1 for binary, K for multiclass. */
export function outputsOf(objective: ObjectiveName, classes: number): number {
  return objective === 'binary' ? 1 : classes;
}

/** The raw scores a model starts from: the weighted class priors. */
export function initialScores(objective: ObjectiveName, classes: number, labels: ArrayLike<number>, weights: Float64Array, rows: Uint32Array): Float64Array {
  const prior = new Float64Array(classes);
  let total = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    prior[labels[r]!]! += weights[r]!;
    total += weights[r]!;
  }
  if (objective === 'binary') {
    const p = clamp(total > 0 ? prior[1]! / total : 0.5);
    return Float64Array.of(Math.log(p / (1 - p)));
  }
  return prior.map((w) => Math.log(clamp(total > 0 ? w / total : 1 / classes)));
}

/**
 * Gradients and hessians at the raw scores `scores` (row-major, `k` per row) of the
 * rows `rows`: output `c`'s are at `grad[c * n + r]` for `n` rows in all.
 */
export function computeGradients(objective: ObjectiveName, k: number, scores: Float64Array, labels: ArrayLike<number>, weights: Float64Array, rows: Uint32Array, grad: Float64Array, hess: Float64Array): void {
  const n = weights.length;
  if (objective === 'binary') {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const p = sigmoid(scores[r]!);
      const w = weights[r]!;
      grad[r] = w * (p - labels[r]!);
      hess[r] = Math.max(w * p * (1 - p), EPS);
    }
    return;
  }
  const factor = k / (k - 1);
  const prob = new Float64Array(k);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    softmaxInto(scores, r * k, k, prob, 0);
    const w = weights[r]!;
    const y = labels[r]!;
    for (let c = 0; c < k; c++) {
      const p = prob[c]!;
      grad[c * n + r] = w * (p - (c === y ? 1 : 0));
      hess[c * n + r] = Math.max(w * factor * p * (1 - p), EPS);
    }
  }
}

/** Weighted mean logloss over `rows`. */
export function meanLoss(objective: ObjectiveName, k: number, scores: Float64Array, labels: ArrayLike<number>, weights: Float64Array, rows: Uint32Array): number {
  let sum = 0;
  let total = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const w = weights[r]!;
    let loss: number;
    if (objective === 'binary') {
      const s = scores[r]!;
      loss = labels[r] === 1 ? softplus(-s) : softplus(s);
    } else {
      loss = logSumExp(scores, r * k, k) - scores[r * k + labels[r]!]!;
    }
    sum += w * loss;
    total += w;
  }
  return total > 0 ? sum / total : 0;
}

export function sigmoid(s: number): number {
  return s >= 0 ? 1 / (1 + Math.exp(-s)) : Math.exp(s) / (1 + Math.exp(s));
}

/** Softmax of `k` scores from `src[from]` into `dst[to …]`, shifted by the maximum for stability. */
export function softmaxInto(src: ArrayLike<number>, from: number, k: number, dst: Float64Array, to: number): void {
  let max = -Infinity;
  for (let c = 0; c < k; c++) if (src[from + c]! > max) max = src[from + c]!;
  let sum = 0;
  for (let c = 0; c < k; c++) {
    const e = Math.exp(src[from + c]! - max);
    dst[to + c] = e;
    sum += e;
  }
  for (let c = 0; c < k; c++) dst[to + c]! /= sum;
}

function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

function logSumExp(a: ArrayLike<number>, from: number, k: number): number {
  let max = -Infinity;
  for (let c = 0; c < k; c++) if (a[from + c]! > max) max = a[from + c]!;
  let sum = 0;
  for (let c = 0; c < k; c++) sum += Math.exp(a[from + c]! - max);
  return max + Math.log(sum);
}

function clamp(p: number): number {
  return Math.min(1 - EPS, Math.max(EPS, p));
}
