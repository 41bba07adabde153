/** Consent scenarios a vault must get right, written as consents the R4 way. */
import { describe, expect, it } from 'vitest';
import {
  ACT_CODE_SYSTEM,
  compileConsent,
  consentDataRule,
  evaluateConsents,
  evaluatePredicate,
  formatPredicate,
  type AccessRequest,
  type CompiledConsent,
  type DataItem,
} from '../../../src/access/policy/index.js';
import { isCustodiaError } from '../../../src/kernel/index.js';
import { action, actor, confidentiality, consent, item, purpose, request, resourceClass, sensitivity, type Json } from './policy-fixtures.js';

function decide(cs: readonly CompiledConsent[], req: AccessRequest, it: DataItem) {
  const d = evaluateConsents(cs, req, it);
  expect(evaluatePredicate(consentDataRule(cs, req), it)).toBe(d.decision !== 'deny');
  return d;
}
const compile = (j: Json) => compileConsent(j);
const obs = item('Observation', 'o1');
const hivObs = item('Observation', 'o2', ['HIV', 'R']);

describe('consent scenarios', () => {
  it('a clinician is denied one patient’s record (root deny for that actor)', () => {
    const c = compile(consent({ id: 'no-dr-x', policyRule: 'OPTIN', provision: { type: 'deny', actor: [actor('Practitioner/x')] } }));
    const d = decide([c], request(['Practitioner/x', 'PractitionerRole/rx', 'Organization/o1']), obs);
    expect(d).toEqual({ decision: 'deny', reasons: ['Consent/no-dr-x provision: deny for actor Practitioner/x'] });
    expect(decide([c], request(['Practitioner/y', 'Organization/o1']), obs).decision).toBe('permit');
    expect(formatPredicate(consentDataRule([c], request(['Practitioner/x'])))).toBe('false');
    expect(formatPredicate(consentDataRule([c], request(['Practitioner/y'])))).toBe('true');
  });

  it('a patient restricts a sensitive category: HIV data denied to everyone, the rest untouched', () => {
    const c = compile(consent({ id: 'no-hiv', policyRule: 'OPTIN', provision: { securityLabel: [sensitivity('HIV')] } }));
    const d = decide([c], request(['Practitioner/x']), hivObs);
    expect(d).toEqual({ decision: 'deny', reasons: ['Consent/no-hiv provision: deny for label HIV'] });
    expect(decide([c], request(['Practitioner/x']), obs).decision).toBe('permit');
    expect(decide([c], request(['Practitioner/x']), item('Condition', 'c', ['ETH', 'R'])).decision).toBe('permit');
    expect(consentDataRule([c], request(['Practitioner/x']))).toEqual({ kind: 'not', item: { kind: 'has-label', system: ACT_CODE_SYSTEM, code: 'HIV' } });
  });

  it('opt-out with an emergency exception: only emergency treatment (and break-the-glass, a kind of it) gets through', () => {
    const c = compile(consent({ id: 'optout-er', policyRule: 'OPTOUT', provision: { purpose: [purpose('ETREAT')] } }));
    expect(c.root?.type).toBe('permit');
    const er = decide([c], request(['Practitioner/x'], { purpose: 'ETREAT' }), hivObs);
    expect(er).toEqual({ decision: 'permit', reasons: ['Consent/optout-er provision: permit for purpose ETREAT'] });
    expect(decide([c], request(['Practitioner/x'], { purpose: 'BTG' }), obs).decision).toBe('permit');
    const routine = decide([c], request(['Practitioner/x'], { purpose: 'TREAT' }), obs);
    expect(routine).toEqual({ decision: 'deny', reasons: ['Consent/optout-er: deny by base policy OPTOUT (provision does not apply)'] });
    expect(decide([c], request(['Practitioner/x'], { purpose: 'HPAYMT' }), obs).decision).toBe('deny');
    expect(formatPredicate(consentDataRule([c], request(['Practitioner/x'], { purpose: 'TREAT' })))).toBe('false');
  });

  it('an emergency exception can itself except one person (deny within permit within the opt-out)', () => {
    const c = compile(
      consent({ id: 'optout-er-but', policyRule: 'OPTOUT', provision: { purpose: [purpose('ETREAT')], provision: [{ type: 'deny', actor: [actor('Practitioner/ex')] }] } }),
    );
    const d = decide([c], request(['Practitioner/ex'], { purpose: 'ETREAT' }), obs);
    expect(d).toEqual({ decision: 'deny', reasons: ['Consent/optout-er-but provision.provision[0]: deny for actor Practitioner/ex'] });
    expect(decide([c], request(['Practitioner/other'], { purpose: 'ETREAT' }), obs).decision).toBe('permit');
  });

  it('nested permit within deny: psychiatric data denied except to the patient’s psychiatrist', () => {
    const c = compile(
      consent({
        id: 'psy',
        policyRule: 'OPTIN',
        provision: { securityLabel: [sensitivity('PSY')], provision: [{ type: 'permit', actor: [actor('Practitioner/psychiatrist')] }] },
      }),
    );
    const psyNote = item('Observation', 'n1', ['PSY', 'R']);
    const own = decide([c], request(['Practitioner/psychiatrist']), psyNote);
    expect(own).toEqual({ decision: 'permit', reasons: ['Consent/psy provision.provision[0]: permit for actor Practitioner/psychiatrist'] });
    const gp = decide([c], request(['Practitioner/gp']), psyNote);
    expect(gp).toEqual({ decision: 'deny', reasons: ['Consent/psy provision: deny for label PSY'] });
    expect(decide([c], request(['Practitioner/gp']), obs).decision).toBe('permit');
    expect(formatPredicate(consentDataRule([c], request(['Practitioner/psychiatrist'])))).toBe('true');
  });

  it('deny overrides permit across consents; inactive consents are ignored; no consent gives none', () => {
    const permitX = compile(consent({ id: 'permit-x', policyRule: 'OPTOUT', provision: { actor: [actor('Practitioner/x')] } }));
    const denyHiv = compile(consent({ id: 'deny-hiv', policyRule: 'OPTIN', provision: { securityLabel: [sensitivity('HIV')] } }));
    const draft = compile(consent({ id: 'draft', status: 'draft', policyRule: 'OPTOUT' }));
    expect(decide([permitX, denyHiv], request(['Practitioner/x']), obs).decision).toBe('permit');
    const both = decide([permitX, denyHiv], request(['Practitioner/x']), hivObs);
    expect(both).toEqual({ decision: 'deny', reasons: ['Consent/deny-hiv provision: deny for label HIV'] });
    expect(decide([draft], request(['Practitioner/x']), obs)).toEqual({ decision: 'none', reasons: ['Consent/draft: ignored, status is draft'] });
    expect(decide([], request(['Practitioner/x']), obs)).toEqual({ decision: 'none', reasons: ['no consent of this patient'] });
  });

  it('a consent without base policy and a typed root says nothing outside its root', () => {
    const c = compile({ ...consent({ id: 'mii', provision: { type: 'deny', provision: [{ type: 'permit', purpose: [purpose('TREAT')] }] } }), policy: [{ uri: 'https://example.org/policy' }] });
    expect(c.base).toBeUndefined();
    expect(decide([c], request(['Practitioner/x'], { purpose: 'TREAT' }), obs).decision).toBe('permit');
    expect(decide([c], request(['Practitioner/x'], { purpose: 'HRESCH' }), obs).decision).toBe('deny');
    const scoped = compile(consent({ id: 'scoped', provision: { type: 'permit', actor: [actor('Practitioner/x')] } }));
    expect(decide([scoped], request(['Practitioner/y']), obs)).toEqual({ decision: 'none', reasons: ['Consent/scoped: says nothing (provision does not apply; no base policy)'] });
  });

  it('confidentiality is a high-water mark: a permit for N covers N and below, a deny for R covers R and V', () => {
    const permitN = compile(consent({ id: 'permit-n', policyRule: 'OPTOUT', provision: { securityLabel: [confidentiality('N')] } }));
    expect(decide([permitN], request(['P/x']), obs).decision).toBe('permit');
    expect(decide([permitN], request(['P/x']), item('Observation', 'l', ['L'])).decision).toBe('permit');
    expect(decide([permitN], request(['P/x']), item('Observation', 'r', ['R'])).decision).toBe('deny');
    expect(decide([permitN], request(['P/x']), item('Observation', 'v', ['V', 'N'])).decision).toBe('deny');
    const denyR = compile(consent({ id: 'deny-r', policyRule: 'OPTIN', provision: { securityLabel: [confidentiality('R')] } }));
    expect(decide([denyR], request(['P/x']), item('Observation', 'v', ['V'])).decision).toBe('deny');
    expect(decide([denyR], request(['P/x']), item('Observation', 'n', ['N'])).decision).toBe('permit');
    // U, L, M never lower a resource below N.
    const denyN = compile(consent({ id: 'deny-n', policyRule: 'OPTIN', provision: { securityLabel: [confidentiality('N')] } }));
    expect(decide([denyN], request(['P/x']), item('Observation', 'u', ['U'])).decision).toBe('deny');
  });

  it('a label never widens access: a permit naming HIV cannot lift a deny the same data would get without the label', () => {
    const c = compile(consent({ id: 'only-hiv', policyRule: 'OPTOUT', provision: { securityLabel: [sensitivity('HIV')] } }));
    const d = decide([c], request(['Practitioner/x']), hivObs);
    expect(d.decision).toBe('deny');
    expect(d.reasons.at(-1)).toBe('decided as if the resource did not carry label http://terminology.hl7.org/CodeSystem/v3-ActCode|HIV: a security label never widens access');
  });

  it('conditions that cannot be checked: a deny with provision.code applies, a permit with it does not', () => {
    const code = [{ coding: [{ system: 'http://loinc.org', code: '34133-9' }] }];
    const deny = compile(consent({ id: 'deny-code', policyRule: 'OPTIN', provision: { code } }));
    const d = decide([deny], request(['Practitioner/x']), obs);
    expect(d.decision).toBe('deny');
    expect(d.reasons[0]).toBe(
      'Consent/deny-code provision: deny for code http://loinc.org|34133-9 [provision is treated as applying because it denies (provision.code cannot be checked on the data)]',
    );
    // A permit that cannot be confirmed is not applied, but the deny exceptions inside it are.
    const permit = compile(consent({ id: 'permit-code', provision: { type: 'permit', code, provision: [{ type: 'deny', actor: [actor('Practitioner/x')] }] } }));
    expect(decide([permit], request(['Practitioner/y']), obs).decision).toBe('none');
    const x = decide([permit], request(['Practitioner/x']), obs);
    expect(x.decision).toBe('deny');
    expect(x.reasons[0]).toMatch(/^Consent\/permit-code provision\.provision\[0\]: deny for actor Practitioner\/x \[provision is treated as applying because it denies/);
    const dataPeriod = compile(consent({ id: 'dp', policyRule: 'OPTIN', provision: { dataPeriod: { start: '2020-01-01' } } }));
    expect(decide([dataPeriod], request(['Practitioner/x']), obs).decision).toBe('deny');
    const cdaClass = compile(consent({ id: 'cda', policyRule: 'OPTOUT', provision: { class: [{ system: 'urn:ietf:bcp:13', code: 'application/hl7-cda+xml' }] } }));
    expect(decide([cdaClass], request(['Practitioner/x']), obs).decision).toBe('deny');
  });

  it('class by resource type, data by instance, action and purpose', () => {
    const c = compile(
      consent({
        id: 'mixed',
        policyRule: 'OPTOUT',
        provision: { class: [resourceClass('Immunization'), resourceClass('AllergyIntolerance')], action: [action('access')], purpose: [purpose('TREAT')] },
      }),
    );
    const req = request(['Practitioner/x']);
    expect(decide([c], req, item('Immunization', 'i')).decision).toBe('permit');
    expect(decide([c], req, obs).decision).toBe('deny');
    expect(formatPredicate(consentDataRule([c], req))).toBe('type-in(AllergyIntolerance,Immunization)');
    expect(decide([c], request(['Practitioner/x'], { purpose: 'ETREAT' }), item('Immunization', 'i')).decision).toBe('permit');
    expect(decide([c], request(['Practitioner/x'], { action: 'correct' }), item('Immunization', 'i')).decision).toBe('deny');
    const one = compile(consent({ id: 'one', policyRule: 'OPTIN', provision: { data: [{ meaning: 'instance', reference: { reference: 'Observation/secret' } }] } }));
    expect(decide([one], req, item('Observation', 'secret')).decision).toBe('deny');
    expect(decide([one], req, obs).decision).toBe('permit');
    expect(formatPredicate(consentDataRule([one], req))).toBe('not(ref-in(Observation/secret))');
  });

  it('refuses consents of several patients at once', () => {
    const a = compile(consent({ id: 'a', policyRule: 'OPTIN' }));
    const b = compile(consent({ id: 'b', policyRule: 'OPTIN', patient: 'Patient/p2' }));
    let err: unknown;
    try {
      evaluateConsents([a, b], request(['P/x']), obs);
    } catch (e) {
      err = e;
    }
    expect(isCustodiaError(err, 'internal')).toBe(true);
    expect(() => consentDataRule([a, b], request(['P/x']))).toThrow();
  });
});
