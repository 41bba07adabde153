/**
 * A trained gradient-boosted tree ensemble: its trees (round-major, one per output per
 * round), the raw scores it starts from, and scoring, probabilities and explanations.
 * Built by `trainGbdt` or `parseGbdtModel`; immutable.
 */
import { checkMatrix, type DenseMatrix } from './gbdt-matrix.js';
import { featureContributions, featureImportance, type Attribution, type ImportanceKind } from './gbdt-explain.js';
import { packForest, scoreRaw, type PackedTrees } from './packed-trees.js';
import { outputsOf, sigmoid, softmaxInto, type ObjectiveName } from './gbdt-objective.js';
import type { GbdtTree } from './gbdt-tree.js';

export interface GbdtModelSpec {
  readonly objective: ObjectiveName;
  readonly numClasses: number;
  readonly numFeatures: number;
  readonly featureNames: readonly string[] | null;
  /** One raw starting score per output. */
  readonly initScore: Float64Array;
  /** Round-major: tree `t` adds to output `t % outputs`. */
  readonly trees: readonly GbdtTree[];
}

export class GbdtModel implements GbdtModelSpec {
  readonly objective: ObjectiveName;
  readonly numClasses: number;
  readonly numFeatures: number;
  readonly featureNames: readonly string[] | null;
  readonly initScore: Float64Array;
  readonly trees: readonly GbdtTree[];
  /** Raw scores per row: 1 for binary, one per class for multiclass. */
  readonly outputs: number;
  readonly #forest: PackedTrees;

  /** Takes `spec` as given: callers (training, the checked loader) vouch for its consistency. */
  constructor(spec: GbdtModelSpec) {
    this.objective = spec.objective;
    this.numClasses = spec.numClasses;
    this.numFeatures = spec.numFeatures;
    this.featureNames = spec.featureNames === null ? null : Object.freeze([...spec.featureNames]);
    this.initScore = spec.initScore;
    this.trees = Object.freeze([...spec.trees]);
    this.outputs = outputsOf(spec.objective, spec.numClasses);
    this.#forest = packForest(this.trees, this.outputs, spec.numFeatures);
    Object.freeze(this);
  }

  /** Boosting rounds in the model. */
  get rounds(): number {
    return this.trees.length / this.outputs;
  }

  /**
   * Raw scores (log-odds for binary, per-class logits for multiclass): `rows × outputs`.
   *
   * @example
   *   const raw = model.predictRaw(denseMatrix(Float64Array.of(0.2, 0.9), 2));
   */
  predictRaw(m: DenseMatrix): Float64Array {
    checkMatrix(m, this.numFeatures);
    const k = this.outputs;
    const out = new Float64Array(m.rows * k);
    for (let r = 0; r < m.rows; r++) out.set(this.initScore, r * k);
    scoreRaw(this.#forest, m, out, k);
    return out;
  }

  /** Class probabilities, `rows × numClasses` (binary too: [P(0), P(1)]), each row summing to 1. */
  predictProba(m: DenseMatrix): Float64Array {
    const raw = this.predictRaw(m);
    const k = this.numClasses;
    const out = new Float64Array(m.rows * k);
    for (let r = 0; r < m.rows; r++) {
      if (this.objective === 'binary') {
        const p = sigmoid(raw[r]!);
        out[2 * r] = 1 - p;
        out[2 * r + 1] = p;
      } else softmaxInto(raw, r * k, k, out, r * k);
    }
    return out;
  }

  /** The most probable class of each row (the lowest on a tie). */
  predictClass(m: DenseMatrix): Int32Array {
    const p = this.predictProba(m);
    const k = this.numClasses;
    const out = new Int32Array(m.rows);
    for (let r = 0; r < m.rows; r++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (p[r * k + c]! > p[r * k + best]!) best = c;
      out[r] = best;
    }
    return out;
  }

  /**
   * Per-row feature contributions to each raw score, `rows × outputs × (features + 1)`,
   * the bias last; see gbdt-explain.ts.
   */
  contributions(m: DenseMatrix, attribution: Attribution = 'tree-shap'): Float64Array {
    checkMatrix(m, this.numFeatures);
    return featureContributions(this, m, attribution);
  }

  /** Global importance per feature: summed split gain, or split count. */
  importance(kind: ImportanceKind = 'gain'): Float64Array {
    return featureImportance(this.trees, this.numFeatures, kind);
  }
}
