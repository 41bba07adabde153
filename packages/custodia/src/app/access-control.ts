/**
 * The one decision point every FHIR request goes through after authentication:
 *
 *   scopes ∩ role permissions   (interaction level: permission-check.ts, 403 when refused)
 *   ∩ compartment ∩ consent ∩ security labels   (data level: one Visibility, applied
 *                                               inside every query: 404-alike when hidden)
 *
 * Break-the-glass claims are honoured here (a session is opened and recorded) and lift
 * consent and labels for that one patient only. Deny by default throughout.
 */
import {
  buildVisibility,
  checkClaim,
  checkPermissions,
  compartmentBoundTypes,
  requirementsOf,
  BREAK_THE_GLASS,
  TREATMENT,
  type BreakGlassService,
  type BreakGlassSession,
  type AccessRequest,
  type CompiledConsent,
  type ConsentGroup,
  evaluateConsents,
  type LabelRequirement,
  type Principal,
  type ScopeRestriction,
} from '../access/index.js';
import { compartmentParams, isVisible, SEE_ALL, simplifyVisibility, type FhirInteraction, type InteractionGuard, type Visibility, type VisibilityFacts } from '../fhir/index.js';
import type { Clock } from '../kernel/index.js';

/** Consent, reduced for one principal: which patients' records it may see, and how much. */
export interface ConsentSource {
  /** The consents reduced for `p` and a consent action (`access` when not given). */
  groupsFor(p: Principal, now: number, action?: AccessRequest['action']): Promise<readonly ConsentGroup[]>;
  consentsOf(patientId: string): Promise<readonly CompiledConsent[]>;
  unreadableOf(patientId: string): Promise<readonly string[]>;
  /** Every reference a Consent provision actor may use to name `p` (their fhirUser, roles, organisations, care teams, groups). */
  actorOf(p: Principal, now: number): Promise<AccessRequest['actor']>;
}

/** One layer of the decision, for "why was I denied". */
export interface ExplainedLayer {
  readonly layer: 'permissions' | 'compartment' | 'labels' | 'consent' | 'break-glass';
  readonly allows: boolean;
  readonly reasons: readonly string[];
}

/** Break-the-glass as asked for by request headers (the token may carry it too). */
export interface BreakGlassRequest {
  readonly purposeOfUse?: string | undefined;
  readonly reason?: string | undefined;
  readonly patient?: string | undefined;
}

export interface RequestAccess {
  readonly visibility: Visibility;
  /**
   * What the caller may change: `visibility` narrowed by the patients' consents for the
   * action `correct` (consent.html, Consent.provision.action). Computed on demand, for
   * interactions that write.
   */
  writeVisibility(): Promise<Visibility>;
  readonly guard: InteractionGuard;
  readonly reasons: readonly string[];
  /** Set when this request opened a new break-the-glass session. */
  readonly openedBreakGlass?: BreakGlassSession;
}

/** The requester as consent actors can name them, for explanations. */
function describeActor(a: AccessRequest['actor']): string {
  const parts = [`requester as a consent actor: ${a.references.length === 0 ? 'no reference' : a.references.join(', ')}`];
  if ((a.possibly ?? []).length > 0) parts.push(`possibly (counts for denies only) ${a.possibly!.join(', ')}`);
  if ((a.unresolvedTypes ?? []).length > 0) parts.push(`${a.unresolvedTypes!.join(', ')} links not all looked up`);
  return parts.join('; ');
}

export class AccessControl {
  readonly #patientDataTypes: readonly string[];
  readonly #allTypes: readonly string[];

  readonly #tokenParams: ReadonlySet<string>;

  /** `tokenParams`: the token search parameters per type (`Type.name`), which scope queries may use. */
  constructor(
    resourceTypes: readonly string[],
    private readonly labels: readonly LabelRequirement[],
    private readonly consent: ConsentSource,
    private readonly breakGlass: BreakGlassService,
    private readonly clock: Clock,
    tokenParams: Iterable<string> = [],
  ) {
    this.#allTypes = resourceTypes;
    this.#patientDataTypes = resourceTypes.filter((t) => compartmentParams('Patient', t).length > 0);
    this.#tokenParams = new Set(tokenParams);
  }

  isPatientData = (type: string): boolean => this.#patientDataTypes.includes(type);

  /** A scope query is enforced when every parameter is a token search parameter of the type (has-token over its index rows). */
  supportsRestriction = (type: string, restrictions: readonly ScopeRestriction[]): boolean => restrictions.every((r) => this.#tokenParams.has(`${type}.${r.param}`));

  /**
   * The last decision per principal (the token service hands out one Principal object per
   * token), reused while its inputs — the consent groups object, the break-the-glass
   * patients — are the same. Everything else the decision depends on is in the principal.
   */
  readonly #decisions = new WeakMap<Principal, { groups: readonly ConsentGroup[]; breakGlass: string; decision: ReturnType<typeof buildVisibility> }>();

  /** The interaction-level check for one interaction (each bundle entry goes through it too). */
  guardFor(p: Principal): InteractionGuard {
    return (i: FhirInteraction) => {
      checkPermissions(p, requirementsOf(i, this.#allTypes), { isPatientData: this.isPatientData, supportsRestriction: this.supportsRestriction });
    };
  }

  /**
   * Why `p` may or may not read (`access`) or change (`correct`) the resource with these
   * facts: each layer on its own, then the whole. For administrators and privacy officers;
   * never shown to `p`.
   */
  async explain(p: Principal, facts: VisibilityFacts, action: AccessRequest['action'] = 'access'): Promise<{ allowed: boolean; layers: ExplainedLayer[] }> {
    const layers: ExplainedLayer[] = [];
    const verb = action === 'access' ? 'reading' : 'changing';
    try {
      this.guardFor(p)(action === 'access' ? { kind: 'read', type: facts.type, id: facts.id } : { kind: 'update', type: facts.type, id: facts.id, body: undefined });
      layers.push({ layer: 'permissions', allows: true, reasons: [`scopes and role ${p.role ?? p.kind} allow ${verb} ${facts.type}`] });
    } catch {
      layers.push({ layer: 'permissions', allows: false, reasons: [`scopes ∩ role ${p.role ?? p.kind} do not allow ${verb} ${facts.type}`] });
    }
    const now = this.clock.now();
    const permissions = compartmentBoundTypes(p, this.#allTypes, this);
    const compartment = buildVisibility({ principal: p, permissions, labels: [], consent: [], breakGlassPatients: [] });
    layers.push({ layer: 'compartment', allows: isVisible(compartment.visibility, facts), reasons: compartment.reasons.length > 0 ? compartment.reasons : ['no compartment bound'] });
    const noBounds = { compartmentTypes: new Set<string>() };
    const labels = buildVisibility({ principal: p, permissions: noBounds, labels: this.labels, consent: [], breakGlassPatients: [] });
    const carried = facts.labels.map((l) => l.code).filter((c): c is string => c !== null);
    layers.push({ layer: 'labels', allows: isVisible(labels.visibility, facts), reasons: [`resource labels: ${carried.length === 0 ? 'none' : carried.join(', ')}`, ...labels.reasons] });
    const consentFor = async (a: AccessRequest['action']) => buildVisibility({ principal: p, permissions: noBounds, labels: [], consent: await this.consent.groupsFor(p, now, a), breakGlassPatients: [] }).visibility;
    // Changing a record needs the consents' leave to access it as well as to correct it.
    const consentAllows = isVisible(await consentFor('access'), facts) && (action === 'access' || isVisible(await consentFor('correct'), facts));
    const consentReasons: string[] = [];
    const actor = await this.consent.actorOf(p, now);
    for (const c of facts.compartments.filter((m) => m.compartment === 'Patient')) {
      const consents = await this.consent.consentsOf(c.id);
      const item = { resourceType: facts.type, id: facts.id, labels: facts.labels.filter((l): l is { system: string; code: string } => l.system !== null && l.code !== null) };
      for (const a of action === 'access' ? (['access'] as const) : (['access', 'correct'] as const)) {
        const d = consents.length === 0 ? undefined : evaluateConsents(consents, { actor, purposeOfUse: p.purposeOfUse, action: a, now }, item);
        const what = action === 'access' ? '' : ` (${a})`;
        consentReasons.push(d === undefined ? `Patient/${c.id} has no active consent` : `Patient/${c.id}${what}: ${d.decision} — ${d.reasons.join('; ')}`);
        if (d === undefined) break;
      }
      for (const u of await this.consent.unreadableOf(c.id)) consentReasons.push(`Patient/${c.id}: ${u}`);
    }
    if (consentReasons.length > 0) consentReasons.unshift(describeActor(actor));
    layers.push({ layer: 'consent', allows: consentAllows, reasons: consentReasons.length > 0 ? consentReasons : ['not in any patient compartment'] });
    const breakGlass = p.kind === 'user' ? await this.breakGlass.activePatients(p.subject, now) : [];
    if (breakGlass.length > 0) layers.push({ layer: 'break-glass', allows: true, reasons: [`active break-the-glass for ${breakGlass.map((id) => `Patient/${id}`).join(', ')}`] });
    const whole = await this.forRequest(p);
    const visibility = action === 'access' ? whole.visibility : await whole.writeVisibility();
    return { allowed: layers[0]!.allows && isVisible(visibility, facts), layers };
  }

  /** `address`: the requester's network address, for the record of a break-the-glass session it opens. */
  async forRequest(p: Principal, btg: BreakGlassRequest = {}, address?: string): Promise<RequestAccess> {
    const guard = this.guardFor(p);
    if (p.kind === 'operator') return { visibility: SEE_ALL, writeVisibility: async () => SEE_ALL, guard, reasons: ['operator token'] };
    const now = this.clock.now();
    let opened: BreakGlassSession | undefined;
    const purpose = btg.purposeOfUse ?? p.purposeOfUse;
    if (purpose === BREAK_THE_GLASS) {
      const claim = checkClaim(p, { patientId: btg.patient ?? p.patient, reason: btg.reason ?? p.breakGlassReason });
      const r = await this.breakGlass.open(p, claim, now, address);
      if (r.created) opened = r.session;
    }
    const breakGlassPatients = p.kind === 'user' ? await this.breakGlass.activePatients(p.subject, now) : [];
    // Break-the-glass is for the session's patient, whose consent and labels it lifts
    // outright. Everyone else's consent sees an ordinary treatment request: a BTG purpose
    // in a token must not satisfy emergency provisions in every patient's consent.
    const consentPrincipal = p.purposeOfUse === BREAK_THE_GLASS ? { ...p, purposeOfUse: TREATMENT } : p;
    const groups = await this.consent.groupsFor(consentPrincipal, now);
    const breakGlassKey = breakGlassPatients.join('\u0000');
    // The token's bounds (compartment, scope queries) depend on the principal alone: worked out
    // at most once per request, shared by the read and the write decision.
    let permissions: ReturnType<typeof compartmentBoundTypes> | undefined;
    const decide = (consent: readonly ConsentGroup[]) =>
      buildVisibility({ principal: p, permissions: (permissions ??= compartmentBoundTypes(p, this.#allTypes, this)), labels: this.labels, consent, breakGlassPatients });
    const last = this.#decisions.get(p);
    let decision = last !== undefined && last.groups === groups && last.breakGlass === breakGlassKey ? last.decision : undefined;
    if (decision === undefined) {
      decision = decide(groups);
      this.#decisions.set(p, { groups, breakGlass: breakGlassKey, decision });
    }
    const visibility = decision.visibility;
    // Changing a record needs the consents' leave to correct it as well as to access it;
    // break-the-glass lifts both for its patient.
    const writeVisibility = async (): Promise<Visibility> => {
      const correct = await this.consent.groupsFor(consentPrincipal, now, 'correct');
      return correct === groups || (correct.length === 0 && groups.length === 0) ? visibility : simplifyVisibility({ kind: 'and', items: [visibility, decide(correct).visibility] });
    };
    return { visibility, writeVisibility, guard, reasons: decision.reasons, ...(opened === undefined ? {} : { openedBreakGlass: opened }) };
  }
}
