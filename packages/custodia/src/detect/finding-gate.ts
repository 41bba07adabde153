/**
 * Duplicate suppression and rate limiting of findings (issue 6 §4), so that a flood of
 * detections cannot bury the one that matters, and yet hides nothing:
 *
 *   1. a repeat of an open finding (same {@link dedupKey}, seen within the dedup window)
 *      is merged into it: its count, window and highest severity grow, no new row;
 *   2. otherwise a new finding is raised if the device is within its rate limit;
 *   3. over the limit, the detection is merged into the device's one `rate-limit`
 *      finding, which carries how many detections were folded in, the highest severity
 *      among them and the latest one's explanation — it stays visible, it is not dropped.
 *
 * Pure: the caller looks findings up (by key) and owns the rate limiter (a port: the app
 * passes its token buckets, this process's and those every process of the database
 * shares).
 */
import { dedupKey, isOpen, mergeRepeat, type Finding, type FindingDraft } from './finding.js';

export interface GatePolicy {
  /** How long after its last detection an open finding still absorbs repeats. */
  readonly dedupWindowMs: number;
}

export type GateDecision =
  /** Merged into an open finding: store `finding` in its place. */
  | { readonly kind: 'merged'; readonly finding: Finding }
  /** A new finding under `key`, with this id. */
  | { readonly kind: 'raised'; readonly finding: Finding; readonly key: string }
  /** Over the device's limit: gate `draft` (the device's rate-limit finding) again, with the limit not applied. */
  | { readonly kind: 'over-limit'; readonly draft: FindingDraft };

export const RATE_LIMIT_DETECTOR = 'rate-limit';

/** The device's rate-limit finding, standing for `d` (whose explanation it carries). */
export function overLimitDraft(d: FindingDraft): FindingDraft {
  return {
    device: d.device,
    severity: d.severity,
    start: d.start,
    end: d.end,
    summary: 'Detections over this device’s rate limit, merged here (count, highest severity, latest explanation)',
    explanation: { ...d.explanation, detector: RATE_LIMIT_DETECTOR, features: [] },
  };
}

/** An open finding seen within the dedup window absorbs `draft`, a repeat of it. */
function absorbs(existing: Finding | undefined, draft: FindingDraft, policy: GatePolicy): existing is Finding {
  return existing !== undefined && isOpen(existing) && draft.end - existing.lastSeen <= policy.dedupWindowMs;
}

/**
 * Whether {@link gate} asks `withinLimit` for `draft`: a new finding, not a repeat, and
 * not the device's rate-limit finding. A caller whose limit must be awaited (buckets shared
 * across processes) asks this first, and passes the answer.
 */
export function spendsBudget(draft: FindingDraft, existing: Finding | undefined, policy: GatePolicy): boolean {
  return !absorbs(existing, draft, policy) && draft.explanation.detector !== RATE_LIMIT_DETECTOR;
}

/**
 * What to do with `draft`, given the finding its key names (if any), whether the device
 * may raise another finding now (`withinLimit`; asked only when {@link spendsBudget}, so
 * repeats do not spend the budget), and a fresh id.
 */
export function gate(draft: FindingDraft, existing: Finding | undefined, policy: GatePolicy, now: number, withinLimit: () => boolean, newId: () => string): GateDecision {
  if (absorbs(existing, draft, policy)) return { kind: 'merged', finding: mergeRepeat(existing, draft, now) };
  if (spendsBudget(draft, existing, policy) && !withinLimit()) return { kind: 'over-limit', draft: overLimitDraft(draft) };
  const finding: Finding = { ...draft, id: newId(), status: 'new', count: 1, firstSeen: draft.start, lastSeen: draft.end, updatedAt: now };
  return { kind: 'raised', finding, key: dedupKey(draft) };
}
