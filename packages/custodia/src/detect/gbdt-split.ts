/**
 * The best split of a leaf from its histogram, by the second-order gain of XGBoost (Chen &
 * Guestrin, "XGBoost: A Scalable Tree Boosting System", KDD 2016, eq. 7; Newton boosting
 * after Friedman, "Greedy Function Approximation", Ann. Statist. 2001):
 *
 *   gain = G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)
 *
 * (the factor ½ and the per-leaf penalty γ are left out, as LightGBM does; `minGainToSplit`
 * plays γ's part). The leaf's optimal output is −G/(H+λ).
 *
 * Missing values learn their default direction (XGBoost §3.4, "sparsity-aware split
 * finding"): every threshold is scored with the missing bin sent right, then sent left,
 * and the better is kept. A leaf whose rows had no missing value of the feature sends
 * future missing values to its larger child.
 */
import type { FeatureBins } from './gbdt-bins.js';
import type { HistogramLayout } from './gbdt-histogram.js';

export interface SplitParams {
  /** L2 regularisation of the leaf outputs (λ). */
  readonly lambda: number;
  /** The fewest rows a child may have. */
  readonly minChildSamples: number;
  /** The smallest hessian sum a child may have. */
  readonly minChildWeight: number;
  /** A split must gain more than this. */
  readonly minGainToSplit: number;
}

export interface Split {
  readonly feature: number;
  /** Rows in bins `<= bin` go left. */
  readonly bin: number;
  readonly defaultLeft: boolean;
  readonly gain: number;
  readonly leftGrad: number;
  readonly leftHess: number;
  readonly leftCount: number;
}

/** The optimal output of a leaf with gradient sum `g` and hessian sum `h`: −G/(H+λ). */
export function leafOutput(g: number, h: number, lambda: number): number {
  return -g / (h + lambda);
}

/**
 * The best split over `features` of a leaf whose sums are `sumGrad`, `sumHess` and
 * `count`, or null when none gains more than `minGainToSplit` under the child limits.
 * Features are tried in increasing order and only a strictly better gain wins, so the
 * result is deterministic.
 */
export function findBestSplit(
  hist: Float64Array,
  layout: HistogramLayout,
  bins: FeatureBins,
  features: Int32Array,
  sumGrad: number,
  sumHess: number,
  count: number,
  p: SplitParams,
): Split | null {
  const { lambda, minChildSamples, minChildWeight } = p;
  const parentScore = (sumGrad * sumGrad) / (sumHess + lambda);
  let best: Split | null = null;
  let bestGain = p.minGainToSplit;
  for (let j = 0; j < features.length; j++) {
    const f = features[j]!;
    const nb = bins.numBins[f]!;
    if (nb < 2) continue;
    const o = layout.offsets[f]! * 3;
    const missing = o + nb * 3;
    const missCount = hist[missing + 2]!;
    // Pass 0: missing values right; pass 1 (only if there are any): missing values left.
    for (let pass = 0; pass < (missCount > 0 ? 2 : 1); pass++) {
      let gl = pass === 0 ? 0 : hist[missing]!;
      let hl = pass === 0 ? 0 : hist[missing + 1]!;
      let cl = pass === 0 ? 0 : missCount;
      for (let b = 0; b < nb - 1; b++) {
        const k = o + b * 3;
        gl += hist[k]!;
        hl += hist[k + 1]!;
        cl += hist[k + 2]!;
        if (cl < minChildSamples || hl < minChildWeight) continue;
        const cr = count - cl;
        const hr = sumHess - hl;
        if (cr < minChildSamples || hr < minChildWeight) break; // the right side only shrinks from here
        const gr = sumGrad - gl;
        const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore;
        if (gain > bestGain) {
          bestGain = gain;
          const defaultLeft = pass === 1 || (missCount === 0 && cl >= cr);
          best = { feature: f, bin: b, defaultLeft, gain, leftGrad: gl, leftHess: hl, leftCount: cl };
        }
      }
    }
  }
  return best;
}
