/**
 * Anomaly and attack detection for device networks (issue 6). This file exposes the
 * supervised model: histogram gradient-boosted trees (LightGBM-style), trained and scored
 * in TypeScript on typed arrays.
 */
// Gradient-boosted trees: input, training, the model, its file and its explanations.
export { denseMatrix, type DenseMatrix } from './gbdt-matrix.js';
export { type GbdtOptions, type EarlyStoppingOptions, type ResolvedGbdtOptions } from './gbdt-options.js';
export { type ObjectiveName } from './gbdt-objective.js';
export { trainGbdt, type GbdtTraining } from './gbdt-train.js';
export { GbdtModel, type GbdtModelSpec } from './gbdt-model.js';
export { type GbdtTree } from './gbdt-tree.js';
export { topContributions, type Attribution, type ImportanceKind, type FeatureContribution } from './gbdt-explain.js';
export { GBDT_FORMAT, GBDT_VERSION, gbdtModelToJson, gbdtModelFromJson, parseGbdtModel, type GbdtModelJson, type GbdtTreeJson } from './gbdt-json.js';
