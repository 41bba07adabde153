/**
 * Compiling an R4 Consent (consent.html) into the model of `consent-model.ts`.
 *
 * Interpretation (consent.html and the Consent StructureDefinition):
 * - Only `status = active` takes part in decisions (`active`); other statuses compile but are
 *   ignored when evaluating.
 * - `policyRule` is "the base computable regulation or policy". Its v3-ActCode codes OPTIN and
 *   OPTINR give a base of permit, OPTOUT and OPTOUTE a base of deny; any other policy gives no
 *   base (the consent then says nothing outside its provisions).
 * - `Consent.provision` is "an exception to the base policy of this consent", and
 *   `provision.type` is "not permitted in root rule, required in all nested rules". So an
 *   untyped root provision is the opposite of the base (OPTIN + untyped root = deny where the
 *   root applies). A written root type is accepted (several R4 examples have one) and wins.
 * - Nested provisions must have a type; they are exceptions to their parent.
 *
 * Throws `resource-invalid` for a consent that cannot be interpreted safely: not a Consent, no
 * `Patient/<id>` patient, a modifierExtension anywhere (it could change the meaning of what we
 * read), an untyped root with no OPTIN/OPTOUT base, conflicting OPTIN/OPTOUT codes, a nested
 * provision without type, an unknown type or data meaning, a malformed period, or a tree deeper
 * than 32 levels or larger than 2,000 provisions.
 */
import { CustodiaError } from '../../kernel/index.js';
import { ACT_CODE_SYSTEM, PARTICIPATION_TYPE_SYSTEM, normalizeSystem } from './code-systems.js';
import type { ActorCondition, CodeRef, CompiledConsent, CompiledProvision, DataCondition, ProvisionType, TimeRange } from './consent-model.js';
import { parsePeriod } from './fhir-period.js';

const MAX_DEPTH = 32;
const MAX_PROVISIONS = 2000;

/** v3-ParticipationType roles that say how someone is involved in the data itself, not who receives it. */
export const DATA_SIDE_ROLES: ReadonlySet<string> = new Set(['AUT', 'AUTHEN', 'CST', 'ENT', 'INF', 'LA', 'PRF', 'VRF']);

const BASE_OF: ReadonlyMap<string, ProvisionType> = new Map([
  ['OPTIN', 'permit'],
  ['OPTINR', 'permit'],
  ['OPTOUT', 'deny'],
  ['OPTOUTE', 'deny'],
]);

const MEANINGS = new Set(['instance', 'related', 'dependents', 'authoredby']);
const RELATIVE_REFERENCE = /^([A-Z][A-Za-z]{1,63})\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Compiler {
  readonly notes: string[] = [];
  count = 0;
  constructor(readonly label: string) {}

  fail(message: string, expression: string): never {
    throw new CustodiaError('resource-invalid', `${this.label} cannot be interpreted safely: ${message}`, {
      issues: [{ diagnostics: message, expression: [expression] }],
    });
  }

  list(v: unknown, where: string): unknown[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) this.fail('expected an array', where);
    return v;
  }

  noModifiers(o: Json, where: string): void {
    if (o['modifierExtension'] !== undefined) this.fail('modifierExtension is not understood', `${where}.modifierExtension`);
  }

  coding(v: unknown, where: string): CodeRef {
    if (!isObject(v)) this.fail('expected a Coding', where);
    const system = typeof v['system'] === 'string' ? normalizeSystem(v['system']) : undefined;
    const code = typeof v['code'] === 'string' ? v['code'] : undefined;
    return { ...(system === undefined ? {} : { system }), ...(code === undefined ? {} : { code }) };
  }

  concept(v: unknown, where: string): CodeRef[] {
    if (!isObject(v)) this.fail('expected a CodeableConcept', where);
    return this.list(v['coding'], `${where}.coding`).map((c, i) => this.coding(c, `${where}.coding[${i}]`));
  }

  period(v: unknown, where: string): TimeRange | undefined {
    if (v === undefined) return undefined;
    const p = parsePeriod(v);
    if (typeof p === 'string') this.fail(`period ${p}`, where);
    return p;
  }

  actor(v: unknown, where: string): ActorCondition {
    if (!isObject(v)) this.fail('expected an actor', where);
    this.noModifiers(v, where);
    const roles = v['role'] === undefined ? [] : this.concept(v['role'], `${where}.role`);
    const dataSide = roles.some((r) => r.system === PARTICIPATION_TYPE_SYSTEM && r.code !== undefined && DATA_SIDE_ROLES.has(r.code));
    const ref = isObject(v['reference']) ? v['reference']['reference'] : undefined;
    const text = typeof ref === 'string' ? ref : '(no literal reference)';
    const m = typeof ref === 'string' ? RELATIVE_REFERENCE.exec(ref) : null;
    const reference = m !== null && m[3] === undefined ? `${m[1]}/${m[2]}` : undefined;
    return { roles, side: dataSide ? 'data' : 'requester', ...(reference === undefined ? {} : { reference }), text };
  }

  data(v: unknown, where: string): DataCondition {
    if (!isObject(v)) this.fail('expected a data element', where);
    this.noModifiers(v, where);
    const meaning = v['meaning'];
    if (typeof meaning !== 'string' || !MEANINGS.has(meaning)) this.fail(`data.meaning must be instance, related, dependents or authoredby`, `${where}.meaning`);
    const ref = isObject(v['reference']) ? v['reference']['reference'] : undefined;
    const text = typeof ref === 'string' ? ref : '(no literal reference)';
    const m = typeof ref === 'string' ? RELATIVE_REFERENCE.exec(ref) : null;
    return {
      meaning: meaning as DataCondition['meaning'],
      ...(m === null ? {} : { reference: `${m[1]}/${m[2]}` }),
      ...(m === null || m[3] === undefined ? {} : { version: m[3] }),
      text,
    };
  }

  provision(v: unknown, path: string, depth: number, rootType: ProvisionType | undefined): CompiledProvision {
    if (!isObject(v)) this.fail('expected a provision', path);
    if (depth > MAX_DEPTH) this.fail(`provisions nest deeper than ${MAX_DEPTH} levels`, path);
    if (++this.count > MAX_PROVISIONS) this.fail(`more than ${MAX_PROVISIONS} provisions`, path);
    this.noModifiers(v, path);
    const written = v['type'];
    if (written !== undefined && written !== 'permit' && written !== 'deny') this.fail('type must be permit or deny', `${path}.type`);
    let type: ProvisionType;
    let typeSource: CompiledProvision['typeSource'] = 'explicit';
    if (written !== undefined) type = written;
    else if (rootType !== undefined) {
      type = rootType;
      typeSource = 'policy-rule';
    } else if (depth === 0) this.fail('the root provision has no type and policyRule is not OPTIN/OPTINR/OPTOUT/OPTOUTE, so its effect is unknown', `${path}.type`);
    else this.fail('a nested provision has no type (R4: required in all nested rules)', `${path}.type`);
    const period = this.period(v['period'], `${path}.period`);
    const dataPeriod = this.period(v['dataPeriod'], `${path}.dataPeriod`);
    return {
      path,
      type,
      typeSource,
      ...(period === undefined ? {} : { period }),
      actors: this.list(v['actor'], `${path}.actor`).map((a, i) => this.actor(a, `${path}.actor[${i}]`)),
      actions: this.list(v['action'], `${path}.action`).map((a, i) => this.concept(a, `${path}.action[${i}]`)),
      securityLabels: this.list(v['securityLabel'], `${path}.securityLabel`).map((c, i) => this.coding(c, `${path}.securityLabel[${i}]`)),
      purposes: this.list(v['purpose'], `${path}.purpose`).map((c, i) => this.coding(c, `${path}.purpose[${i}]`)),
      classes: this.list(v['class'], `${path}.class`).map((c, i) => this.coding(c, `${path}.class[${i}]`)),
      codes: this.list(v['code'], `${path}.code`).map((c, i) => this.concept(c, `${path}.code[${i}]`)),
      ...(dataPeriod === undefined ? {} : { dataPeriod }),
      data: this.list(v['data'], `${path}.data`).map((d, i) => this.data(d, `${path}.data[${i}]`)),
      provisions: this.list(v['provision'], `${path}.provision`).map((p, i) => this.provision(p, `${path}.provision[${i}]`, depth + 1, undefined)),
    };
  }
}

/**
 * Compiles a Consent resource (parsed JSON) for evaluation.
 *
 * @example
 *   const c = compileConsent({
 *     resourceType: 'Consent', id: 'c1', status: 'active', patient: { reference: 'Patient/p1' },
 *     scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
 *     category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
 *     policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
 *     provision: { actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP' }] },
 *                           reference: { reference: 'Practitioner/f204' } }] },
 *   });
 *   // c.base === 'permit'; c.root.type === 'deny' (an exception to the opt-in, for Practitioner/f204)
 */
export function compileConsent(resource: unknown): CompiledConsent {
  if (!isObject(resource) || resource['resourceType'] !== 'Consent') {
    throw new CustodiaError('resource-invalid', 'Not a Consent resource', { issues: [{ diagnostics: 'resourceType must be Consent', expression: ['resourceType'] }] });
  }
  const id = typeof resource['id'] === 'string' ? resource['id'] : undefined;
  const reference = `Consent/${id ?? '(no id)'}`;
  const c: Compiler = new Compiler(reference);
  c.noModifiers(resource, 'Consent');
  const status = resource['status'];
  if (typeof status !== 'string') c.fail('status is missing', 'Consent.status');
  const patientRef = isObject(resource['patient']) ? resource['patient']['reference'] : undefined;
  const pm = typeof patientRef === 'string' ? RELATIVE_REFERENCE.exec(patientRef) : null;
  if (pm === null || pm[1] !== 'Patient' || pm[3] !== undefined) c.fail('patient must be a literal reference Patient/<id>', 'Consent.patient');

  const policyCodes = isObject(resource['policyRule'])
    ? c.concept(resource['policyRule'], 'Consent.policyRule').filter((x) => x.system === ACT_CODE_SYSTEM && x.code !== undefined && BASE_OF.has(x.code))
    : [];
  const bases = new Set(policyCodes.map((x) => BASE_OF.get(x.code!)!));
  if (bases.size > 1) c.fail('policyRule says both opt-in and opt-out', 'Consent.policyRule');
  const base = [...bases][0];
  const policyRule = policyCodes[0]?.code;

  const rootType = base === undefined ? undefined : base === 'permit' ? 'deny' : 'permit';
  const root = resource['provision'] === undefined ? undefined : c.provision(resource['provision'], 'provision', 0, rootType);
  if (root === undefined && base === undefined) c.fail('there is no provision and policyRule is not OPTIN/OPTINR/OPTOUT/OPTOUTE', 'Consent.provision');
  if (root !== undefined && root.typeSource === 'explicit') {
    c.notes.push(
      `provision.type "${root.type}" is written on the root provision, which R4 does not permit; it is used as written` +
        (base === undefined ? '' : ` (policyRule ${policyRule} gives a base of ${base})`),
    );
  }
  if (root !== undefined && root.typeSource === 'policy-rule') {
    c.notes.push(`the root provision is an exception to policyRule ${policyRule}: ${root.type} where it applies, ${base} elsewhere`);
  }
  return {
    ...(id === undefined ? {} : { id }),
    reference,
    patient: `Patient/${pm[2]}`,
    status,
    active: status === 'active',
    ...(policyRule === undefined ? {} : { policyRule }),
    ...(base === undefined ? {} : { base }),
    ...(root === undefined ? {} : { root }),
    notes: c.notes,
  };
}
