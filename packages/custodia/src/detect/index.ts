export {
  SEVERITIES,
  FINDING_STATUSES,
  isSeverity,
  isFindingStatus,
  severityRank,
  isOpen,
  transition,
  dedupKey,
  mergeRepeat,
  type Severity,
  type FindingStatus,
  type ExplainedFeature,
  type FindingExplanation,
  type FindingDraft,
  type Finding,
} from './finding.js';
export { gate, overLimitDraft, RATE_LIMIT_DETECTOR, spendsBudget, type GatePolicy, type GateDecision } from './finding-gate.js';
export { FLOW_FORMATS, type FlowFormat, type FlowRecord, type FlowEndpoints, type GroundTruth, type ZeekFlowRecord, type CicFlowRecord, type NslKddFlowRecord } from './flow-record.js';
export { type FlowSource, type FlowSourceReport, type BadRecord } from './flow-source.js';
export { ZEEK_TRANSPORTS, ZEEK_CONN_STATES, type ZeekTransport, type ZeekConnFeatures, type ZeekValue } from './zeek-conn-record.js';
export { CIC_FEATURES, type CicFeatureName, type CicFlowFeatures } from './cic-flow-record.js';
export {
  NSL_KDD_FEATURES, NSL_KDD_PROTOCOLS, NSL_KDD_FLAGS, NSL_KDD_SERVICES, NSL_KDD_BINARY, NSL_KDD_RATES, NSL_KDD_MAX_DIFFICULTY,
  type NslKddFeatureName, type NslKddFeatures, type NslKddProtocol, type NslKddFlag,
} from './nsl-kdd-record.js';
// Features and encoding.
export { parseFeatureSchema, defineFeatureSchema, sameFeatureSchema, SCHEMA_LIMITS, type FeatureSchema, type FeatureSpec, type NumericFeature, type CategoricalFeature } from './feature-schema.js';
export { FeatureEncoder, type FeatureRecord, type FeatureRow, type FeatureMatrix } from './feature-encoder.js';
export { NSL_KDD_SCHEMA, NSL_KDD_LABEL_COLUMNS, NSL_KDD_EXCLUDED, nslKddRow, type NslKddRow } from './nsl-kdd-features.js';
export { nslKddLabel, ATTACK_CLASSES, NSL_KDD_TRAINING_ATTACK_TYPES, type AttackClass, type NslKddLabel } from './nsl-kdd-labels.js';
// The isolation forest (Liu, Ting, Zhou 2008).
export { averagePathLength, harmonic, EULER_GAMMA } from './average-path-length.js';
export { IsolationForest, heightLimit, FOREST_LIMITS, type IsolationForestParams } from './isolation-forest.js';
export { trainIsolationForest, type IsolationForestOptions } from './train-isolation-forest.js';
export type { IsolationTreeArrays } from './isolation-tree.js';
export { UniformRandom } from './uniform-random.js';
// Evaluation.
export { rocAuc } from './roc-auc.js';
export { assignFolds } from './k-fold.js';
// Model files.
export { parseModelFile, formatModelFile, MODEL_FORMAT, MODEL_FORMAT_VERSION, MAX_MODEL_CLASSES, type ModelFileLimits } from './model-file.js';
// Detection models: unsupervised, supervised and hybrid; training, scoring, explanations, evaluation.
export { NORMAL_CLASS, UNKNOWN_CLASS, type DetectionModel, type DetectionModelKind, type IsolationForestModel, type GbdtDetectionModel, type HybridModel } from './detection-model.js';
export { calibrationRowsFor, normalQuantile, thresholdLevel } from './normal-threshold.js';
export { trainUnsupervisedDetector, trainSupervisedDetector, trainHybridDetector, selectRows, DETECTOR_GBDT_OPTIONS, DETECTOR_FOREST_OPTIONS, MAX_BAGS, DEFAULT_FALSE_POSITIVE_BUDGET, MAX_FALSE_POSITIVE_BUDGET, type Calibration, type DetectorTrainingOptions, type TrainingStage } from './train-detector.js';
export { scoreDetections, supervisedProbabilities, scoreThreshold, attackThreshold, displayScore, modelClasses, className, DETECTED_BY_TREES, DETECTED_BY_FOREST, DEFAULT_FOREST_THRESHOLD, type DetectionScores } from './detection-scores.js';
export { forestContributions } from './isolation-forest-explain.js';
export { explainDetection, observedValue, type DetectionExplanation, type DetectionFeature } from './detection-explanation.js';
export { explainByShapley, MAX_SCORED_ROWS, ORDERINGS, shapleyValues, type ShapleyScorer } from './shapley-explanation.js';
export { normalReferenceRow, parseReferenceRow } from './reference-row.js';
export { evaluateDetections, type DetectionEvaluation, type ClassMetrics } from './detection-evaluation.js';
// The Scorer port (our models in process; imported ONNX models through src/onnx/) and the ONNX sidecar.
export { modelScorer, attackProbabilityScores, type Scorer } from './scorer.js';
export { parseOnnxSidecar, ONNX_SIDECAR_FORMAT, ONNX_SIDECAR_VERSION, MAX_ONNX_SIDECAR_BYTES, type OnnxSidecar } from './onnx-sidecar.js';
export { ZEEK_CONN_SCHEMA, CIC_FLOW_SCHEMA } from './flow-feature-schemas.js';
export { schemaForFormat, formatOfSchema, flowFeatureRecord, flowClass } from './flow-features.js';
// Per-device robust baselines.
export { SortedWindow } from './sorted-window.js';
export { RobustBaseline, type RobustBaselineOptions, type BaselineState, type BaselineAssessment, type FeatureDeviation, type ScaleRule } from './robust-baseline.js';
export { DeviceBaselines, type DeviceBaselinesOptions, type DeviceAssessment } from './device-baselines.js';
// Device telemetry (WUSTL-EHMS shape), the bus between ingestion and scoring, and its scorer.
export { NETWORK_FEATURES, VITAL_SIGNS, type NetworkFeature, type VitalSign, type TelemetryRecord, type TelemetryPosition, type BadTelemetry, type TelemetryReport } from './telemetry-record.js';
export { type TelemetryBus, type BusConsumer, type TelemetryHandler, type PublishOutcome, type ConsumerHooks } from './telemetry-bus.js';
export { InProcessBus } from './in-process-bus.js';
export { senderKey, partitionOf, partitionShare, fnv1a32, MAX_PARTITIONS, DEFAULT_PARTITIONS } from './telemetry-partition.js';
export { checkVitalSigns, pulseTolerance, PLAUSIBLE_VITALS, type PlausibleRange, type VitalSignIssue } from './vital-sign-checks.js';
export { SilenceWatch, SILENCE_FEATURE, type SilenceWatchOptions } from './silence-watch.js';
export { TelemetryScorer, RATE_FEATURES, type TelemetryScorerOptions, type DeviceContext, type DeviceState } from './telemetry-scorer.js';
export { encodeBaselines, decodeBaselines, type NamedBaselineState } from './baseline-snapshot.js';
export { ArrivalRates, ARRIVALS_FEATURE, type ArrivalRateOptions } from './arrival-rate.js';
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
export { averageGbdtModels } from './gbdt-average.js';
export { GbdtModel, type GbdtModelSpec } from './gbdt-model.js';
export { type GbdtTree } from './gbdt-tree.js';
export { topContributions, type Attribution, type ImportanceKind, type FeatureContribution } from './gbdt-explain.js';
export { GBDT_FORMAT, GBDT_VERSION, gbdtModelToJson, gbdtModelFromJson, parseGbdtModel, type GbdtModelJson, type GbdtTreeJson } from './gbdt-json.js';
export { rareValues, departures, forestPartScores, type RareValue } from './rare-values.js';
export { RandomForest, RANDOM_FOREST_LIMITS, type RandomForestTree } from './random-forest.js';
export { trainRandomForest, DETECTOR_RANDOM_FOREST_OPTIONS, type RandomForestOptions } from './train-random-forest.js';
export { randomForestFromJson, randomForestToJson } from './random-forest-json.js';
