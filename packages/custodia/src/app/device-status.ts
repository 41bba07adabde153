/**
 * What guards each device right now (issue 6 §2, for the security staff): its own
 * baselines, its class's while it learns, or the physiological checks alone — so that a
 * security officer sees which monitors and pumps a flood or a rewrite would not yet be
 * measured against (detect/telemetry-scorer.ts `states`). Every read is on the audit
 * trail, as for findings and the inventory.
 */
import type { Principal } from '../access/index.js';
import type { DeviceState } from '../detect/index.js';
import { CustodiaError } from '../kernel/index.js';
import { auditedAdmin } from './audited-admin.js';
import type { AuditTrail } from './audit-trail.js';
import type { DetectStream } from './detect-stream.js';

export interface DeviceStateQuery {
  /** Only devices after this one, in device order (the `next` of a previous page). */
  readonly after?: string;
  readonly limit: number;
}

export class DeviceStatusApi {
  constructor(
    private readonly audit: AuditTrail,
    /** The detection stream of this process; none when it is off. */
    private readonly stream: DetectStream | undefined,
  ) {}

  /** A page of the devices this process scores; `detecting: false` (and none) when its stream is off. */
  async list(caller: Principal, q: DeviceStateQuery, address?: string): Promise<{ readonly detecting: boolean; readonly devices: DeviceState[] }> {
    return auditedAdmin(this.audit, { caller, roles: ['admin', 'privacy-officer'], subtype: 'devices-read', action: 'R', entities: ['detect/devices'], address }, async () => {
      if (!Number.isSafeInteger(q.limit) || q.limit < 1 || q.limit > 1000) throw new CustodiaError('request-malformed', 'A page holds 1 to 1000 devices');
      return this.stream === undefined ? { detecting: false, devices: [] } : { detecting: true, devices: await this.stream.deviceStates(q) };
    });
  }
}
