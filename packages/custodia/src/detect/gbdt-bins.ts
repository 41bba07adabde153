/**
 * Feature binning, as LightGBM does it (Ke et al., "LightGBM: A Highly Efficient Gradient
 * Boosting Decision Tree", NeurIPS 2017, §2 "histogram-based algorithm"): each feature's
 * values are cut once, before training, into at most 255 bins at quantiles of a sample
 * of the rows, plus one bin for missing values; the matrix becomes a Uint8Array of bin
 * numbers, and split finding then scans bins instead of sorted values. The bin matrix is
 * stored feature by feature (column-major), as LightGBM's dense bins are: a histogram is
 * built one feature at a time, reading one column and writing one feature's bins.
 *
 * A bin is a value range: value `v` falls in the first bin `b` with `v <= edges[b]`, or in
 * the last bin. So "bin <= b" is exactly "v <= edges[b]", and a split learnt on bins is
 * scored on raw values with the same threshold. Edges sit halfway between neighbouring
 * sample values and are always finite, so they survive JSON.
 */
import type { DenseMatrix } from './gbdt-matrix.js';

/** The most value bins per feature; bin number 255 can then still mark "missing". */
export const MAX_BINS = 255;

export interface FeatureBins {
  /** Per feature, the strictly increasing upper edges of its value bins (one fewer than the bins). */
  readonly edges: readonly Float64Array[];
  /** Per feature, its number of value bins (`edges.length + 1`); bin number `numBins[f]` is "missing". */
  readonly numBins: Uint16Array;
}

/**
 * Quantile bin edges for every feature, from the rows `sample` of `m` (NaN skipped).
 * A feature with at most `maxBins` distinct values gets one bin per value; otherwise the
 * sorted values are cut greedily into bins of about equal count, a value never split
 * across bins (so a heavy value such as 0 gets a bin of its own).
 *
 * @example
 *   const bins = computeFeatureBins(m, allRows, 255);
 *   const binned = binMatrix(m, bins);
 */
export function computeFeatureBins(m: DenseMatrix, sample: Uint32Array, maxBins: number = MAX_BINS): FeatureBins {
  const bins = Math.max(2, Math.min(MAX_BINS, maxBins));
  const edges: Float64Array[] = [];
  const numBins = new Uint16Array(m.features);
  const values = new Float64Array(sample.length);
  for (let f = 0; f < m.features; f++) {
    let n = 0;
    for (let i = 0; i < sample.length; i++) {
      const v = m.data[sample[i]! * m.features + f]!;
      if (v === v) values[n++] = v;
    }
    const e = quantileEdges(values.subarray(0, n).sort(), bins);
    edges.push(e);
    numBins[f] = e.length + 1;
  }
  return Object.freeze({ edges: Object.freeze(edges), numBins });
}

/** Greedy equal-count cuts between distinct sorted values; at most `maxBins − 1` edges. */
function quantileEdges(sorted: Float64Array, maxBins: number): Float64Array {
  const n = sorted.length;
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) {
      distinct.push(sorted[i]!);
      counts.push(1);
    } else counts[counts.length - 1]!++;
  }
  const out: number[] = [];
  if (distinct.length <= maxBins) {
    for (let i = 0; i + 1 < distinct.length; i++) out.push(edgeBetween(distinct[i]!, distinct[i + 1]!));
    return Float64Array.from(out);
  }
  let cumulative = 0;
  let target = n / maxBins;
  for (let i = 0; i + 1 < distinct.length && out.length < maxBins - 1; i++) {
    cumulative += counts[i]!;
    if (cumulative >= target) {
      out.push(edgeBetween(distinct[i]!, distinct[i + 1]!));
      target = cumulative + (n - cumulative) / (maxBins - out.length);
    }
  }
  return Float64Array.from(out);
}

/** A finite edge `e` with `a <= e < b`: the midpoint where it is representable and finite. */
function edgeBetween(a: number, b: number): number {
  const mid = a + (b - a) / 2;
  if (Number.isFinite(mid) && mid < b) return mid;
  return Number.isFinite(a) ? a : -Number.MAX_VALUE;
}

/** The bin of value `v` of a feature with these edges (binary search); NaN → the missing bin. */
export function binOf(edges: Float64Array, v: number): number {
  if (v !== v) return edges.length + 1;
  let lo = 0;
  let hi = edges.length; // answer in [lo, hi]
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (v <= edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The matrix as bin numbers, column-major: the bin of row `r`, feature `f` is at `f × rows + r`. */
export function binMatrix(m: DenseMatrix, bins: FeatureBins): Uint8Array {
  const out = new Uint8Array(m.rows * m.features);
  for (let f = 0; f < m.features; f++) {
    const e = bins.edges[f]!;
    const column = f * m.rows;
    for (let r = 0, i = f; r < m.rows; r++, i += m.features) out[column + r] = binOf(e, m.data[i]!);
  }
  return out;
}
