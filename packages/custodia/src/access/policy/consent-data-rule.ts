/**
 * The consent decision as a predicate over stored data, for a fixed request: the set of this
 * patient's resources that consent does not deny. It is built from the same rules as
 * evaluateConsents (see there), independently, and the two are tested equal:
 *
 *   evaluatePredicate(consentDataRule(cs, req), item) === (evaluateConsents(cs, req, item).decision !== 'deny')
 *
 * Construction. For a fixed request, request-side conditions are constants. Each provision P
 * then has two data predicates: `poss(P)` (its conditions may hold: unknown conditions taken as
 * true) and `cert(P)` (they surely hold: unknown conditions taken as false). "P's subtree denies,
 * given P applies" is
 *
 *   D(P) = OR over children C of (poss(C) AND D(C))  OR  (P is deny AND no child C has cert(C))
 *
 * and a consent denies where `(poss(root) AND D(root)) OR (base is deny AND NOT cert(root))`.
 * This is the minimum over the unknown conditions (deny provisions apply when they may, permits
 * only when they surely do). Then the deny predicate is made monotone in labels — for each label
 * L it tests, `deny := deny[L:=false] OR (has-label L AND deny[L:=true])` — which is exactly
 * "some subset of the resource's labels leads to deny": labels never widen access.
 */
import { CONFIDENTIALITY_SYSTEM, RESOURCE_TYPES_SYSTEM } from './code-systems.js';
import type { AccessRequest, CodeRef, CompiledConsent, CompiledProvision, ProvisionType } from './consent-model.js';
import { FALSE, TRUE, and, assumeLabel, hasLabel, not, or, predicateLabels, refIn, typeIn, type DataPredicate } from './data-predicate.js';
import { assertOnePatient } from './evaluate-consents.js';
import { matchRequestSide } from './request-match.js';
import { CONFIDENTIALITY_CODES, NORMAL_RANK, confidentialityRank } from './security-labels.js';

interface Applicability {
  /** The provision's conditions may hold. */
  readonly poss: DataPredicate;
  /** The provision's conditions surely hold. */
  readonly cert: DataPredicate;
}

const YES: Applicability = { poss: TRUE, cert: TRUE };
const NO: Applicability = { poss: FALSE, cert: FALSE };
const UNKNOWN: Applicability = { poss: TRUE, cert: FALSE };
const known = (p: DataPredicate): Applicability => ({ poss: p, cert: p });

function anyOf(list: readonly Applicability[]): Applicability {
  if (list.length === 0) return YES;
  return { poss: or(...list.map((a) => a.poss)), cert: or(...list.map((a) => a.cert)) };
}

function allOf(list: readonly Applicability[]): Applicability {
  return { poss: and(...list.map((a) => a.poss)), cert: and(...list.map((a) => a.cert)) };
}

/** Confidentiality as a high-water mark (effective level at least N); other labels exactly. */
function labelCondition(type: ProvisionType, entry: CodeRef): Applicability {
  if (entry.system === undefined || entry.code === undefined) return UNKNOWN;
  if (entry.system !== CONFIDENTIALITY_SYSTEM) return known(hasLabel(entry.system, entry.code));
  const rank = confidentialityRank({ system: entry.system, code: entry.code });
  if (rank === undefined) return UNKNOWN;
  const label = (code: string): DataPredicate => hasLabel(CONFIDENTIALITY_SYSTEM, code);
  if (type === 'deny') {
    // effective ≥ rank: always when rank ≤ N, else some label at rank or above.
    return known(rank <= NORMAL_RANK ? TRUE : or(...CONFIDENTIALITY_CODES.slice(rank).map(label)));
  }
  // effective ≤ rank: never below N, else no label above rank.
  return known(rank < NORMAL_RANK ? FALSE : and(...CONFIDENTIALITY_CODES.slice(rank + 1).map((c) => not(label(c)))));
}

function applicability(p: CompiledProvision, request: AccessRequest): Applicability {
  const requestSide = matchRequestSide(p, request).value;
  if (requestSide === 'no') return NO;
  return allOf([
    requestSide === 'yes' ? YES : UNKNOWN,
    anyOf(p.classes.map((c) => (c.system === RESOURCE_TYPES_SYSTEM && c.code !== undefined ? known(typeIn([c.code])) : UNKNOWN))),
    anyOf(p.securityLabels.map((l) => labelCondition(p.type, l))),
    p.codes.length === 0 ? YES : UNKNOWN,
    p.dataPeriod === undefined ? YES : UNKNOWN,
    anyOf(
      p.data.map((d) => {
        if (d.meaning === 'authoredby' || d.reference === undefined) return UNKNOWN;
        if (d.version !== undefined) return { poss: refIn([d.reference]), cert: FALSE };
        if (d.meaning === 'instance') return known(refIn([d.reference]));
        return { poss: TRUE, cert: refIn([d.reference]) };
      }),
    ),
  ]);
}

/** D(P): where the subtree of P denies, given P applies. */
function denies(p: CompiledProvision, request: AccessRequest): DataPredicate {
  const children = p.provisions.map((c) => ({ a: applicability(c, request), c }));
  const byChildren = or(...children.map(({ a, c }) => and(a.poss, denies(c, request))));
  const own = p.type === 'deny' ? and(...children.map(({ a }) => not(a.cert))) : FALSE;
  return or(byChildren, own);
}

function consentDenies(c: CompiledConsent, request: AccessRequest): DataPredicate {
  if (!c.active) return FALSE;
  const baseDenies = c.base === 'deny';
  if (c.root === undefined) return baseDenies ? TRUE : FALSE;
  const a = applicability(c.root, request);
  return or(and(a.poss, denies(c.root, request)), baseDenies ? not(a.cert) : FALSE);
}

/** ∃ subset of the resource's labels under which `p` holds (p made monotone in its label atoms). */
function monotoneInLabels(p: DataPredicate): DataPredicate {
  let out = p;
  for (const l of predicateLabels(p)) out = or(assumeLabel(out, l, false), and(hasLabel(l.system, l.code), assumeLabel(out, l, true)));
  return out;
}

/**
 * For one request, the predicate selecting the patient's resources that consent permits
 * (decision permit or none). `{kind:'true'}` when consent restricts nothing. Deterministic:
 * the same consents in any order give the same predicate.
 *
 * @example
 *   consentDataRule([hivRestriction], { actor: { references: ['Practitioner/p1'] }, purposeOfUse: 'TREAT', action: 'access', now })
 *   // { kind: 'not', item: { kind: 'has-label', system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIV' } }
 */
export function consentDataRule(consents: readonly CompiledConsent[], request: AccessRequest): DataPredicate {
  assertOnePatient(consents);
  return not(monotoneInLabels(or(...consents.map((c) => consentDenies(c, request)))));
}
