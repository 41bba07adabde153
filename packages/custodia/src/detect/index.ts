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
  type FeatureContribution,
  type FindingExplanation,
  type FindingDraft,
  type Finding,
} from './finding.js';
export { gate, overLimitDraft, RATE_LIMIT_DETECTOR, type GatePolicy, type GateDecision } from './finding-gate.js';
export { FLOW_FORMATS, type FlowFormat, type FlowRecord, type FlowEndpoints, type GroundTruth, type ZeekFlowRecord, type CicFlowRecord, type NslKddFlowRecord } from './flow-record.js';
export { type FlowSource, type FlowSourceReport, type BadRecord } from './flow-source.js';
export { ZEEK_TRANSPORTS, ZEEK_CONN_STATES, type ZeekTransport, type ZeekConnFeatures, type ZeekValue } from './zeek-conn-record.js';
export { CIC_FEATURES, type CicFeatureName, type CicFlowFeatures } from './cic-flow-record.js';
export {
  NSL_KDD_FEATURES, NSL_KDD_PROTOCOLS, NSL_KDD_FLAGS, NSL_KDD_SERVICES, NSL_KDD_BINARY, NSL_KDD_RATES, NSL_KDD_MAX_DIFFICULTY,
  type NslKddFeatureName, type NslKddFeatures, type NslKddProtocol, type NslKddFlag,
} from './nsl-kdd-record.js';
