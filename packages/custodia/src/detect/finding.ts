/**
 * A finding (issue 6 §4): what a detector raised about one device over a time window,
 * why (the explanation every alert carries: the model, its score against its threshold,
 * the features that weighed most with their values against the device's baseline), and
 * where an analyst is with it.
 *
 * Lifecycle: `new` → `triaged` → `false-positive` | `confirmed`; a closed finding may be
 * reopened to `triaged`, and `new` may be closed at once. Repeats of an open finding are
 * merged into it (count, last seen, window, highest severity) rather than raised again:
 * see {@link dedupKey} and {@link mergeRepeat}.
 */
import { CustodiaError } from '../kernel/index.js';

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const FINDING_STATUSES = ['new', 'triaged', 'false-positive', 'confirmed'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

/** One feature's weight in a decision. */
export interface ExplainedFeature {
  readonly feature: string;
  /** The value observed. */
  readonly value: number;
  /** The device's baseline (median) for it, when the detector keeps one. */
  readonly baseline?: number;
  /** Robust z-score against that baseline. */
  readonly z?: number;
  /** Its share of the score, in the model's own units (path attribution, SHAP). */
  readonly contribution?: number;
}

export interface FindingExplanation {
  /** Which detector raised it: `isolation-forest`, `baseline`, `gbdt`, `hybrid`, `rate-limit`, … */
  readonly detector: string;
  /** The model and its version (a model file's id), when a model decided. */
  readonly model?: string;
  readonly score: number;
  readonly threshold: number;
  /** The attack class a supervised model named, if any. */
  readonly label?: string;
  /** The top contributing features, largest first. */
  readonly features: readonly ExplainedFeature[];
  /**
   * Set when the readings this explanation held were a patient's and that patient was
   * erased: their data key is gone, so the features, score and threshold (0 here) with it.
   */
  readonly erased?: true;
}

/** What a detector hands over. */
export interface FindingDraft {
  /** `Device/<id>` for an inventoried device; else the inventory entry of an unknown talker. */
  readonly device: string;
  readonly severity: Severity;
  /** Epoch ms: the window of observations the finding is about. */
  readonly start: number;
  readonly end: number;
  /** One line for a list view; never patient data (values are in the explanation). */
  readonly summary: string;
  readonly explanation: FindingExplanation;
  /**
   * The patient (`Patient/<id>`) whose readings the explanation holds (a vital-sign finding
   * of a Device attached to them): it is sealed under their data key, so that erasing them
   * erases it. Absent for findings about the network or a device alone.
   */
  readonly patient?: string;
}

export interface Finding extends FindingDraft {
  readonly id: string;
  readonly status: FindingStatus;
  /** How many detections this finding stands for (repeats merged into it). */
  readonly count: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly updatedAt: number;
  /** Who last changed its status, and their note. */
  readonly updatedBy?: string;
  readonly note?: string;
}

const NEXT: Readonly<Record<FindingStatus, readonly FindingStatus[]>> = {
  new: ['triaged', 'false-positive', 'confirmed'],
  triaged: ['false-positive', 'confirmed'],
  'false-positive': ['triaged'],
  confirmed: ['triaged'],
};

export const isSeverity = (v: unknown): v is Severity => typeof v === 'string' && (SEVERITIES as readonly string[]).includes(v);
export const isFindingStatus = (v: unknown): v is FindingStatus => typeof v === 'string' && (FINDING_STATUSES as readonly string[]).includes(v);
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

/** Whether repeats may still be merged into it (an analyst has not closed it). */
export const isOpen = (f: Pick<Finding, 'status'>): boolean => f.status === 'new' || f.status === 'triaged';

/**
 * The finding after an analyst's decision; `finding-transition-invalid` for a move the
 * lifecycle does not allow (closing a closed finding, reopening to `new`).
 */
export function transition(f: Finding, to: FindingStatus, by: string, at: number, note?: string): Finding {
  if (!NEXT[f.status].includes(to)) throw new CustodiaError('finding-transition-invalid', `A ${f.status} finding cannot become ${to}`);
  return { ...f, status: to, updatedAt: at, updatedBy: by, ...(note === undefined ? {} : { note }) };
}

/**
 * What makes two detections the same finding: the device, the detector, the attack class
 * named, and the feature that weighed most. A new value of the same feature on the same
 * device is a repeat; another feature, or another device, is news.
 */
export function dedupKey(d: FindingDraft): string {
  const top = d.explanation.features[0]?.feature ?? '';
  return JSON.stringify([d.device, d.explanation.detector, d.explanation.label ?? '', top]);
}

/** An open finding with a repeat merged in: one more detection, the wider window, the higher severity, the latest explanation. */
export function mergeRepeat(f: Finding, d: FindingDraft, at: number): Finding {
  const { patient: _earlier, ...rest } = f; // the latest explanation is the latest patient's readings
  return {
    ...rest,
    ...(d.patient === undefined ? {} : { patient: d.patient }),
    count: f.count + 1,
    start: Math.min(f.start, d.start),
    end: Math.max(f.end, d.end),
    lastSeen: Math.max(f.lastSeen, d.end),
    severity: severityRank(d.severity) > severityRank(f.severity) ? d.severity : f.severity,
    explanation: d.explanation,
    updatedAt: at,
  };
}
