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
 * The direct scan, feature by feature (training uses {@link buildHistogramSparse}; this is
 * its reference in the tests). Fills `hist` for the rows `rows[begin … end)` over the features `features` (the other
 * features' regions are left as they were). `binned` is column-major, `stride` rows a
 * column. The rows' gradients are first gathered in order into `ordered` (LightGBM's
 * "ordered gradients"); then each feature is one pass over its column, its few kilobytes
 * of bins staying in the L1 cache.
 */
export function buildHistogram(
  hist: Float64Array,
  layout: HistogramLayout,
  bins: FeatureBins,
  features: Int32Array,
  binned: Uint8Array,
  stride: number,
  rows: Uint32Array,
  begin: number,
  end: number,
  grad: Float64Array,
  hess: Float64Array,
  ordered: Float64Array,
): void {
  const n = end - begin;
  for (let i = 0; i < n; i++) {
    const r = rows[begin + i]!;
    ordered[2 * i] = grad[r]!;
    ordered[2 * i + 1] = hess[r]!;
  }
  for (let j = 0; j < features.length; j++) {
    const f = features[j]!;
    const base = layout.offsets[f]! * 3;
    hist.fill(0, base, base + (bins.numBins[f]! + 1) * 3);
    const column = f * stride;
    for (let i = 0; i < n; i++) {
      const o = base + binned[column + rows[begin + i]!]! * 3;
      hist[o]! += ordered[2 * i]!;
      hist[o + 1]! += ordered[2 * i + 1]!;
      hist[o + 2]! += 1;
    }
  }
}

/**
 * The bins of every row that are not its feature's most frequent bin, row by row
 * (LightGBM's sparse features and "most frequent bin"): most NSL-KDD features are 0 on
 * most rows, so a row keeps about a quarter of its bins. Row `r`'s entries are
 * `slot[start[r] … start[r + 1])`, each the index of a bin triple in the histogram.
 */
export interface SparseRowBins {
  readonly start: Uint32Array;
  /** 16-bit while the histogram has at most 65,536 bins (257 features of 255 bins), else 32-bit. */
  readonly slot: Uint16Array | Uint32Array;
  /** Per feature, the index of the triple of its most frequent bin (never stored). */
  readonly frequentSlot: Uint32Array;
}

/** {@link SparseRowBins} of the column-major bin matrix `binned` (`rows` rows a column). */
export function sparseRowBins(binned: Uint8Array, rows: number, bins: FeatureBins, layout: HistogramLayout): SparseRowBins {
  const features = bins.numBins.length;
  const frequentSlot = new Uint32Array(features);
  const counts = new Uint32Array(256);
  let kept = 0;
  for (let f = 0; f < features; f++) {
    counts.fill(0);
    const column = f * rows;
    for (let r = 0; r < rows; r++) counts[binned[column + r]!]!++;
    let best = 0;
    for (let b = 1; b <= bins.numBins[f]!; b++) if (counts[b]! > counts[best]!) best = b;
    frequentSlot[f] = layout.offsets[f]! + best;
    kept += rows - counts[best]!;
  }
  const start = new Uint32Array(rows + 1);
  const slot = layout.length / 3 <= 0x10000 ? new Uint16Array(kept) : new Uint32Array(kept);
  let k = 0;
  for (let r = 0; r < rows; r++) {
    start[r] = k;
    for (let f = 0; f < features; f++) {
      const s = layout.offsets[f]! + binned[f * rows + r]!;
      if (s !== frequentSlot[f]) slot[k++] = s;
    }
  }
  start[rows] = k;
  return Object.freeze({ start, slot, frequentSlot });
}

/**
 * The histogram of the rows `rows[begin … end)` over every feature, from their sparse
 * bins: one pass adds each row to its stored bins, then each feature's most frequent bin
 * gets the leaf's totals minus its other bins. Counts are exact; the sums of that one bin
 * differ from a direct scan by rounding only.
 */
export function buildHistogramSparse(
  hist: Float64Array,
  layout: HistogramLayout,
  bins: FeatureBins,
  sparse: SparseRowBins,
  rows: Uint32Array,
  begin: number,
  end: number,
  grad: Float64Array,
  hess: Float64Array,
): void {
  hist.fill(0);
  const { start, slot } = sparse;
  let tg = 0;
  let th = 0;
  for (let i = begin; i < end; i++) {
    const r = rows[i]!;
    const g = grad[r]!;
    const h = hess[r]!;
    tg += g;
    th += h;
    for (let k = start[r]!, e = start[r + 1]!; k < e; k++) {
      const o = slot[k]! * 3;
      hist[o]! += g;
      hist[o + 1]! += h;
      hist[o + 2]! += 1;
    }
  }
  const n = end - begin;
  for (let f = 0; f < bins.numBins.length; f++) {
    let g = tg;
    let h = th;
    let c = n;
    const from = layout.offsets[f]! * 3;
    const to = from + (bins.numBins[f]! + 1) * 3;
    for (let o = from; o < to; o += 3) {
      g -= hist[o]!;
      h -= hist[o + 1]!;
      c -= hist[o + 2]!;
    }
    const o = sparse.frequentSlot[f]! * 3;
    hist[o] = c === 0 ? 0 : g;
    hist[o + 1] = c === 0 ? 0 : h;
    hist[o + 2] = c;
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
