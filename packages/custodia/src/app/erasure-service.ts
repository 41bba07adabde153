/**
 * Erasure by crypto-shredding (GDPR Art. 17; issue 4 §4): a patient's data keys are
 * destroyed in the key store, which makes every version sealed under them unreadable —
 * live data, history, and every backup of the database taken before — and then the
 * database forgets what it can (content, search rows). Shared records (in several
 * patients' compartments, sealed under the tenant key) are not theirs alone and stay.
 *
 * The order is: check (legal hold, retention) → destroy the keys (the point of no return)
 * → erase in the database → record. If the database step fails after the keys are gone,
 * the data is already unreadable, and the next start replays the erasure
 * ({@link ErasureService.replay}), as it does for a database restored from a backup.
 */
import { CustodiaError, type Clock } from '../kernel/index.js';
import type { OperatorLog } from '../access/index.js';
import { isFhirId } from '../fhir/index.js';
import type { ErasedCounts, KeyStore, LegalHoldStore, SealedDataStore } from '../store/index.js';
import { retainedUntil, type RetentionPolicy } from './retention-policy.js';

/** A patient id that is not a FHIR id (operator and HTTP input). */
export const badPatientId = (): CustodiaError => new CustodiaError('request-malformed', 'A patient id is 1–64 letters, digits, - or .');

export interface ErasureReport {
  readonly patient: string;
  readonly erasedAt: number;
  /** Data keys destroyed. */
  readonly keys: number;
  readonly versions: number;
  readonly resources: number;
  /** Records in their compartment that are shared with other patients (tenant key) and stay. */
  readonly sharedKept: number;
}

export class ErasureService {
  constructor(
    private readonly keys: KeyStore,
    private readonly data: SealedDataStore,
    private readonly holds: LegalHoldStore,
    private readonly retention: RetentionPolicy,
    private readonly log: OperatorLog,
    private readonly clock: Clock,
    /** Records the erasure in the audit ledger (the destroyed key ids, and who erased whom); durable before it returns. */
    private readonly onErased: (e: { readonly patient: string; readonly keyIds: readonly string[]; readonly actor: string; readonly at: number }) => Promise<void> = async () => undefined,
    /**
     * Forgets what the detectors keep about `Patient/<id>`'s vital signs: the baselines of
     * the Devices attached to them (`Device.patient`; R4 puts Device outside the Patient
     * compartment, so those Devices are not erased) and of any device whose vital-sign
     * baseline holds their readings. Sealed under the tenant key, not the patient's.
     */
    private readonly forgetDevices: (patient: string) => Promise<void> = async () => undefined,
  ) {}

  /**
   * Erases Patient/`patientId`. `actor` is who asked (a user id, or `operator` for the CLI);
   * `reason` is recorded. Refused (`erasure-refused`) under a legal hold or retention.
   */
  async erasePatient(patientId: string, actor: string, reason: string): Promise<ErasureReport> {
    if (!isFhirId(patientId)) throw badPatientId();
    const owner = `Patient/${patientId}`;
    if (this.keys.isErased(owner)) throw new CustodiaError('resource-erased', `Patient/${patientId} was already erased`);
    const entries = await this.data.compartment(patientId);
    if (!entries.some((e) => e.type === 'Patient' && e.id === patientId)) throw new CustodiaError('resource-not-found', `No Patient/${patientId}`);
    const hold = await this.holds.get(patientId);
    if (hold !== undefined) {
      throw new CustodiaError('erasure-refused', `A legal hold placed on ${new Date(hold.placedAt).toISOString().slice(0, 10)} by ${hold.placedBy} applies: ${hold.reason}. Release it first (custodia patient release-hold).`);
    }
    this.#checkRetention(entries);
    const now = this.clock.now();
    // Recorded before the keys go: an erasure never happens unlogged (the outcome follows).
    await this.log.record({ at: now, action: 'patient.erase', actor, detail: { phase: 'start', patient: patientId, reason } });
    const destroyed = this.keys.erase(owner);
    const counts = await this.replay();
    // Everything of theirs was sealed by a key just destroyed; the rest of their compartment is shared.
    const gone = new Set(destroyed);
    const sharedKept = entries.filter((e) => e.keyId !== null && !gone.has(e.keyId)).length;
    // The ledger commits to which keys went (so `custodia ledger verify` accepts the emptied versions), and audits who erased.
    await this.onErased({ patient: patientId, keyIds: destroyed, actor, at: now });
    // After the record: should this fail, the keys are gone and recorded all the same, and the snapshots age out within the baseline window (an hour).
    await this.forgetDevices(owner);
    await this.log.record({ at: now, action: 'patient.erase', actor, detail: { phase: 'done', patient: patientId, reason, keys: destroyed.length, versions: counts.versions, resources: counts.resources, sharedKept } });
    return { patient: patientId, erasedAt: now, keys: destroyed.length, versions: counts.versions, resources: counts.resources, sharedKept };
  }

  #checkRetention(entries: readonly { type: string; lastUpdated: number }[]): void {
    const now = this.clock.now();
    const held = new Map<string, { count: number; until: number; basis: string }>();
    for (const e of entries) {
      const r = retainedUntil(this.retention, e.type, e.lastUpdated);
      if (r === undefined || r.until <= now) continue;
      const prev = held.get(e.type);
      held.set(e.type, { count: (prev?.count ?? 0) + 1, until: Math.max(prev?.until ?? 0, r.until), basis: r.rule.basis });
    }
    if (held.size === 0) return;
    const parts = [...held].map(([type, h]) => `${h.count} ${type} until ${new Date(h.until).toISOString().slice(0, 10)} (${h.basis})`);
    throw new CustodiaError('erasure-refused', `Retention (${this.retention.jurisdiction}) still applies: ${parts.join('; ')}`);
  }

  /**
   * Applies every erasure the key store knows to the database: after an erasure, after a
   * failure half-way, and on every start (a database restored from a backup taken before
   * an erasure loses the erased records again). Cheap when there is nothing to do.
   */
  async replay(): Promise<ErasedCounts> {
    const ids = this.keys.erasedKeyIds();
    // Start-up reads first (the key_id index) and writes only when a restored backup or an
    // interrupted erasure left something behind: no durable commit per start otherwise.
    if (ids.length === 0 || (await this.data.countSealedBy(ids)) === 0) return { versions: 0, resources: 0 };
    return this.data.eraseSealedBy(ids);
  }
}
