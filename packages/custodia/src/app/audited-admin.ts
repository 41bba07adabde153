/**
 * An administrative read or change that is itself on the audit trail (issue 5 §1): only the
 * given administrative roles are let in (requireAdministrator), and the attempt is
 * recorded whatever its outcome — a refusal or a failure best effort, a success before
 * its result is returned (so the caller gets nothing the ledger does not show).
 */
import type { Principal } from '../access/index.js';
import { catalogEntry, isCustodiaError } from '../kernel/index.js';
import type { AuditRecord } from '../ledger/index.js';
import { requireAdministrator, type AdminRole } from './admin-api.js';
import type { AuditTrail } from './audit-trail.js';
import { agentOf } from './fhir-audit.js';

export interface AdminAction {
  readonly caller: Principal;
  readonly roles: readonly AdminRole[];
  /** The record's subtype and action, and what it touched. */
  readonly subtype: string;
  readonly action: AuditRecord['action'];
  readonly entities: string[];
  readonly address?: string | undefined;
}

export async function auditedAdmin<T>(audit: AuditTrail, a: AdminAction, fn: () => Promise<T>): Promise<T> {
  const record = (outcome: AuditRecord['outcome'], outcomeCode?: string): AuditRecord => ({
    at: audit.clock.now(),
    type: 'admin',
    subtype: a.subtype,
    action: a.action,
    outcome,
    ...(outcomeCode === undefined ? {} : { outcomeCode }),
    agent: agentOf(a.caller, a.address),
    purposeOfUse: a.caller.purposeOfUse.slice(0, 64) || 'TREAT',
    patients: [],
    entities: a.entities,
  });
  let result: T;
  try {
    requireAdministrator(a.caller, ...a.roles);
    result = await fn();
  } catch (e) {
    await audit.record([record(isCustodiaError(e) && catalogEntry(e.code).status < 500 ? '4' : '8', isCustodiaError(e) ? e.code : 'internal')]).catch(() => undefined);
    throw e;
  }
  await audit.record([record('0')]);
  return result;
}
