/**
 * Who may read the vault's audit trail (AuditEvent search and read, `$access-log`): the
 * privacy officer and the operator read every event; a patient reads the events filed
 * under their own Patient id (`audit_patients`); nobody else, whatever their scopes.
 * Deny by default. The scopes must also allow reading AuditEvent (the interaction-level
 * check every FHIR request goes through), so that a patient app granted only
 * `patient/Observation.rs` cannot read the patient's audit trail.
 */
import type { Principal } from '../access/index.js';
import { CustodiaError } from '../kernel/index.js';
import type { InteractionGuard } from '../fhir/index.js';

export type AuditTrailScope = { readonly kind: 'all' } | { readonly kind: 'patient'; readonly patient: string };

const ALL: AuditTrailScope = Object.freeze({ kind: 'all' });
const PATIENT_USER = /^Patient\/([A-Za-z0-9\-.]{1,64})$/;

/**
 * The part of the audit trail `p` may read; `forbidden` (403) for everyone else. The
 * refusal depends only on who asks, never on what is stored.
 *
 * @example
 *   auditTrailScope(patientPrincipal); // { kind: 'patient', patient: 'p1' }
 */
export function auditTrailScope(p: Principal, guard: InteractionGuard): AuditTrailScope {
  const scope = scopeOf(p);
  // Scopes ∩ role, as for any read of AuditEvent (access/interaction-permissions.ts).
  guard({ kind: 'search', types: ['AuditEvent'], params: [] });
  return scope;
}

function scopeOf(p: Principal): AuditTrailScope {
  if (p.kind === 'operator') return ALL;
  if (p.kind === 'user' && p.role === 'privacy-officer') return ALL;
  if (p.kind === 'user' && p.role === 'patient') {
    const m = PATIENT_USER.exec(p.fhirUser ?? '');
    if (m !== null) return { kind: 'patient', patient: m[1]! };
  }
  throw new CustodiaError('forbidden', 'The audit trail is read by the privacy officer, and by each patient for their own records');
}
