/**
 * Flow alerts as findings (issue 6 §4): every flow a detection model labels attack becomes
 * an explained finding about its device, raised through the FindingService (so that
 * duplicates fold and a flood of alerts is rate-limited, as for the telemetry stream):
 *
 *   - the device: the FHIR Device the originator's MAC or address names (DeviceDirectory),
 *     else the unknown talker's inventory entry (`talker:…`, noted in the inventory), else,
 *     for a data set without endpoints (NSL-KDD), the input file (`flows:<name>`);
 *   - the window: the flow's start when the format gives it (Zeek `ts`), else now;
 *   - the explanation: the model, its score and threshold, the class, and the top features
 *     with their values and contributions (detection-explanation.ts), and for an imported
 *     model explained by Shapley values, each feature's reference value as its baseline.
 */
import { basename } from 'node:path';
import { displayScore, senderKey, type DetectionExplanation, type DetectionFeature, type ExplainedFeature, type FindingDraft, type Severity } from '../detect/index.js';
import { CustodiaError, secureRandom, systemClock, type Clock } from '../kernel/index.js';
import type { VaultConfig } from './config.js';
import { DeviceDirectory } from './device-directory.js';
import type { ScoredBatch } from './detector-files.js';
import { FindingService } from './finding-service.js';
import { TalkerInventory } from './talker-inventory.js';
import { withAuditedDatabase } from './finding-admin.js';

/** Features named in a finding's explanation (the scorer's `explain`). */
export const FLOW_FINDING_FEATURES = 5;
/** A score at or above this is a high-severity finding; below it, medium. */
const HIGH_SCORE = 0.9;

export interface FlowAlerts {
  /** Raises the findings of a scored batch (its attack rows, which it must explain: scoreFlowFile's `explain`). */
  raise(batch: ScoredBatch): Promise<void>;
  /** Attack rows raised, and the distinct findings they went into (fewer: folded by dedup and rate limits). */
  readonly raised: number;
  readonly findings: number;
}

/**
 * A feature of an explanation as a finding's. A categorical feature is named with its
 * category, as its one-hot column: value 1, and baseline 1 when the reference is that
 * category too, else 0.
 */
function explainedFeature(f: DetectionFeature): ExplainedFeature {
  const contribution = Math.round(f.contribution * 1000) / 1000;
  if (typeof f.value === 'number') return { feature: f.feature, value: f.value, ...(typeof f.reference === 'number' ? { baseline: f.reference } : {}), contribution };
  return { feature: `${f.feature}=${f.value.slice(0, 40)}`, value: 1, ...(f.reference === undefined ? {} : { baseline: f.reference === f.value ? 1 : 0 }), contribution };
}

/** The draft for attack row `r` of `batch`, explained by `e`, about `device`. */
export function flowFindingDraft(batch: ScoredBatch, r: number, e: DetectionExplanation, device: string, now: number, source: string): FindingDraft {
  const cls = batch.classNames[r]!;
  const start = batch.startTimes[r] ?? now;
  const features = e.features.slice(0, FLOW_FINDING_FEATURES).map(explainedFeature);
  return {
    device,
    severity: (cls !== 'unknown' && e.score >= HIGH_SCORE ? 'high' : 'medium') satisfies Severity,
    start,
    end: start,
    summary: cls === 'unknown' ? `A flow unlike the normal traffic the ${e.model} model learnt (${source}, line ${batch.lines[r]})` : `A flow classified as ${cls} by the ${e.model} model (${source}, line ${batch.lines[r]})`,
    explanation: { detector: `flow-${e.model}`, score: displayScore(e.score), threshold: e.threshold, label: cls, features },
  };
}

/**
 * Runs `fn` with a raiser of flow findings into the vault in `config` (its Devices, its
 * inventory, its findings), flushing the inventory before the vault closes.
 *
 * @example
 *   await withFlowAlerts(config, 'conn.log', (alerts) => scoreFlowFile({ scorer, input, format, explain: 5, onBatch: (b) => alerts.raise(b) }));
 */
export function withFlowAlerts<T>(config: VaultConfig, input: string, fn: (alerts: FlowAlerts) => Promise<T>, clock: Clock = systemClock): Promise<T> {
  return withAuditedDatabase(config, async (db, audit) => {
    // The per-device limit is shared with a running server raising findings into the same database.
    const findings = new FindingService(db.findings, audit, clock, secureRandom, undefined, { buckets: db.sharedBuckets, clock });
    const devices = new DeviceDirectory(db.resources, clock);
    const inventory = new TalkerInventory(db.talkers, audit, clock);
    const source = basename(input).slice(0, 120);
    const ids = new Set<string>();
    let raised = 0;
    const alerts: FlowAlerts = {
      async raise(batch) {
        for (let r = 0; r < batch.lines.length; r++) {
          if (batch.scores.label[r] !== 1) continue;
          const e = batch.explanations?.[r];
          if (e === undefined) throw new CustodiaError('internal', 'A flow alert must be explained before it is raised');
          const endpoints = batch.endpoints[r]!;
          let device = await devices.deviceOf(endpoints);
          if (device === undefined) {
            const key = senderKey(endpoints); // the inventory's key: MAC, else IP
            if (key !== undefined) {
              await inventory.sighted(key, endpoints, batch.startTimes[r] ?? clock.now());
              device = `talker:${key}`;
            }
          }
          const finding = await findings.raise(flowFindingDraft(batch, r, e, device ?? `flows:${source}`, clock.now(), source));
          ids.add(finding.id);
          raised++;
        }
      },
      get raised() {
        return raised;
      },
      get findings() {
        return ids.size;
      },
    };
    const result = await fn(alerts);
    await inventory.flush();
    return result;
  }, clock);
}
