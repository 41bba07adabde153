/**
 * Why the model scored a row as it did, and which features it leans on overall.
 *
 * - Per row, per output: feature contributions plus a bias that add up to the raw score
 *   (LightGBM's `pred_contrib` layout: `features` contributions, then the bias). Two
 *   attributions are offered: TreeSHAP (exact Shapley values, gbdt-tree-shap.ts), the
 *   default; and Saabas's path attribution ("Interpreting random forests", 2014), where
 *   each split on the row's path credits its feature with the change in node output, the
 *   bias being the roots' outputs. Saabas is cheaper, but not consistent.
 * - Overall: gain importance (the summed split gains of each feature, as LightGBM's
 *   `importance_type="gain"`) and split counts.
 */
import type { DenseMatrix } from './gbdt-matrix.js';
import { childOf, treeDepth, type GbdtTree } from './gbdt-tree.js';
import { addTreeShap, expectedValue, shapScratch } from './gbdt-tree-shap.js';

export type Attribution = 'tree-shap' | 'saabas';

export interface ContributionModel {
  readonly numFeatures: number;
  readonly initScore: Float64Array;
  readonly trees: readonly GbdtTree[];
}

/**
 * Contributions of every row of `m`: `rows × outputs × (features + 1)` numbers, the last
 * of each group the bias; each group sums to the row's raw score for that output.
 */
export function featureContributions(model: ContributionModel, m: DenseMatrix, attribution: Attribution = 'tree-shap'): Float64Array {
  const k = model.initScore.length;
  const width = model.numFeatures + 1;
  const out = new Float64Array(m.rows * k * width);
  const bias = Float64Array.from(model.initScore);
  model.trees.forEach((t, i) => (bias[i % k]! += attribution === 'saabas' ? t.value[0]! : expectedValue(t)));
  const scratch = shapScratch(model.trees.reduce((d, t) => Math.max(d, treeDepth(t)), 0));
  for (let r = 0; r < m.rows; r++) {
    const offset = r * m.features;
    for (let c = 0; c < k; c++) out[(r * k + c) * width + model.numFeatures] = bias[c]!;
    model.trees.forEach((t, i) => {
      const phiOffset = (r * k + (i % k)) * width;
      if (attribution === 'saabas') addSaabas(t, m.data, offset, out, phiOffset);
      else addTreeShap(t, m.data, offset, out, phiOffset, scratch);
    });
  }
  return out;
}

/** Saabas: along the row's path, each split credits its feature with child output − node output. */
function addSaabas(tree: GbdtTree, data: ArrayLike<number>, offset: number, phi: Float64Array, phiOffset: number): void {
  let n = 0;
  while (tree.feature[n]! >= 0) {
    const f = tree.feature[n]!;
    const c = childOf(tree, n, data[offset + f]!);
    phi[phiOffset + f]! += tree.value[c]! - tree.value[n]!;
    n = c;
  }
}

export type ImportanceKind = 'gain' | 'split';

/** Per feature, the summed split gain (or the number of splits) over all trees. */
export function featureImportance(trees: readonly GbdtTree[], features: number, kind: ImportanceKind = 'gain'): Float64Array {
  const out = new Float64Array(features);
  for (const t of trees) {
    for (let n = 0; n < t.feature.length; n++) {
      const f = t.feature[n]!;
      if (f >= 0) out[f]! += kind === 'gain' ? t.gain[n]! : 1;
    }
  }
  return out;
}

export interface FeatureContribution {
  readonly feature: number;
  /** The feature's name when the model has names, else `f<index>`. */
  readonly name: string;
  readonly contribution: number;
}

/**
 * The `count` features that pushed one row's score for `output` up the most (positive
 * contributions, largest first): what an alert names. `contributions` is the output of
 * {@link featureContributions}; ties go to the lower feature index.
 *
 * @example
 *   const c = model.contributions(oneRow);
 *   topContributions(c, 0, model.outputs - 1, model.numFeatures, 3, model.featureNames);
 */
export function topContributions(
  contributions: Float64Array,
  row: number,
  output: number,
  outputs: number,
  features: number,
  count: number,
  names: readonly string[] | null = null,
): FeatureContribution[] {
  const base = (row * outputs + output) * (features + 1);
  const order = Array.from({ length: features }, (_, f) => f)
    .filter((f) => contributions[base + f]! > 0)
    .sort((a, b) => contributions[base + b]! - contributions[base + a]! || a - b);
  return order.slice(0, count).map((f) => ({ feature: f, name: names?.[f] ?? `f${f}`, contribution: contributions[base + f]! }));
}
