/**
 * Properties of the consent engine over random consents (random provision trees built from
 * realistic conditions), random requests and random items:
 *
 * - the SQL-side predicate and the per-item decision agree;
 * - adding a deny provision, or another consent, never permits more;
 * - adding a label to an item never permits more;
 * - knowing less about who the requester is (a reference only "possibly" theirs, a type whose
 *   references could not all be looked up) never permits more;
 * - the predicate does not depend on the order of the consents.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileConsent,
  consentDataRule,
  evaluateConsents,
  evaluatePredicate,
  type AccessRequest,
  type CompiledConsent,
  type DataItem,
} from '../../../src/access/policy/index.js';
import { action, actor, confidentiality, consent, label, purpose, resourceClass, sensitivity, type Json } from './policy-fixtures.js';

const T0 = Date.parse('2020-01-01T00:00:00Z');
const DAY = 86_400_000;

const actorEntry = fc.constantFrom<Json>(
  actor('Practitioner/a'),
  actor('Practitioner/b'),
  actor('Organization/o'),
  actor('CareTeam/t'),
  actor('Patient/p1', 'PRCP'),
  actor('Organization/o', 'CST'),
  actor('Practitioner/a', 'AUT'),
  actor('Practitioner/b', 'IRCP'),
  actor('http://elsewhere.example/fhir/Practitioner/a'),
  { role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP' }] }, reference: { identifier: { value: 'x' } } },
);
const actionEntry = fc.constantFrom<Json>(action('access'), action('correct'), action('use'), action('collect'), action('disclose'), { coding: [{ system: 'urn:local', code: 'read' }] });
const purposeEntry = fc.constantFrom<Json>(purpose('TREAT'), purpose('ETREAT'), purpose('BTG'), purpose('HPAYMT'), purpose('HRESCH'), { system: 'urn:local', code: 'TREAT' });
const labelEntry = fc.constantFrom<Json>(
  confidentiality('U'),
  confidentiality('M'),
  confidentiality('N'),
  confidentiality('R'),
  confidentiality('V'),
  sensitivity('HIV'),
  sensitivity('ETH'),
  sensitivity('PSY'),
  { system: 'urn:local', code: 'X' },
  { code: 'HIV' },
);
const classEntry = fc.constantFrom<Json>(resourceClass('Observation'), resourceClass('Condition'), resourceClass('MedicationRequest'), { system: 'urn:ietf:bcp:13', code: 'application/hl7-cda+xml' });
const dataEntry = fc.constantFrom<Json>(
  { meaning: 'instance', reference: { reference: 'Observation/1' } },
  { meaning: 'instance', reference: { reference: 'Condition/2' } },
  { meaning: 'related', reference: { reference: 'Observation/2' } },
  { meaning: 'dependents', reference: { reference: 'Condition/1' } },
  { meaning: 'instance', reference: { reference: 'Observation/1/_history/2' } },
  { meaning: 'authoredby', reference: { reference: 'Practitioner/a' } },
  { meaning: 'instance', reference: { reference: '#contained' } },
);
const periodEntry = fc.constantFrom<Json>(
  { start: '2020-01-01', end: '2020-01-10' },
  { start: '2020-01-05' },
  { end: '2020-01-03T12:00:00Z' },
  { start: '2019-12-31T23:00:00-02:00', end: '2020-01-20' },
);

/** A condition list that is absent `weight` times out of `weight + 1`. */
const sometimes = <T>(arb: fc.Arbitrary<T>, weight = 3) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight }, { arbitrary: fc.array(arb, { minLength: 1, maxLength: 2 }), weight: 1 });

/** Conditions of all kinds, request side and data side, known and unverifiable. */
const conditions = fc.record(
  {
    actor: sometimes(actorEntry),
    action: sometimes(actionEntry, 5),
    purpose: sometimes(purposeEntry, 5),
    securityLabel: sometimes(labelEntry, 1),
    class: sometimes(classEntry, 2),
    data: sometimes(dataEntry, 3),
    period: fc.option(periodEntry, { nil: undefined, freq: 6 }),
    dataPeriod: fc.option(fc.constant<Json>({ start: '2019-01-01' }), { nil: undefined, freq: 10 }),
    code: fc.option(fc.constant<Json[]>([{ coding: [{ system: 'http://loinc.org', code: '34133-9' }] }]), { nil: undefined, freq: 10 }),
  },
  { requiredKeys: [] },
);

/** Mostly data-side conditions that can be checked (labels, resource types, instances), so that the predicate has shape. */
const dataConditions = fc.record(
  {
    securityLabel: sometimes(labelEntry, 1),
    class: sometimes(fc.constantFrom<Json>(resourceClass('Observation'), resourceClass('Condition'), resourceClass('MedicationRequest')), 2),
    data: sometimes(fc.constantFrom<Json>({ meaning: 'instance', reference: { reference: 'Observation/1' } }, { meaning: 'instance', reference: { reference: 'Condition/2' } }, { meaning: 'related', reference: { reference: 'Observation/2' } }), 4),
    actor: sometimes(fc.constantFrom<Json>(actor('Practitioner/a'), actor('Practitioner/b')), 6),
    code: fc.option(fc.constant<Json[]>([{ coding: [{ system: 'http://loinc.org', code: '34133-9' }] }]), { nil: undefined, freq: 12 }),
  },
  { requiredKeys: [] },
);

/** Mostly requester conditions (who asks), so that who the requester is decides often. */
const actorConditions = fc.record(
  {
    actor: sometimes(fc.constantFrom<Json>(actor('Practitioner/a'), actor('Organization/o'), actor('CareTeam/t'), actor('Practitioner/b', 'IRCP')), 1),
    purpose: sometimes(purposeEntry, 6),
    securityLabel: sometimes(fc.constantFrom<Json>(sensitivity('HIV'), confidentiality('R')), 3),
  },
  { requiredKeys: [] },
);

function clean(o: Record<string, unknown>): Json {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function treeOf(conds: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Json> {
  return fc.letrec<{ tree: Json }>((tie) => ({
    tree: fc
      .record({
        type: fc.constantFrom('permit', 'deny'),
        conditions: conds,
        children: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.constant([]), fc.array(tie('tree'), { maxLength: 3 })),
      })
      .map(({ type, conditions: c, children }) => clean({ type, ...c, provision: (children as Json[]).length > 0 ? children : undefined })),
  })).tree;
}

function consentOf(conds: fc.Arbitrary<Record<string, unknown>>, policyRules: readonly (string | undefined)[] = ['OPTIN', 'OPTOUT', undefined]): fc.Arbitrary<Json> {
  return fc
    .record({
      policyRule: fc.constantFrom(...policyRules),
      rootTyped: fc.boolean(),
      root: fc.option(treeOf(conds), { nil: undefined, freq: 8 }),
      status: fc.constantFrom('active', 'active', 'active', 'inactive'),
      n: fc.integer({ min: 0, max: 1_000_000 }),
    })
    .map(({ policyRule, rootTyped, root, status, n }) => {
      let provision = root;
      if (provision !== undefined && !rootTyped && policyRule !== undefined) {
        const { type: _type, ...rest } = provision;
        provision = rest;
      }
      if (provision === undefined && policyRule === undefined) provision = { type: 'deny' };
      return consent({
        id: `c${n}`,
        status,
        ...(policyRule === undefined ? {} : { policyRule }),
        ...(provision === undefined ? {} : { provision }),
      });
    });
}

const consentArb = fc.oneof(consentOf(conditions), consentOf(dataConditions));
/** Consents whose predicates have shape: mostly opt-in with data-side exceptions. */
const shapedConsentsArb = fc.array(consentOf(dataConditions, ['OPTIN', 'OPTIN', 'OPTIN', undefined, 'OPTOUT']), { minLength: 1, maxLength: 2 });

const ACTOR_REFS = ['Practitioner/a', 'Practitioner/b', 'Organization/o', 'CareTeam/t', 'Patient/p1'];
const ACTOR_TYPES = ['Practitioner', 'Organization', 'CareTeam'];

const requestArb: fc.Arbitrary<AccessRequest> = fc
  .record({
    references: fc.subarray(ACTOR_REFS),
    possibly: fc.option(fc.subarray(ACTOR_REFS, { maxLength: 2 }), { nil: undefined }),
    unresolvedTypes: fc.option(fc.subarray(ACTOR_TYPES, { maxLength: 1 }), { nil: undefined }),
    roleCodes: fc.constantFrom(undefined, ['PRCP'], ['IRCP'], ['AUT', 'PRCP']),
    purposeOfUse: fc.constantFrom('TREAT', 'ETREAT', 'BTG', 'HPAYMT', 'HRESCH'),
    action: fc.constantFrom('access', 'correct') as fc.Arbitrary<'access' | 'correct'>,
    now: fc.constantFrom(T0 - DAY, T0 + DAY, T0 + 2.5 * DAY, T0 + 5 * DAY, T0 + 9.5 * DAY, T0 + 30 * DAY),
  })
  .map(({ references, possibly, unresolvedTypes, roleCodes, ...rest }) => ({
    actor: {
      references,
      ...(possibly === undefined ? {} : { possibly: possibly.filter((r) => !references.includes(r)) }),
      ...(unresolvedTypes === undefined ? {} : { unresolvedTypes }),
      ...(roleCodes === undefined ? {} : { roleCodes }),
    },
    ...rest,
  }));

const LABELS = ['U', 'L', 'N', 'R', 'V', 'HIV', 'ETH', 'PSY'];
const itemArb: fc.Arbitrary<DataItem> = fc
  .record({
    resourceType: fc.constantFrom('Observation', 'Condition', 'MedicationRequest', 'Task'),
    id: fc.constantFrom('1', '2', '3'),
    labels: fc.subarray(LABELS),
    other: fc.boolean(),
  })
  .map(({ resourceType, id, labels, other }) => ({
    resourceType,
    id,
    labels: [...labels.map(label), ...(other ? [{ system: 'urn:local', code: 'X' }] : [])],
  }));

const consentsArb = fc.array(consentArb, { minLength: 1, maxLength: 3 });

function compileAll(cs: readonly Json[]): CompiledConsent[] {
  return cs.map((c) => compileConsent(c));
}

function permitted(cs: readonly CompiledConsent[], req: AccessRequest, it: DataItem): boolean {
  return evaluateConsents(cs, req, it).decision !== 'deny';
}

/** Every provision of a consent, in pre-order, as mutable JSON. */
function provisionsOf(c: Json): Json[] {
  const out: Json[] = [];
  const visit = (p: Json): void => {
    out.push(p);
    for (const child of (p['provision'] as Json[] | undefined) ?? []) visit(child);
  };
  if (c['provision'] !== undefined) visit(c['provision'] as Json);
  return out;
}

const RUNS = 1500;

describe('consent engine properties', () => {
  it('the data predicate equals the decision (none counts as permitted)', () => {
    fc.assert(
      fc.property(consentsArb, requestArb, fc.array(itemArb, { minLength: 1, maxLength: 6 }), (json, req, items) => {
        const cs = compileAll(json);
        const rule = consentDataRule(cs, req);
        for (const it of items) {
          const d = evaluateConsents(cs, req, it);
          expect(d.reasons.length).toBeGreaterThan(0);
          expect(evaluatePredicate(rule, it)).toBe(d.decision !== 'deny');
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('the data predicate equals the decision, on consents whose predicates have shape', () => {
    fc.assert(
      fc.property(shapedConsentsArb, requestArb, fc.array(itemArb, { minLength: 1, maxLength: 8 }), (json, req, items) => {
        const cs = compileAll(json);
        const rule = consentDataRule(cs, req);
        for (const it of items) expect(evaluatePredicate(rule, it)).toBe(evaluateConsents(cs, req, it).decision !== 'deny');
      }),
      { numRuns: RUNS },
    );
  });

  it('adding a deny provision anywhere never permits more', () => {
    fc.assert(
      fc.property(fc.oneof(consentsArb, shapedConsentsArb), fc.oneof(conditions, dataConditions), fc.nat(), requestArb, itemArb, (json, c, at, req, it) => {
        const changed = structuredClone(json);
        const target = changed[at % changed.length]!;
        const nodes = provisionsOf(target);
        const leaf = clean({ type: 'deny', ...c });
        if (nodes.length === 0) target['provision'] = { type: 'deny', ...clean(c) };
        else {
          const parent = nodes[at % nodes.length]!;
          parent['provision'] = [...((parent['provision'] as Json[] | undefined) ?? []), leaf];
        }
        const before = compileAll(json);
        const after = compileAll(changed);
        if (permitted(after, req, it)) expect(permitted(before, req, it)).toBe(true);
        if (evaluatePredicate(consentDataRule(after, req), it)) expect(evaluatePredicate(consentDataRule(before, req), it)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('adding a consent (deny or any other) never permits more', () => {
    fc.assert(
      fc.property(fc.oneof(consentsArb, shapedConsentsArb), consentArb, requestArb, itemArb, (json, extra, req, it) => {
        const before = compileAll(json);
        const after = compileAll([...json, extra]);
        if (permitted(after, req, it)) expect(permitted(before, req, it)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('adding a label to an item never permits more', () => {
    fc.assert(
      fc.property(fc.oneof(consentsArb, shapedConsentsArb), requestArb, itemArb, fc.constantFrom(...LABELS, 'X'), (json, req, it, extra) => {
        const cs = compileAll(json);
        const more: DataItem = { ...it, labels: [...it.labels, extra === 'X' ? { system: 'urn:local', code: 'X' } : label(extra)] };
        if (permitted(cs, req, more)) expect(permitted(cs, req, it)).toBe(true);
        const rule = consentDataRule(cs, req);
        if (evaluatePredicate(rule, more)) expect(evaluatePredicate(rule, it)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('knowing less about who the requester is never permits more', () => {
    // A reference moved from "surely" to "possibly", one added as "possibly", or a type marked
    // as not fully looked up: each turns an actor match from yes or no into unknown.
    const lessKnown = fc.oneof(
      fc.constantFrom(...ACTOR_REFS).map((ref) => (a: AccessRequest['actor']): AccessRequest['actor'] => ({
        ...a,
        references: a.references.filter((r) => r !== ref),
        possibly: [...(a.possibly ?? []), ref],
      })),
      fc.constantFrom(...ACTOR_TYPES).map((type) => (a: AccessRequest['actor']): AccessRequest['actor'] => ({
        ...a,
        unresolvedTypes: [...(a.unresolvedTypes ?? []), type],
      })),
    );
    fc.assert(
      fc.property(fc.oneof(consentsArb, fc.array(consentOf(actorConditions), { minLength: 1, maxLength: 2 })), requestArb, lessKnown, fc.array(itemArb, { minLength: 1, maxLength: 4 }), (json, req, weaken, items) => {
        const cs = compileAll(json);
        const weaker: AccessRequest = { ...req, actor: weaken(req.actor) };
        const rule = consentDataRule(cs, weaker);
        for (const it of items) {
          if (permitted(cs, weaker, it)) expect(permitted(cs, req, it)).toBe(true);
          if (evaluatePredicate(rule, it)) expect(evaluatePredicate(consentDataRule(cs, req), it)).toBe(true);
          expect(evaluatePredicate(rule, it)).toBe(permitted(cs, weaker, it));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('the data predicate does not depend on the order of the consents and is deterministic', () => {
    fc.assert(
      fc.property(consentsArb, requestArb, (json, req) => {
        const cs = compileAll(json);
        const rule = consentDataRule(cs, req);
        expect(consentDataRule([...cs].reverse(), req)).toEqual(rule);
        expect(consentDataRule(compileAll(json), req)).toEqual(rule);
      }),
      { numRuns: 500 },
    );
  });

  it('the data predicate is already simplified: no constants inside, no nested junction of the same kind, no singleton junction', () => {
    fc.assert(
      fc.property(consentsArb, requestArb, (json, req) => {
        const check = (p: ReturnType<typeof consentDataRule>, top: boolean): void => {
          if (!top) expect(['true', 'false']).not.toContain(p.kind);
          if (p.kind === 'and' || p.kind === 'or') {
            expect(p.items.length).toBeGreaterThan(1);
            for (const i of p.items) {
              expect(i.kind).not.toBe(p.kind);
              check(i, false);
            }
          }
          if (p.kind === 'not') {
            expect(p.item.kind).not.toBe('not');
            check(p.item, false);
          }
        };
        check(consentDataRule(compileAll(json), req), true);
      }),
      { numRuns: 500 },
    );
  });
});
