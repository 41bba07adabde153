/** Builders for consents, requests and items used by the policy tests. */
import { officialExamples } from '../../helpers/fixture-files.js';
import {
  ACT_CODE_SYSTEM,
  CONFIDENTIALITY_SYSTEM,
  compileConsent,
  type AccessRequest,
  type CompiledConsent,
  type DataItem,
  type SecurityLabel,
} from '../../../src/access/policy/index.js';

export type Json = Record<string, unknown>;

export const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
export const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
export const CONSENT_ACTION = 'http://terminology.hl7.org/CodeSystem/consentaction';
export const RESOURCE_TYPES = 'http://hl7.org/fhir/resource-types';

/** The 12 official R4 Consent examples, by id. */
let cache: Map<string, Json> | undefined;
export function officialConsents(): Map<string, Json> {
  if (cache !== undefined) return cache;
  const out = new Map<string, Json>();
  for (const e of officialExamples()) {
    const r = JSON.parse(e.text) as Json;
    if (r['resourceType'] === 'Consent') out.set(r['id'] as string, r);
  }
  cache = out;
  return out;
}

export function compiledOfficial(id: string): CompiledConsent {
  const r = officialConsents().get(id);
  if (r === undefined) throw new Error(`no official consent ${id}`);
  return compileConsent(r);
}

/** A Consent resource for Patient/p1 with the given policyRule and provision. */
export function consent(o: { id: string; policyRule?: string; provision?: Json; status?: string; patient?: string }): Json {
  return {
    resourceType: 'Consent',
    id: o.id,
    status: o.status ?? 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: o.patient ?? 'Patient/p1' },
    ...(o.policyRule === undefined ? {} : { policyRule: { coding: [{ system: ACT_CODE_SYSTEM, code: o.policyRule }] } }),
    ...(o.provision === undefined ? {} : { provision: o.provision }),
  };
}

export function actor(reference: string, role = 'PRCP'): Json {
  return { role: { coding: [{ system: PARTICIPATION, code: role }] }, reference: { reference } };
}
export function purpose(code: string): Json {
  return { system: ACT_REASON, code };
}
export function action(code: string): Json {
  return { coding: [{ system: CONSENT_ACTION, code }] };
}
export function sensitivity(code: string): Json {
  return { system: ACT_CODE_SYSTEM, code };
}
export function confidentiality(code: string): Json {
  return { system: CONFIDENTIALITY_SYSTEM, code };
}
export function resourceClass(type: string): Json {
  return { system: RESOURCE_TYPES, code: type };
}

export const NOW = Date.parse('2024-05-01T10:00:00Z');

export function request(references: readonly string[], o: { purpose?: string; action?: AccessRequest['action']; now?: number; roleCodes?: readonly string[] } = {}): AccessRequest {
  return {
    actor: { references, ...(o.roleCodes === undefined ? {} : { roleCodes: o.roleCodes }) },
    purposeOfUse: o.purpose ?? 'TREAT',
    action: o.action ?? 'access',
    now: o.now ?? NOW,
  };
}

/** A label from a short name: U L M N R V are confidentiality, anything else a v3-ActCode sensitivity code. */
export function label(code: string): SecurityLabel {
  return ['U', 'L', 'M', 'N', 'R', 'V'].includes(code) ? { system: CONFIDENTIALITY_SYSTEM, code } : { system: ACT_CODE_SYSTEM, code };
}

export function item(resourceType: string, id: string, labels: readonly string[] = []): DataItem {
  return { resourceType, id, labels: labels.map(label) };
}
