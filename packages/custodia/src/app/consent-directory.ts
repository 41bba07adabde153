/**
 * The patients' Consent resources, compiled (access/policy), and reduced per request to
 * what each principal may see of each consenting patient's record. Recompiled whenever
 * any Consent changes — the store's change marker is checked on every request, so a
 * consent change takes effect on the next request. Reductions are cached per requester
 * (as the consents can name them: actor-directory.ts) and purpose for at most 30 seconds,
 * so a provision period that starts or ends takes effect within 30 seconds.
 */
import {
  compileConsent,
  consentDataRule,
  predicateKey,
  type AccessRequest,
  type CompiledConsent,
  type CompiledProvision,
  type ConsentGroup,
  type DataPredicate,
  type Principal,
} from '../access/index.js';
import { isCustodiaError } from '../kernel/index.js';
import type { ResourceStore, SearchQuery, Visibility } from '../fhir/index.js';
import type { ConsentSource } from './access-control.js';
import { ActorDirectory } from './actor-directory.js';
import type { ActorLimits } from './actor-resolution.js';

const CACHE_MS = 30_000;
const MAX_CONSENTS = 1_000_000;

/** A consent predicate as a store Visibility (the two languages are the same shape). */
export function toVisibility(p: DataPredicate): Visibility {
  switch (p.kind) {
    case 'true':
      return { kind: 'all' };
    case 'false':
      return { kind: 'none' };
    case 'type-in':
      return { kind: 'type-in', types: p.types };
    case 'has-label':
      return { kind: 'has-label', system: p.system, code: p.code };
    case 'ref-in':
      return { kind: 'ref-in', refs: p.refs };
    case 'and':
    case 'or':
      return { kind: p.kind, items: p.items.map(toVisibility) };
    case 'not':
      return { kind: 'not', item: toVisibility(p.item) };
  }
}

type RequestActor = AccessRequest['actor'];

const NOBODY: RequestActor = { references: [] };

/**
 * The types of the references actor resolution can add to a `fhirUser` of each type
 * (actor-resolution.ts): when the consents name none of them, no lookup is needed.
 */
function linkedTypes(fhirUserType: string): readonly string[] {
  if (fhirUserType === 'Practitioner') return ['PractitionerRole', 'Organization', 'CareTeam', 'Group'];
  if (fhirUserType === 'PractitionerRole') return ['Practitioner', 'PractitionerRole', 'Organization', 'CareTeam', 'Group'];
  return ['CareTeam', 'Group'];
}

/** The requester-side actor references named anywhere in these consents, and their types. */
interface NamedActors {
  readonly refs: ReadonlySet<string>;
  readonly types: ReadonlySet<string>;
}

function namedActors(consents: Iterable<readonly CompiledConsent[]>): NamedActors {
  const refs = new Set<string>();
  const visit = (p: CompiledProvision): void => {
    for (const a of p.actors) if (a.side === 'requester' && a.reference !== undefined) refs.add(a.reference);
    for (const child of p.provisions) visit(child);
  };
  for (const list of consents) for (const c of list) if (c.root !== undefined) visit(c.root);
  return { refs, types: new Set([...refs].map((r) => r.slice(0, r.indexOf('/')))) };
}

interface Compiled {
  readonly byPatient: ReadonlyMap<string, readonly CompiledConsent[]>;
  /** Patients with a consent that could not be interpreted safely: hidden from everyone but themselves and the operator. */
  readonly unreadable: ReadonlyMap<string, string[]>;
  readonly named: NamedActors;
}

export class ConsentDirectory implements ConsentSource {
  #marker: string | undefined;
  #compiled: Compiled = { byPatient: new Map(), unreadable: new Map(), named: { refs: new Set(), types: new Set() } };
  #loading: Promise<void> | undefined;
  readonly #cache = new Map<string, { until: number; groups: readonly ConsentGroup[] }>();
  readonly #actors: ActorDirectory;

  /** `baseUrl`: this vault's FHIR base, so that absolute references under it count as local ones (as in search). */
  constructor(
    private readonly store: ResourceStore,
    options: { readonly baseUrl?: string; readonly actorLimits?: ActorLimits } = {},
  ) {
    this.#actors = new ActorDirectory(store, {
      ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }),
      ...(options.actorLimits === undefined ? {} : { limits: options.actorLimits }),
    });
  }

  /** Every reference a Consent actor may use to name `p` (for explanations; not narrowed to what consents name). */
  async actorOf(p: Principal, now: number): Promise<RequestActor> {
    return p.fhirUser === undefined ? NOBODY : this.#actors.resolve(p.fhirUser, now);
  }

  /**
   * `p` as the stored consents can name them: the resolved references narrowed to those some
   * consent names, so that requesters nobody names share one reduction, and no lookup runs
   * when the consents name nothing resolution could add.
   */
  async #relevantActor(p: Principal, now: number): Promise<RequestActor> {
    if (p.fhirUser === undefined) return NOBODY;
    const { refs, types } = this.#compiled.named;
    const linked = linkedTypes(p.fhirUser.slice(0, p.fhirUser.indexOf('/')));
    if (!linked.some((t) => types.has(t))) return { references: refs.has(p.fhirUser) ? [p.fhirUser] : [] };
    const full = await this.#actors.resolve(p.fhirUser, now);
    return {
      references: full.references.filter((r) => refs.has(r)),
      possibly: full.possibly.filter((r) => refs.has(r)),
      unresolvedTypes: full.unresolvedTypes.filter((t) => types.has(t)),
    };
  }

  /** The active compiled consents of one patient, for explanations. */
  async consentsOf(patientId: string): Promise<readonly CompiledConsent[]> {
    await this.#refresh();
    return this.#compiled.byPatient.get(patientId) ?? [];
  }

  /** Why a consent of this patient could not be compiled, if one could not. */
  async unreadableOf(patientId: string): Promise<readonly string[]> {
    await this.#refresh();
    return this.#compiled.unreadable.get(patientId) ?? [];
  }

  /**
   * The consents reduced for `p` and one consent action (consentaction codes): `access` for
   * reading, `correct` for changing a record.
   */
  async groupsFor(p: Principal, now: number, action: AccessRequest['action'] = 'access'): Promise<readonly ConsentGroup[]> {
    await this.#refresh();
    const actor = await this.#relevantActor(p, now);
    const who = [actor.references, actor.possibly ?? [], actor.unresolvedTypes ?? []].map((l) => l.join(',')).join('|');
    const key = `${this.#marker}\u0000${who}\u0000${p.purposeOfUse}\u0000${action}`;
    const hit = this.#cache.get(key);
    if (hit !== undefined && hit.until > now) return hit.groups;
    const groups = this.#reduce(actor, p.purposeOfUse, action, now);
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(key, { until: now + CACHE_MS, groups });
    return groups;
  }

  #reduce(actor: RequestActor, purposeOfUse: string, action: AccessRequest['action'], now: number): ConsentGroup[] {
    const request: AccessRequest = { actor, purposeOfUse, action, now };
    const byRule = new Map<string, { rule: DataPredicate; patients: string[]; reasons: string[] }>();
    for (const [patient, consents] of this.#compiled.byPatient) {
      const rule = consentDataRule(consents, request);
      if (rule.kind === 'true') continue;
      const k = predicateKey(rule);
      const g = byRule.get(k) ?? { rule, patients: [], reasons: [] };
      g.patients.push(patient);
      g.reasons.push(`consent of Patient/${patient} (${consents.map((c) => c.reference).join(', ')}) restricts this requester`);
      byRule.set(k, g);
    }
    const groups: ConsentGroup[] = [...byRule.values()].map((g) => ({ patients: g.patients.sort(), permitted: toVisibility(g.rule), reasons: g.reasons.slice(0, 20) }));
    if (this.#compiled.unreadable.size > 0) {
      const patients = [...this.#compiled.unreadable.keys()].sort();
      groups.push({ patients, permitted: { kind: 'none' }, reasons: patients.map((id) => `a consent of Patient/${id} could not be interpreted safely: hidden (${this.#compiled.unreadable.get(id)!.join('; ')})`) });
    }
    return groups;
  }

  async #refresh(): Promise<void> {
    const marker = await this.store.changeMarker('Consent');
    if (marker === this.#marker) return;
    // One reload at a time; concurrent requests wait for it.
    this.#loading ??= this.#load(marker).finally(() => (this.#loading = undefined));
    await this.#loading;
  }

  async #load(marker: string): Promise<void> {
    const query: SearchQuery = { types: ['Consent'], conditions: [], sort: [], count: MAX_CONSENTS, total: 'none', include: [], revinclude: [], ignored: [] };
    const { keys } = await this.store.search(query, MAX_CONSENTS);
    const byPatient = new Map<string, CompiledConsent[]>();
    const unreadable = new Map<string, string[]>();
    for (let i = 0; i < keys.length; i += 1000) {
      for (const v of await this.store.loadByKeys(keys.slice(i, i + 1000))) {
        if (v.json === null) continue;
        const resource = JSON.parse(v.json) as { patient?: { reference?: unknown } };
        const patientRef = typeof resource.patient?.reference === 'string' ? resource.patient.reference : undefined;
        try {
          const c = compileConsent(resource);
          if (!c.active) continue;
          const id = c.patient.replace(/^Patient\//, '');
          byPatient.set(id, [...(byPatient.get(id) ?? []), c]);
        } catch (e) {
          if (!isCustodiaError(e)) throw e;
          const id = patientRef?.startsWith('Patient/') === true ? patientRef.slice('Patient/'.length) : undefined;
          if (id !== undefined) unreadable.set(id, [...(unreadable.get(id) ?? []), `Consent/${v.id}: ${e.message}`]);
        }
      }
    }
    this.#compiled = { byPatient, unreadable, named: namedActors(byPatient.values()) };
    this.#cache.clear();
    this.#marker = marker;
  }
}
