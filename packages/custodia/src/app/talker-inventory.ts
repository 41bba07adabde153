/**
 * The inventory of unknown talkers (issue 6 §2: "unknown talkers get an inventory
 * entry"): every endpoint that sends telemetry and matches no Device gets an entry,
 * keyed `mac:<eui-48>` (else `ip:<address>`), which is also the `device` its findings
 * name (`talker:mac:…`). The security staff list it (`GET /detect/inventory`, `custodia
 * detect inventory`) and register the real ones as Devices with their MAC identifier.
 *
 * Why a table and not Device resources with a flag: talkers come from traffic, so an
 * attacker decides how many there are. Writing them as Devices would let anyone who can
 * publish telemetry create clinical records (versions, search index rows, audit entries)
 * at wire speed, and mix unverified hearsay into the device registry that clinicians
 * trust. The table is bounded (`maxTalkers`; beyond it, new talkers are counted, not
 * stored) and sightings are written in batches (`flushMs`), not once per flow.
 */
import type { Principal } from '../access/index.js';
import type { FlowEndpoints } from '../detect/index.js';
import { CustodiaError, type Clock } from '../kernel/index.js';
import type { Talker, TalkerQuery, TalkerStore } from '../store/index.js';
import { auditedAdmin } from './audited-admin.js';
import type { AuditTrail } from './audit-trail.js';

export interface TalkerInventoryOptions {
  readonly maxTalkers?: number;
  readonly flushMs?: number;
}

interface Pending {
  mac?: string;
  address?: string;
  firstSeen: number;
  lastSeen: number;
  flows: number;
}

export class TalkerInventory {
  readonly #pending = new Map<string, Pending>();
  readonly #known = new Set<string>();
  readonly #maxTalkers: number;
  readonly #flushMs: number;
  #stored: number | undefined;
  #refused = 0;
  #lastFlush: number;

  constructor(
    private readonly store: TalkerStore,
    private readonly audit: AuditTrail,
    private readonly clock: Clock,
    options: TalkerInventoryOptions = {},
  ) {
    this.#maxTalkers = options.maxTalkers ?? 10_000;
    this.#flushMs = options.flushMs ?? 10_000;
    this.#lastFlush = clock.now();
  }

  /** New talkers not stored because the inventory was full. */
  get refused(): number {
    return this.#refused;
  }

  /** Notes a flow of an unknown talker at `timeMs`; writes the batch when it is due. */
  async sighted(key: string, e: FlowEndpoints, timeMs: number): Promise<void> {
    let p = this.#pending.get(key);
    if (p === undefined) {
      if (!this.#known.has(key)) {
        this.#stored ??= await this.store.count();
        if (this.#stored + this.#known.size >= this.#maxTalkers) {
          this.#refused += 1;
          return;
        }
        this.#known.add(key);
      }
      p = { firstSeen: timeMs, lastSeen: timeMs, flows: 0 };
      this.#pending.set(key, p);
    }
    if (e.origMac !== undefined) p.mac = e.origMac;
    if (e.origAddr !== undefined) p.address = e.origAddr;
    p.firstSeen = Math.min(p.firstSeen, timeMs);
    p.lastSeen = Math.max(p.lastSeen, timeMs);
    p.flows += 1;
    if (this.clock.now() - this.#lastFlush >= this.#flushMs) await this.flush();
  }

  /** Writes the sightings noted since the last write. */
  async flush(): Promise<void> {
    this.#lastFlush = this.clock.now();
    if (this.#pending.size === 0) return;
    const batch: Talker[] = [...this.#pending].map(([talker, p]) => ({ talker, ...(p.mac === undefined ? {} : { mac: p.mac }), ...(p.address === undefined ? {} : { address: p.address }), firstSeen: p.firstSeen, lastSeen: p.lastSeen, flows: p.flows }));
    this.#pending.clear();
    await this.store.record(batch);
  }

  /** The inventory, for the security staff; every read is on the audit trail. */
  async list(caller: Principal, q: TalkerQuery, address?: string): Promise<Talker[]> {
    return auditedAdmin(this.audit, { caller, roles: ['admin', 'privacy-officer'], subtype: 'inventory-read', action: 'R', entities: ['detect/inventory'], address }, async () => {
      if (!Number.isSafeInteger(q.limit) || q.limit < 1 || q.limit > 1000) throw new CustodiaError('request-malformed', 'A page holds 1 to 1000 talkers');
      return this.store.list(q);
    });
  }
}
