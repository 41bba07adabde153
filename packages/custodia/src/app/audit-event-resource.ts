/**
 * An audit record of the ledger (ledger/audit-record.ts) as a FHIR R4 AuditEvent in the
 * shape of the IHE Basic Audit Log Patterns (https://profiles.ihe.net/ITI/BALP/):
 *
 * - `type` `audit-event-type#rest` with the R4 `restful-interaction` code as subtype for
 *   FHIR interactions; DICOM (DCM) event ids for security events (User Authentication,
 *   Security Alert, Audit Log Used, …); the vault's own subtype name is kept beside.
 * - `agent`: the user (BALP user agent types: IRCP for retrieval, AGNT for changes, PAT
 *   when the user is the patient) with role and, when there is no client, the network
 *   address; the client (DCM 110153 Source Role ID) with the address; the vault (DCM
 *   110152 Destination Role ID).
 * - `source`: the vault, named by its ledger origin, an Application Server.
 * - `entity`: each patient (Person, role Patient), each resource touched (System Object,
 *   Domain Resource), the query of a search (role Query, base64).
 * - `purposeOfEvent`: the v3 ActReason the access was decided on; break-the-glass is BTG.
 *
 * The resource is a pure function of (ledger index, record, log origin), so that an
 * offline verifier can recompute it from a proven entry and compare (access-log-verify.ts).
 */
import { isIP } from 'node:net';
import { CustodiaError } from '../kernel/index.js';
import type { AuditRecord } from '../ledger/index.js';

export const AUDIT_EVENT_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const ROLE_CLASS = 'http://terminology.hl7.org/CodeSystem/v3-RoleClass';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';
const CUSTODIA = 'https://custodia.dev/fhir';
/** The vault's own name for what happened (`read`, `$erase`, `bearer-token`, …), always present for non-standard subtypes. */
export const AUDIT_SUBTYPE_SYSTEM = `${CUSTODIA}/CodeSystem/audit-subtype`;
export const ROLE_SYSTEM = `${CUSTODIA}/CodeSystem/role`;
export const USER_SYSTEM = `${CUSTODIA}/NamingSystem/user`;
export const CLIENT_SYSTEM = `${CUSTODIA}/NamingSystem/client`;
/** Identifies the vault by its ledger origin (the first line of its checkpoints). */
export const LEDGER_ORIGIN_SYSTEM = `${CUSTODIA}/NamingSystem/ledger-origin`;
/** `meta.tag` of an event shown to a patient without the parts that are about other patients. */
export const AUDIT_VIEW_SYSTEM = `${CUSTODIA}/CodeSystem/audit-view`;

/** The AuditEvent id of ledger entry `index`. */
export const ledgerEventId = (index: number): string => `ledger-${index}`;

/** The ledger index an AuditEvent id names (`ledger-<decimal>`, no leading zeroes), or undefined. Attacker-controlled. */
export function parseLedgerEventId(id: string): number | undefined {
  const m = /^ledger-(0|[1-9][0-9]{0,15})$/.exec(id);
  if (m === null) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}

type Coding = { system: string; code: string; display?: string };
type Json = Record<string, unknown>;

/** R4 restful-interaction codes. */
const RESTFUL = new Set(['read', 'vread', 'update', 'patch', 'delete', 'history', 'history-instance', 'history-type', 'history-system', 'create', 'search', 'search-type', 'search-system', 'capabilities', 'transaction', 'batch', 'operation']);

const dcm = (code: string, display: string): Coding => ({ system: DCM, code, display });

/** DICOM audit event ids (PS3.15 A.5, DCM 1101xx) for the vault's security events, with a DICOM event type code where one fits. */
function securityType(r: AuditRecord): { type: Coding; subtype?: Coding } {
  switch (r.type) {
    case 'login':
      return { type: dcm('110114', 'User Authentication'), subtype: dcm('110122', 'Login') };
    case 'logout':
      return { type: dcm('110114', 'User Authentication'), subtype: dcm('110123', 'Logout') };
    case 'authn-failure':
      // A failed sign-in: BALP and DICOM record it as a Login with a failure outcome.
      return { type: dcm('110114', 'User Authentication'), subtype: dcm('110122', 'Login') };
    case 'mfa':
    case 'token':
      return { type: dcm('110114', 'User Authentication') };
    case 'break-glass':
      return { type: dcm('110113', 'Security Alert'), subtype: dcm('110127', 'Emergency Override Started') };
    case 'key':
      return { type: dcm('110113', 'Security Alert'), subtype: dcm('110129', 'Security Configuration') };
    case 'consent':
      return { type: dcm('110113', 'Security Alert'), subtype: dcm('110135', 'Object Security Attributes Changed') };
    case 'erasure':
      return { type: dcm('110110', 'Patient Record') };
    case 'export':
      return { type: dcm('110106', 'Export') };
    default:
      return r.subtype === 'ledger-entry' ? { type: dcm('110101', 'Audit Log Used') } : { type: dcm('110100', 'Application Activity') };
  }
}

function typeAndSubtype(r: AuditRecord): { type: Coding; subtype: Coding[] } {
  const own: Coding = { system: AUDIT_SUBTYPE_SYSTEM, code: r.subtype };
  if (r.type === 'rest') {
    const type = { system: AUDIT_EVENT_TYPE_SYSTEM, code: 'rest', display: 'Restful Operation' };
    if (RESTFUL.has(r.subtype)) return { type, subtype: [{ system: RESTFUL_INTERACTION, code: r.subtype, display: r.subtype }] };
    if (r.subtype.startsWith('$')) return { type, subtype: [{ system: RESTFUL_INTERACTION, code: 'operation', display: 'operation' }, own] };
    return { type, subtype: [own] };
  }
  const { type, subtype } = securityType(r);
  return { type, subtype: subtype === undefined ? [own] : [subtype, own] };
}

const FHIR_REFERENCE = /^[A-Z][A-Za-z]{1,63}\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** Who as a Reference: a FHIR identity, a vault account or client, the operator, or a plain name. */
function referenceOf(who: string): Json {
  if (FHIR_REFERENCE.test(who)) return { reference: who };
  if (who.startsWith('user:') && who.length > 5) return { identifier: { system: USER_SYSTEM, value: who.slice(5) } };
  if (who.startsWith('client:') && who.length > 7) return { identifier: { system: CLIENT_SYSTEM, value: who.slice(7) } };
  if (who === 'operator') return { display: 'vault operator (custodia token)' };
  if (who === 'anonymous') return { display: 'anonymous (no valid token)' };
  return { display: who };
}

/** IHE BALP: "jti SHALL be prefixed with urn:ietf:params:oauth:jti:" (AuditEvent.agent.policy). */
export const TOKEN_ID_URN = 'urn:ietf:params:oauth:jti:';

const network = (address: string): Json => ({ address, type: isIP(address) === 0 ? '1' : '2' });

function userAgentType(r: AuditRecord): Coding {
  if (r.agent.who.startsWith('Patient/')) return { system: ROLE_CLASS, code: 'PAT', display: 'patient' };
  if (r.action === 'C' || r.action === 'U' || r.action === 'D') return { system: ROLE_CLASS, code: 'AGNT', display: 'agent' };
  return { system: PARTICIPATION_TYPE, code: 'IRCP', display: 'information recipient' };
}

/** `who` names a Patient other than `patient`. */
const isOtherPatient = (who: string | undefined, patient: string): boolean => who !== undefined && who.startsWith('Patient/') && who !== `Patient/${patient}`;

function agentsOf(r: AuditRecord, origin: string, hidePatientsBut: string | undefined): Json[] {
  const a = r.agent;
  // In a patient's view, another patient acting (say, trying to read this one's record) stays anonymous.
  const anonymous = hidePatientsBut !== undefined && isOtherPatient(a.who, hidePatientsBut);
  const user: Json = {
    type: { coding: [userAgentType(r)] },
    ...(a.roles === undefined || a.roles.length === 0 ? {} : { role: a.roles.map((code) => ({ coding: [{ system: ROLE_SYSTEM, code }] })) }),
    who: anonymous ? { display: 'another patient' } : referenceOf(a.who),
    // The vault account behind a FHIR identity (agentOf in fhir-audit.ts records it as `user:<id>`).
    ...(a.onBehalfOf?.startsWith('user:') === true && !anonymous ? { altId: a.onBehalfOf } : {}),
    requestor: true,
    // IHE BALP OAUTHaccessTokenUse: agent[user].policy is the token's jti, as an RFC 3553 URN.
    ...(a.token !== undefined && !anonymous ? { policy: [`${TOKEN_ID_URN}${a.token}`] } : {}),
    ...(a.address !== undefined && a.client === undefined && !anonymous ? { network: network(a.address) } : {}),
  };
  const agents: Json[] = [user];
  if (a.onBehalfOf !== undefined && !a.onBehalfOf.startsWith('user:')) {
    agents.push({ who: hidePatientsBut !== undefined && isOtherPatient(a.onBehalfOf, hidePatientsBut) ? { display: 'another patient' } : referenceOf(a.onBehalfOf), requestor: false });
  }
  if (a.client !== undefined) {
    agents.push({
      type: { coding: [dcm('110153', 'Source Role ID')] },
      who: { identifier: { system: CLIENT_SYSTEM, value: a.client } },
      requestor: false,
      ...(a.address === undefined ? {} : { network: network(a.address) }),
    });
  }
  agents.push({ type: { coding: [dcm('110152', 'Destination Role ID')] }, who: { identifier: { system: LEDGER_ORIGIN_SYSTEM, value: origin }, display: 'Custodia vault' }, requestor: false });
  return agents;
}

const patientEntity = (id: string): Json => ({
  what: { reference: `Patient/${id}` },
  type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
  role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
});

function dataEntity(e: string): Json {
  const type = { system: ENTITY_TYPE, code: '2', display: 'System Object' };
  return FHIR_REFERENCE.test(e) ? { what: { reference: e }, type, role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' } } : { type, name: e };
}

function entitiesOf(r: AuditRecord): Json[] {
  const entities = [...r.patients.map(patientEntity), ...r.entities.map(dataEntity)];
  if (r.entitiesTruncated === true) entities.push({ type: { system: ENTITY_TYPE, code: '2', display: 'System Object' }, description: 'More resources were touched than are listed here (the record lists at most 1000)' });
  if (r.query !== undefined) {
    entities.push({ type: { system: ENTITY_TYPE, code: '2', display: 'System Object' }, role: { system: OBJECT_ROLE, code: '24', display: 'Query' }, query: Buffer.from(r.query, 'utf8').toString('base64') });
  }
  return entities;
}

function purposesOf(r: AuditRecord): Json[] | undefined {
  const codes = [...(r.purposeOfUse === undefined ? [] : [r.purposeOfUse]), ...(r.breakGlass === true && r.purposeOfUse !== 'BTG' ? ['BTG'] : [])];
  return codes.length === 0 ? undefined : codes.map((code) => ({ coding: [{ system: ACT_REASON, code, ...(code === 'BTG' ? { display: 'break the glass' } : {}) }] }));
}

/** R4 instant: years 0001–9999 (a decoded entry's `at` is any safe integer). */
function instantOf(at: number): string {
  if (at < -62_135_596_800_000 || at > 253_402_300_799_999) throw new CustodiaError('ledger-invalid', 'An audit record has a time outside the years 1–9999');
  return new Date(at).toISOString();
}

export interface AuditEventView {
  /** The log's origin (the vault, as source and destination). */
  readonly origin: string;
  /**
   * Shown to this patient: an event that names another patient (also about them, or done
   * by them) keeps only this patient as entity (no other patient, resource or query),
   * shows another patient acting only as "another patient", and is tagged `redacted`.
   */
  readonly forPatient?: string;
  /**
   * The entry is one patient's account (ledger/patient-chain.ts) of the event at this
   * ledger index, which names several patients: tagged `account`, with the full event as
   * an entity (readable by the privacy officer).
   */
  readonly accountOf?: number;
}

/**
 * Whether `record` names a patient other than `patient` — among those it is about, or as
 * who acted — and is therefore shown to `patient` only in part (and its entry withheld).
 */
export const isSharedWithOthers = (record: AuditRecord, patient: string): boolean =>
  record.patients.some((p) => p !== patient) || isOtherPatient(record.agent.who, patient) || isOtherPatient(record.agent.onBehalfOf, patient);

/**
 * The AuditEvent of ledger entry `index`.
 *
 * @example
 *   auditEventResource(12, record, { origin: 'hospital.example/ledger' });
 *   // { resourceType: 'AuditEvent', id: 'ledger-12', type: { system: '…audit-event-type', code: 'rest' }, … }
 */
/** The full event an account is of: a system object (DICOM audit-entity-type 2) the privacy officer can read. */
function accountEntity(of: number): Json {
  return { what: { reference: `AuditEvent/${ledgerEventId(of)}` }, type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' }, description: 'the full event, which names several patients' };
}

export function auditEventResource(index: number, record: AuditRecord, view: AuditEventView): Json {
  const redacted = view.forPatient !== undefined && isSharedWithOthers(record, view.forPatient);
  const { type, subtype } = typeAndSubtype(record);
  const purposes = purposesOf(record);
  const entity = [...(redacted ? [patientEntity(view.forPatient!)] : entitiesOf(record)), ...(view.accountOf === undefined ? [] : [accountEntity(view.accountOf)])];
  const tags = [
    ...(redacted ? [{ system: AUDIT_VIEW_SYSTEM, code: 'redacted', display: 'Also names other patients: only your part is shown' }] : []),
    ...(view.accountOf === undefined ? [] : [{ system: AUDIT_VIEW_SYSTEM, code: 'account', display: "One patient's account of an event that names several patients" }]),
  ];
  return {
    resourceType: 'AuditEvent',
    id: ledgerEventId(index),
    ...(tags.length === 0 ? {} : { meta: { tag: tags } }),
    type,
    subtype,
    action: record.action,
    recorded: instantOf(record.at),
    outcome: record.outcome,
    ...(record.outcomeCode === undefined ? {} : { outcomeDesc: record.outcomeCode }),
    ...(purposes === undefined ? {} : { purposeOfEvent: purposes }),
    agent: agentsOf(record, view.origin, redacted ? view.forPatient : undefined),
    source: {
      site: view.origin,
      observer: { identifier: { system: LEDGER_ORIGIN_SYSTEM, value: view.origin }, display: 'Custodia vault' },
      type: [{ system: SOURCE_TYPE, code: '4', display: 'Application Server' }],
    },
    // R4 forbids empty arrays: an event about nothing in particular (a refused token) has no entity.
    ...(entity.length === 0 ? {} : { entity }),
  };
}
