/**
 * Gradient histograms of one leaf (Ke et al., LightGBM, NeurIPS 2017, Algorithm 1): per
 * feature and bin, the sums of the gradients, of the hessians and the count of the leaf's
 * rows. The histogram of one child is built from its rows; its sibling's is the parent's
 * minus it (the "histogram subtraction" of §2), so only the smaller child is ever scanned.
 *
 * One histogram is a Float64Array of triples `[Σg, Σh, n]`, feature `f` taking
 * `numBins[f] + 1` triples (its value bins, then its missing bin) from `offsets[f]`.
 */
import type { FeatureBins } from './gbdt-bins.js';

export interface HistogramLayout {
  /** Per feature, the index of its first bin triple. */
  readonly offsets: Uint32Array;
  /** Length of one histogram in numbers (3 per bin). */
  readonly length: number;
}

export function histogramLayout(bins: FeatureBins): HistogramLayout {
  const offsets = new Uint32Array(bins.numBins.length);
  let slot = 0;
  for (let f = 0; f < bins.numBins.length; f++) {
    offsets[f] = slot;
    slot += bins.numBins[f]! + 1;
  }
  return Object.freeze({ offsets, length: slot * 3 });
}

/**
 * Fills `hist` for the rows `rows[begin … end)` over the features `features` (the other
 * features' regions are left as they were). `binned` is row-major, `width` bytes a row.
 */
export function buildHistogram(
  hist: Float64Array,
  layout: HistogramLayout,
  bins: FeatureBins,
  features: Int32Array,
  binned: Uint8Array,
  width: number,
  rows: Uint32Array,
  begin: number,
  end: number,
  grad: Float64Array,
  hess: Float64Array,
): void {
  const offsets = layout.offsets;
  const nf = features.length;
  for (let j = 0; j < nf; j++) {
    const f = features[j]!;
    hist.fill(0, offsets[f]! * 3, (offsets[f]! + bins.numBins[f]! + 1) * 3);
  }
  // Per selected feature, where its triples start: the inner loop then does one lookup.
  const base = new Int32Array(nf);
  for (let j = 0; j < nf; j++) base[j] = offsets[features[j]!]! * 3;
  for (let i = begin; i < end; i++) {
    const r = rows[i]!;
    const g = grad[r]!;
    const h = hess[r]!;
    const rowStart = r * width;
    for (let j = 0; j < nf; j++) {
      const o = base[j]! + binned[rowStart + features[j]!]! * 3;
      hist[o]! += g;
      hist[o + 1]! += h;
      hist[o + 2]! += 1;
    }
  }
}

/** `parent ← parent − child` over the features `features`: the parent's histogram becomes the sibling's. */
export function subtractHistogram(parent: Float64Array, child: Float64Array, layout: HistogramLayout, bins: FeatureBins, features: Int32Array): void {
  for (let j = 0; j < features.length; j++) {
    const f = features[j]!;
    const end = (layout.offsets[f]! + bins.numBins[f]! + 1) * 3;
    for (let k = layout.offsets[f]! * 3; k < end; k++) parent[k]! -= child[k]!;
  }
}
