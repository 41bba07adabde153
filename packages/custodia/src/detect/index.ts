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
