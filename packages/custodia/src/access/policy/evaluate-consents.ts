/**
 * Deciding one access to one resource against all consents of its patient (consent.html):
 *
 * 1. Only active consents count.
 * 2. Within a consent, the provision tree is tried from the root. A provision applies when all
 *    its conditions match (an empty condition matches). Nested provisions are exceptions to
 *    their parent and are tried only where the parent applies; the deepest applicable provision
 *    decides, and among applicable siblings deny overrides permit. Where the root does not
 *    apply, the consent's base policy (policyRule OPTIN → permit, OPTOUT → deny) decides, or the
 *    consent says nothing.
 * 3. Among the patient's consents, deny overrides permit; `none` when none of them says
 *    anything (the caller falls back to the vault's default).
 *
 * Conservative handling of what cannot be checked. A condition that cannot be decided from the
 * request and the resource's (type, id, labels) — provision.code, dataPeriod, non-resource-type
 * classes, actors in data roles such as author or custodian, related data — is resolved to
 * whichever value gives the more restrictive decision: a deny provision with such a condition is
 * treated as applying (deny more), a permit provision as not applying (permit less); the deny
 * exceptions inside such a permit still apply. Formally the decision is the minimum, in the order
 * deny < none < permit, over every way those conditions could turn out.
 *
 * Labels never widen access. A resource is decided as the most restrictive of the decisions it
 * would get with any subset of its labels: a permit that names a label can narrow a permit but
 * cannot lift a deny that the same resource would get without that label. Adding a label to a
 * resource therefore never permits more.
 */
import { CustodiaError } from '../../kernel/index.js';
import { CONFIDENTIALITY_CODES, labelKey, type SecurityLabel } from './security-labels.js';
import { CONFIDENTIALITY_SYSTEM } from './code-systems.js';
import type { AccessRequest, CompiledConsent, CompiledProvision, ConsentDecision, ConsentDecisionValue, DataItem, ProvisionType } from './consent-model.js';
import { matchDataSide } from './data-match.js';
import { describeProvision } from './reasons.js';
import { allOf, matchRequestSide, type Match } from './request-match.js';

interface Context {
  readonly consent: CompiledConsent;
  readonly request: AccessRequest;
  readonly item: DataItem;
  readonly labels: readonly SecurityLabel[];
}

interface TreeResult {
  readonly type: ProvisionType;
  readonly deciders: readonly CompiledProvision[];
  readonly notes: readonly string[];
}

interface Outcome {
  readonly decision: ConsentDecisionValue;
  readonly reason: string;
}

function applies(p: CompiledProvision, ctx: Context): Match {
  return allOf([matchRequestSide(p, ctx.request), matchDataSide(p, ctx.item, ctx.labels)]);
}

/** The decision under `p`, given that `p` applies (minimum over what cannot be checked). */
function decide(p: CompiledProvision, ctx: Context): TreeResult {
  const denies: TreeResult[] = [];
  const permits: TreeResult[] = [];
  const skipped: string[] = [];
  for (const child of p.provisions) {
    const m = applies(child, ctx);
    if (m.value === 'no') continue;
    const r = decide(child, ctx);
    if (r.type === 'deny') {
      denies.push(m.value === 'yes' ? r : { ...r, notes: [`${child.path} is treated as applying because it denies (${m.unknown.join('; ')})`, ...r.notes] });
    } else if (m.value === 'yes') permits.push(r);
    else skipped.push(`${child.path} is not applied because it permits (${m.unknown.join('; ')})`);
  }
  if (denies.length > 0) return { type: 'deny', deciders: denies.flatMap((d) => d.deciders), notes: denies.flatMap((d) => d.notes) };
  if (permits.length > 0) return { type: 'permit', deciders: permits.flatMap((d) => d.deciders), notes: permits.flatMap((d) => d.notes) };
  return { type: p.type, deciders: [p], notes: skipped };
}

function withNotes(text: string, notes: readonly string[]): string {
  return notes.length === 0 ? text : `${text} [${notes.join('; ')}]`;
}

function baseOutcome(c: CompiledConsent, why: string): Outcome {
  if (c.base === undefined) return { decision: 'none', reason: `${c.reference}: says nothing (${why}; no base policy)` };
  return { decision: c.base, reason: `${c.reference}: ${c.base} by base policy ${c.policyRule ?? '?'} (${why})` };
}

function consentOutcome(c: CompiledConsent, request: AccessRequest, item: DataItem, labels: readonly SecurityLabel[]): Outcome {
  if (!c.active) return { decision: 'none', reason: `${c.reference}: ignored, status is ${c.status}` };
  const root = c.root;
  if (root === undefined) return baseOutcome(c, 'no provision');
  const ctx: Context = { consent: c, request, item, labels };
  const m = applies(root, ctx);
  if (m.value === 'no') return baseOutcome(c, `${root.path} does not apply`);
  const r = decide(root, ctx);
  const text = (notes: readonly string[]): string => withNotes(r.deciders.map((d) => describeProvision(c.reference, d)).join(' and '), notes);
  if (m.value === 'yes') return { decision: r.type, reason: text(r.notes) };
  if (r.type === 'deny') return { decision: 'deny', reason: text([`${root.path} is treated as applying because it denies (${m.unknown.join('; ')})`, ...r.notes]) };
  return baseOutcome(c, `${root.path} is not applied because it permits (${m.unknown.join('; ')})`);
}

function combine(outcomes: readonly Outcome[]): ConsentDecision {
  for (const d of ['deny', 'permit'] as const) {
    const hits = outcomes.filter((o) => o.decision === d);
    if (hits.length > 0) return { decision: d, reasons: hits.map((o) => o.reason) };
  }
  return { decision: 'none', reasons: outcomes.length === 0 ? ['no consent of this patient'] : outcomes.map((o) => o.reason) };
}

const RANK: Readonly<Record<ConsentDecisionValue, number>> = { deny: 0, none: 1, permit: 2 };

/** Label keys that some provision of these consents tests. */
function testedLabelKeys(consents: readonly CompiledConsent[]): Set<string> {
  const keys = new Set<string>();
  const visit = (p: CompiledProvision): void => {
    for (const l of p.securityLabels) {
      if (l.system === undefined || l.code === undefined) continue;
      if (l.system === CONFIDENTIALITY_SYSTEM) for (const code of CONFIDENTIALITY_CODES) keys.add(labelKey({ system: l.system, code }));
      else keys.add(labelKey({ system: l.system, code: l.code }));
    }
    p.provisions.forEach(visit);
  };
  for (const c of consents) if (c.active && c.root !== undefined) visit(c.root);
  return keys;
}

/** Throws unless all consents are of the same patient (a caller's mistake, never data-driven). */
export function assertOnePatient(consents: readonly CompiledConsent[]): void {
  const patients = new Set(consents.map((c) => c.patient));
  if (patients.size > 1) throw new CustodiaError('internal', 'Consents of several patients were evaluated together');
}

/**
 * The consent decision for one request on one resource of the patient whose consents these are.
 *
 * @example
 *   const notThem = compileConsent(consentExampleNotThem); // OPTIN, exception for Practitioner/f204
 *   evaluateConsents([notThem], { actor: { references: ['Practitioner/f204'] }, purposeOfUse: 'TREAT', action: 'access', now: Date.now() },
 *     { resourceType: 'Observation', id: 'o1', labels: [] });
 *   // { decision: 'deny', reasons: ['Consent/consent-example-notThem provision: deny for actor Practitioner/f204; action access|correct'] }
 */
export function evaluateConsents(consents: readonly CompiledConsent[], request: AccessRequest, item: DataItem): ConsentDecision {
  assertOnePatient(consents);
  const tested = testedLabelKeys(consents);
  const relevant = [...new Set(item.labels.map(labelKey).filter((k) => tested.has(k)))].sort();
  if (relevant.length > 16) throw new CustodiaError('internal', 'Too many tested security labels on one resource');
  let best: ConsentDecision | undefined;
  let bestDropped: string[] = [];
  // The full label set first, then every subset: the most restrictive decision wins.
  for (let keep = (1 << relevant.length) - 1; keep >= 0; keep--) {
    const dropped = relevant.filter((_, i) => (keep & (1 << i)) === 0);
    const labels = dropped.length === 0 ? item.labels : item.labels.filter((l) => !dropped.includes(labelKey(l)));
    const d = combine(consents.map((c) => consentOutcome(c, request, item, labels)));
    if (best === undefined || RANK[d.decision] < RANK[best.decision]) {
      best = d;
      bestDropped = dropped;
    }
    if (best.decision === 'deny') break;
  }
  const result = best!;
  if (bestDropped.length === 0) return result;
  const note = `decided as if the resource did not carry label ${bestDropped.join(', ')}: a security label never widens access`;
  return { decision: result.decision, reasons: [...result.reasons, note] };
}
