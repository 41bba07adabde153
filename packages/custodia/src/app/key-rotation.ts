/**
 * Key rotation and status (issue 4 §3):
 * - KEK rotation: a new KEK becomes current and every data key is rewrapped under it; no
 *   data is rewritten, and the old KEK is destroyed once nothing is wrapped under it.
 * - Data-key rotation: every active data key is retired; new writes get fresh keys at
 *   once, and re-sealing moves what the retired keys sealed to the new ones in batches, in
 *   the background (the server's worker) or in the foreground (`custodia keys rotate
 *   --data --wait`). It can stop at any point and resume: each batch is its own
 *   transaction and only moves versions still under the key they were read under. A
 *   retired key is dropped once nothing is sealed under it — no version, and no
 *   second-factor secret (store/identity-secrets.ts: sealed under the tenant key, moved
 *   with the last batch).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { CustodiaError, isCustodiaError, type Clock } from '../kernel/index.js';
import type { OperatorLog } from '../access/index.js';
import type { KekInfo } from '../crypto/index.js';
import type { AtRest, KeyCount, KeyStore, SealedDataStore } from '../store/index.js';

export interface VersionsByKeyState {
  readonly active: number;
  /** Still sealed by retired keys: what re-sealing has left to do. */
  readonly retired: number;
  /** Removed by erasures. */
  readonly erased: number;
  /** Stored in clear (written with encryption off). */
  readonly clear: number;
  /** Sealed by a key the key store does not know (another vault's keys, or a lost key store). */
  readonly unknownKey: number;
}

export interface KeyStatus {
  readonly provider: string;
  readonly keks: readonly KekInfo[];
  readonly dataKeys: readonly KeyCount[];
  readonly versions: VersionsByKeyState;
}

export interface ResealProgress {
  /** Versions re-sealed in this batch. */
  readonly resealed: number;
  /** Versions still under retired keys after this batch. */
  readonly remaining: number;
  /**
   * Audit-ledger entries re-sealed in this batch, and still under retired keys after it:
   * they move once every version has (a key is dropped when it seals nothing at all).
   */
  readonly entries: number;
  readonly entriesRemaining: number;
}

export class KeyRotation {
  #running: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly keys: KeyStore,
    private readonly data: SealedDataStore,
    private readonly at: AtRest,
    private readonly log: OperatorLog,
    private readonly clock: Clock,
  ) {}

  async status(): Promise<KeyStatus> {
    const usage = await this.data.keyUsage();
    const states = this.keys.statesOf(usage.flatMap((u) => (u.keyId === null ? [] : [u.keyId])));
    const v = { active: 0, retired: 0, erased: 0, clear: 0, unknownKey: 0 };
    for (const u of usage) {
      v.erased += u.erased;
      if (u.keyId === null) v.clear += u.versions;
      else {
        const s = states.get(u.keyId);
        if (s === 'active') v.active += u.versions;
        else if (s === 'retired') v.retired += u.versions;
        else if (s === 'erased') v.erased += u.versions;
        else v.unknownKey += u.versions;
      }
    }
    return { provider: this.keys.provider.kind, keks: this.keys.provider.keks(), dataKeys: this.keys.counts(), versions: v };
  }

  /** KEK rotation. Returns the new KEK id and how many keys were rewrapped. */
  /**
   * KEK rotation. The operator log is written first: if it cannot be (a busy database), no
   * key changes unrecorded; the outcome follows in a second entry.
   */
  async rotateKek(actor: string): Promise<{ kek: string; rewrapped: number }> {
    await this.log.record({ at: this.clock.now(), action: 'keys.rotate-kek', actor, detail: { phase: 'start' } });
    const kek = this.keys.provider.rotate();
    const rewrapped = this.keys.rewrapAll();
    await this.log.record({ at: this.clock.now(), action: 'keys.rotate-kek', actor, detail: { phase: 'done', kek, rewrapped } });
    return { kek, rewrapped };
  }

  /** Data-key rotation: retires every active key; re-sealing follows. Logged before, like {@link rotateKek}. */
  async retireDataKeys(actor: string): Promise<number> {
    await this.log.record({ at: this.clock.now(), action: 'keys.rotate-data', actor, detail: { phase: 'start' } });
    const retired = this.keys.retireActiveKeys();
    await this.log.record({ at: this.clock.now(), action: 'keys.rotate-data', actor, detail: { phase: 'done', retired } });
    return retired;
  }

  /** Re-seals up to `limit` versions under the current keys of their owners. */
  async resealBatch(limit = 500): Promise<ResealProgress> {
    const retired = this.keys.retiredKeys();
    if (retired.length === 0) return { resealed: 0, remaining: 0, entries: 0, entriesRemaining: 0 };
    const ids = retired.map((k) => k.id);
    const rows = await this.data.sealedBy(ids, limit);
    const updates: { seq: number; fromKeyId: string; content: Buffer; keyId: string }[] = [];
    for (const row of rows) {
      try {
        const sealed = this.at.resealVersion(row);
        if (sealed.content !== null && sealed.keyId !== null) updates.push({ seq: row.seq, fromKeyId: row.key_id, content: sealed.content, keyId: sealed.keyId });
      } catch (e) {
        // The owner was erased meanwhile: the erasure removes these versions; nothing to move.
        if (!isCustodiaError(e, 'resource-erased')) throw e;
      }
    }
    const resealed = await this.data.reseal(updates);
    // Progress through the key_id index, not status()'s scan of every version after each batch.
    const remaining = await this.data.countSealedBy(ids);
    let entries = 0;
    let entriesRemaining = 0;
    if (remaining === 0) {
      const secrets = await this.data.resealSecrets(ids);
      // The audit ledger's sealed entries move once the versions have (leaf hashes, over the plaintext, stay).
      const ledger = await this.data.resealLedger(ids, limit);
      entries = ledger.resealed;
      entriesRemaining = ledger.remaining;
      for (const id of ids) if (!secrets.stillSealing.has(id) && !ledger.stillSealing.has(id)) this.keys.dropRetired(id);
    }
    return { resealed, remaining, entries, entriesRemaining };
  }

  /** Re-seals until nothing is left under retired keys, reporting after each batch. */
  async resealAll(onProgress: (p: ResealProgress) => void = () => undefined, limit = 500): Promise<number> {
    let total = 0;
    for (;;) {
      const p = await this.resealBatch(limit);
      total += p.resealed;
      onProgress(p);
      if (p.remaining === 0 && p.entriesRemaining === 0) return total;
      // Nothing moved but something is left: a version or entry under a retired key that cannot be opened (a damaged row).
      if (p.resealed === 0 && p.entries === 0) throw new CustodiaError('decrypt-failed', `${p.remaining} versions and ${p.entriesRemaining} ledger entries under retired keys could not be re-sealed`);
      await nextTurn();
    }
  }

  /**
   * The server's background worker: every `intervalMs`, re-seals what retired keys still
   * seal, yielding between batches so requests keep flowing. Never throws; `onError` hears.
   */
  start(intervalMs: number, onProgress: (p: ResealProgress) => void, onError: (e: unknown) => void): void {
    if (this.#timer !== undefined) throw new CustodiaError('internal', 'The key rotation worker is already running');
    const tick = (): void => {
      if (this.#running !== undefined || this.keys.retiredKeys().length === 0) return;
      this.#running = this.resealAll(onProgress)
        .then(() => undefined, onError)
        .finally(() => (this.#running = undefined));
    };
    this.#timer = setInterval(tick, intervalMs);
    this.#timer.unref();
    tick();
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
