/**
 * Findings (issue 6 §4): detectors raise them through the gate (detect/finding-gate.ts:
 * repeats merged, a device over its rate limit folded into one visible finding), and the
 * security staff — the administrator and the privacy officer, with an administration
 * token — list, read and decide them. Every read and every decision is an audit record,
 * like every other access to what the vault holds.
 */
import { SharedBucketScope, TokenBuckets, type Principal, type SharedBuckets, type TokenBucketOptions } from '../access/index.js';
import { CustodiaError, isCustodiaError, uuidV4, type Clock, type Random } from '../kernel/index.js';
import { dedupKey, gate, isFindingStatus, isSeverity, spendsBudget, transition, type Finding, type FindingDraft, type FindingStatus } from '../detect/index.js';
import type { AuditRecord } from '../ledger/index.js';
import type { FindingQuery, FindingStore } from '../store/index.js';
import { auditedAdmin } from './audited-admin.js';
import type { AuditTrail } from './audit-trail.js';

export interface FindingPolicy {
  /** How long after its last detection an open finding absorbs repeats. */
  readonly dedupWindowMs: number;
  /** New findings each device may raise (a burst, then a refill rate); beyond, they fold into one. */
  readonly perDevice: Omit<TokenBucketOptions, 'maxKeys'>;
}

export const DEFAULT_FINDING_POLICY: FindingPolicy = {
  dedupWindowMs: 15 * 60_000,
  perDevice: { capacity: 20, refill: 1, intervalMs: 60_000 },
};

const LIMITS = { device: 256, summary: 512, detector: 64, feature: 64, features: 32, note: 2000, list: 1000 } as const;

/** A detector's draft, checked: its device and feature names come from flows (attacker-reachable). */
function checked(d: FindingDraft): FindingDraft {
  const e = d.explanation;
  const text = (v: unknown, max: number): boolean => typeof v === 'string' && v.length > 0 && v.length <= max;
  const ok =
    text(d.device, LIMITS.device) &&
    text(d.summary, LIMITS.summary) &&
    isSeverity(d.severity) &&
    Number.isSafeInteger(d.start) &&
    Number.isSafeInteger(d.end) &&
    d.start <= d.end &&
    text(e.detector, LIMITS.detector) &&
    Number.isFinite(e.score) &&
    Number.isFinite(e.threshold) &&
    e.features.length <= LIMITS.features &&
    e.features.every((f) => text(f.feature, LIMITS.feature) && Number.isFinite(f.value)) &&
    (d.patient === undefined || /^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(d.patient));
  if (!ok) throw new CustodiaError('internal', 'A detector produced a malformed finding');
  return d;
}

/** Token buckets every process raising findings into one database shares, and the wall clock they measure time by. */
export interface SharedFindingLimit {
  readonly buckets: SharedBuckets;
  readonly clock: Clock;
}

export class FindingService {
  readonly #buckets: TokenBuckets;
  readonly #shared: SharedBucketScope | undefined;

  /**
   * `shared`: the per-device limit then holds across every process raising findings into
   * the database (several scorers on one NATS subject, `custodia detect score --findings`
   * beside a server), not once per process.
   */
  constructor(
    private readonly store: FindingStore,
    private readonly audit: AuditTrail,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly policy: FindingPolicy = DEFAULT_FINDING_POLICY,
    shared?: SharedFindingLimit,
  ) {
    this.#buckets = new TokenBuckets(clock, { ...policy.perDevice, maxKeys: 100_000 });
    const { capacity, refill, intervalMs } = policy.perDevice;
    this.#shared = shared === undefined ? undefined : new SharedBucketScope(shared.buckets, 'findings', { capacity, perMs: refill / intervalMs }, shared.clock);
  }

  /** Gates and stores a detection; the finding it is now part of. */
  async raise(draft: FindingDraft): Promise<Finding> {
    let d = checked(draft);
    for (let attempt = 0; ; attempt++) {
      const key = dedupKey(d);
      const existing = await this.store.latestByKey(key);
      const within = spendsBudget(d, existing?.finding, this.policy) ? await this.#withinLimit(d.device) : true;
      const decision = gate(d, existing?.finding, this.policy, this.clock.now(), () => within, () => uuidV4(this.random));
      if (decision.kind === 'over-limit') {
        // The device's rate-limit finding, which spends no budget.
        d = decision.draft;
        continue;
      }
      try {
        await this.store.save(decision.finding, key, decision.kind === 'merged' ? existing!.version : undefined);
        return decision.finding;
      } catch (e) {
        // Another detection merged into the same finding first: read it again.
        if (attempt < 5 && isCustodiaError(e) && (e.code === 'storage-conflict' || e.code === 'version-conflict')) continue;
        throw e;
      }
    }
  }

  /** A token from this process's bucket of the device, then from the shared one (when there is one). */
  async #withinLimit(device: string): Promise<boolean> {
    if (!this.#buckets.take(device).allowed) return false;
    return this.#shared === undefined || (await this.#shared.take(device)).allowed;
  }

  async list(caller: Principal, q: FindingQuery, address?: string): Promise<Finding[]> {
    return this.#audited(caller, 'R', ['detect/findings'], address, async () => {
      if (!Number.isSafeInteger(q.limit) || q.limit < 1 || q.limit > LIMITS.list) throw new CustodiaError('request-malformed', `A page holds 1 to ${LIMITS.list} findings`);
      return this.store.list(q);
    });
  }

  async get(caller: Principal, id: string, address?: string): Promise<Finding> {
    return this.#audited(caller, 'R', [`detect/findings/${id.slice(0, 64)}`], address, async () => {
      const f = await this.store.get(id);
      if (f === undefined) throw new CustodiaError('resource-not-found', 'No such finding');
      return f.finding;
    });
  }

  /** An analyst's decision: the new status, and a note. */
  async decide(caller: Principal, id: string, status: unknown, note: unknown, address?: string): Promise<Finding> {
    return this.#audited(caller, 'U', [`detect/findings/${id.slice(0, 64)}`], address, async () => {
      if (!isFindingStatus(status)) throw new CustodiaError('request-malformed', 'status is one of new, triaged, false-positive, confirmed');
      if (note !== undefined && (typeof note !== 'string' || note.length > LIMITS.note)) throw new CustodiaError('request-malformed', `note is text of at most ${LIMITS.note} characters`);
      const stored = await this.store.get(id);
      if (stored === undefined) throw new CustodiaError('resource-not-found', 'No such finding');
      const by = caller.kind === 'operator' ? 'operator' : caller.kind === 'user' ? (caller.fhirUser ?? `user:${caller.subject}`) : `client:${caller.subject}`;
      const next = transition(stored.finding, status as FindingStatus, by, this.clock.now(), note as string | undefined);
      await this.store.save(next, dedupKey(next), stored.version);
      return next;
    });
  }

  /** Runs `fn` for the security staff only, and records the access whatever its outcome. */
  #audited<T>(caller: Principal, action: AuditRecord['action'], entities: string[], address: string | undefined, fn: () => Promise<T>): Promise<T> {
    const subtype = action === 'R' ? 'findings-read' : 'finding-decision';
    return auditedAdmin(this.audit, { caller, roles: ['admin', 'privacy-officer'], subtype, action, entities, address }, fn);
  }
}
