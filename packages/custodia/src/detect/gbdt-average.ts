/**
 * The average of boosted ensembles trained apart, as one ensemble: bagging (Breiman,
 * "Bagging Predictors", Machine Learning 24, 1996) with whole boosted models as the base
 * learners. Its raw scores (log-odds, or per-class logits) are the mean of theirs: each
 * tree of each part, its outputs divided by the number of parts, and the mean of their
 * starting scores. The probabilities are then the softmax (or sigmoid) of the mean
 * logits, a normalised geometric mean of the parts' probabilities.
 *
 * One model, not a list of them: scoring, the model file and both explanations stay
 * those of one ensemble. Contributions are additive over trees (gbdt-tree-shap.ts), so
 * they stay exact; a node's cover (`count`) and split gain are those of the part it came
 * from, which is what TreeSHAP weighs by and what gain importance sums.
 */
import { invalidInput } from './gbdt-matrix.js';
import { GbdtModel } from './gbdt-model.js';
import type { GbdtTree } from './gbdt-tree.js';

/** One model whose raw score is the mean of `parts`' (same objective, classes and features). */
export function averageGbdtModels(parts: readonly GbdtModel[]): GbdtModel {
  const first = parts[0];
  if (first === undefined) throw invalidInput('nothing to average');
  if (parts.length === 1) return first;
  for (const p of parts) {
    if (p.objective !== first.objective || p.numClasses !== first.numClasses || p.numFeatures !== first.numFeatures) throw invalidInput('only models of one objective, class count and feature count can be averaged');
  }
  const share = 1 / parts.length;
  const initScore = new Float64Array(first.initScore.length);
  for (const p of parts) p.initScore.forEach((v, i) => (initScore[i]! += v * share));
  // Round-major in each part, and each part a whole number of rounds: tree t of the whole still adds to output t % outputs.
  const trees: GbdtTree[] = parts.flatMap((p) => p.trees.map((t) => ({ ...t, value: t.value.map((v) => v * share) })));
  return new GbdtModel({ objective: first.objective, numClasses: first.numClasses, numFeatures: first.numFeatures, featureNames: first.featureNames, initScore, trees });
}
