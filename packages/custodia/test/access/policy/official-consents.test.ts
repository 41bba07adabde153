/**
 * The 12 official R4 Consent examples, interpreted by their coded content (consent.html): the
 * policyRule is the base, the root provision an exception to it, nested provisions exceptions
 * to their parent. Where an example's narrative says something its coding does not, the test
 * says so; docs/sensitive-data.md lists every example.
 */
import { describe, expect, it } from 'vitest';
import { consentDataRule, evaluateConsents, evaluatePredicate, type CompiledConsent, type DataItem, type AccessRequest } from '../../../src/access/policy/index.js';
import { compiledOfficial, item, officialConsents, request } from './policy-fixtures.js';
import { isCustodiaError } from '../../../src/kernel/index.js';

function decide(c: CompiledConsent, req: AccessRequest, it: DataItem) {
  const d = evaluateConsents([c], req, it);
  // The SQL-side predicate agrees with the decision on every case below.
  expect(evaluatePredicate(consentDataRule([c], req), it)).toBe(d.decision !== 'deny');
  return d;
}

const obs = item('Observation', 'o1');
const at = (iso: string) => ({ now: Date.parse(iso) });

describe('the official R4 Consent examples', () => {
  it('there are 12, and all but consent-example-pkb compile', () => {
    const all = officialConsents();
    expect([...all.keys()].sort()).toEqual([
      'consent-example-Emergency',
      'consent-example-Out',
      'consent-example-basic',
      'consent-example-grantor',
      'consent-example-notAuthor',
      'consent-example-notOrg',
      'consent-example-notThem',
      'consent-example-notThis',
      'consent-example-notTime',
      'consent-example-pkb',
      'consent-example-signature',
      'consent-example-smartonfhir',
    ]);
    for (const id of all.keys()) {
      if (id === 'consent-example-pkb') continue;
      expect(() => compiledOfficial(id)).not.toThrow();
    }
  });

  it('notThem: the patient blocks one practitioner (OPTIN; the untyped root is a deny exception for Practitioner/f204)', () => {
    const c = compiledOfficial('consent-example-notThem');
    expect(c.base).toBe('permit');
    expect(c.root?.type).toBe('deny');
    const nurse = decide(c, request(['Practitioner/f204', 'Organization/f001']), obs);
    expect(nurse).toEqual({
      decision: 'deny',
      reasons: ['Consent/consent-example-notThem provision: deny for actor Practitioner/f204; action access|correct'],
    });
    expect(decide(c, request(['Practitioner/f204'], { action: 'correct' }), obs).decision).toBe('deny');
    const other = decide(c, request(['Practitioner/f001']), obs);
    expect(other.decision).toBe('permit');
    expect(other.reasons).toEqual(['Consent/consent-example-notThem: permit by base policy OPTIN (provision does not apply)']);
    // Labelled and unlabelled data alike.
    expect(decide(c, request(['Practitioner/f204']), item('Condition', 'c1', ['HIV', 'R'])).decision).toBe('deny');
    expect(decide(c, request(['Practitioner/f001']), item('Condition', 'c1', ['HIV', 'R'])).decision).toBe('permit');
  });

  it('notOrg: a written root deny for Organization/f001 (access and correct); everyone else keeps the opt-in', () => {
    const c = compiledOfficial('consent-example-notOrg');
    expect(c.root?.typeSource).toBe('explicit');
    expect(c.notes.join(' ')).toMatch(/R4 does not permit/);
    const d = decide(c, request(['Practitioner/x', 'Organization/f001']), obs);
    expect(d.decision).toBe('deny');
    expect(d.reasons[0]).toBe('Consent/consent-example-notOrg provision: deny for actor Organization/f001; action access|correct');
    expect(decide(c, request(['Organization/other']), obs).decision).toBe('permit');
    // Another purpose changes nothing: the provision has no purpose condition.
    expect(decide(c, request(['Organization/f001'], { purpose: 'HPAYMT' }), obs).decision).toBe('deny');
  });

  it('notThis: withholding one record; the related results cannot be identified, so everything is withheld', () => {
    const c = compiledOfficial('consent-example-notThis');
    const task = decide(c, request(['Practitioner/p']), item('Task', 'example3'));
    expect(task.decision).toBe('deny');
    expect(task.reasons[0]).toBe('Consent/consent-example-notThis provision: deny for data Task/example3 (related)');
    const other = decide(c, request(['Practitioner/p']), obs);
    expect(other.decision).toBe('deny');
    expect(other.reasons[0]).toMatch(/treated as applying because it denies \(resources referenced by Task\/example3 cannot be identified\)/);
  });

  it('notTime: deny inside 2015-01-01..2015-02-01 (as coded: the time of access, not of the data), opt-in outside', () => {
    const c = compiledOfficial('consent-example-notTime');
    const inside = decide(c, request(['Practitioner/p'], at('2015-01-15T12:00:00Z')), obs);
    expect(inside.decision).toBe('deny');
    expect(inside.reasons[0]).toBe('Consent/consent-example-notTime provision: deny for period 2015-01-01..2015-02-01');
    // The end date is inclusive to the end of its day.
    expect(decide(c, request(['Practitioner/p'], at('2015-02-01T23:59:59Z')), obs).decision).toBe('deny');
    expect(decide(c, request(['Practitioner/p'], at('2015-02-02T00:00:00Z')), obs).decision).toBe('permit');
    expect(decide(c, request(['Practitioner/p'], at('2014-12-31T23:59:59Z')), obs).decision).toBe('permit');
  });

  it('notAuthor: records held (CST) by Organization/f001 cannot be told apart, so the deny exception covers everything', () => {
    const c = compiledOfficial('consent-example-notAuthor');
    expect(c.root?.actors[0]?.side).toBe('data');
    const d = decide(c, request(['Practitioner/anyone']), obs);
    expect(d.decision).toBe('deny');
    expect(d.reasons[0]).toMatch(/actor Organization\/f001 \(CST\) describes the data, not the requester/);
  });

  it('Out: OPTOUT; the permit exception names only the custodian (CST), which cannot be checked, so nothing is permitted', () => {
    const c = compiledOfficial('consent-example-Out');
    expect(c.base).toBe('deny');
    for (const who of [['Organization/f001'], ['Practitioner/x']]) {
      const d = decide(c, request(who), obs);
      expect(d.decision).toBe('deny');
      expect(d.reasons[0]).toMatch(/^Consent\/consent-example-Out: deny by base policy OPTOUT \(provision is not applied because it permits/);
    }
  });

  it('Emergency: OPTOUT; as coded the ETREAT exception is cancelled by its own nested deny, so everything is denied (the narrative wants ETREAT permitted)', () => {
    const c = compiledOfficial('consent-example-Emergency');
    const etreat = decide(c, request(['Organization/f001'], { purpose: 'ETREAT' }), obs);
    expect(etreat.decision).toBe('deny');
    expect(etreat.reasons[0]).toMatch(/provision\.provision\[0\]: deny for actor Organization\/f001 \(CST\)/);
    const treat = decide(c, request(['Organization/f001'], { purpose: 'TREAT' }), obs);
    expect(treat.reasons[0]).toBe('Consent/consent-example-Emergency: deny by base policy OPTOUT (provision does not apply)');
  });

  it('grantor: OPTOUT with a read-only exception for Patient/example (PRCP); writes and everyone else are denied', () => {
    const c = compiledOfficial('consent-example-grantor');
    const read = decide(c, request(['Patient/example']), obs);
    expect(read.decision).toBe('permit');
    expect(read.reasons[0]).toBe('Consent/consent-example-grantor provision: permit for actor Organization/f001 (CST)|Patient/example; action access');
    expect(decide(c, request(['Patient/example'], { action: 'correct' }), obs).decision).toBe('deny');
    expect(decide(c, request(['Practitioner/x']), obs).decision).toBe('deny');
    // A request that claims another role than PRCP for Patient/example does not get the permit.
    expect(decide(c, request(['Patient/example'], { roleCodes: ['AUT'] }), obs).decision).toBe('deny');
    expect(decide(c, request(['Patient/example'], { roleCodes: ['PRCP'] }), obs).decision).toBe('permit');
  });

  it('basic: as coded, an exception to the opt-in during 1964-01-01..2016-01-01, i.e. a deny (the narrative says "authorize")', () => {
    const c = compiledOfficial('consent-example-basic');
    expect(decide(c, request(['Practitioner/p'], at('2015-06-01T00:00:00Z')), obs).decision).toBe('deny');
    const after = decide(c, request(['Practitioner/p'], at('2017-01-01T00:00:00Z')), obs);
    expect(after.decision).toBe('permit');
  });

  it('signature: Practitioner/13 is denied during the period; its nested permit depends on author, CDA class and LOINC codes, none of which can be checked', () => {
    const c = compiledOfficial('consent-example-signature');
    const d = decide(c, request(['Practitioner/13'], at('2016-01-01T00:00:00Z')), item('DocumentReference', 'd1'));
    expect(d.decision).toBe('deny');
    expect(d.reasons[0]).toMatch(/^Consent\/consent-example-signature provision: deny for actor Practitioner\/13; period 2015-10-10\.\.2016-10-10 \[provision\.provision\[0\] is not applied because it permits/);
    expect(decide(c, request(['Practitioner/13'], at('2017-01-01T00:00:00Z')), obs).decision).toBe('permit');
    expect(decide(c, request(['Practitioner/14'], at('2016-01-01T00:00:00Z')), obs).decision).toBe('permit');
  });

  it('smartonfhir: during the 30-minute window only MedicationRequest may be read; outside it the opt-in applies', () => {
    const c = compiledOfficial('consent-example-smartonfhir');
    const inWindow = { now: Date.parse('2016-06-23T07:10:00Z') }; // 17:10 at +10:00
    const mr = decide(c, request(['Device/app'], inWindow), item('MedicationRequest', 'm1'));
    expect(mr).toEqual({ decision: 'permit', reasons: ['Consent/consent-example-smartonfhir provision.provision[0]: permit for action access; class MedicationRequest'] });
    expect(decide(c, request(['Device/app'], { ...inWindow, action: 'correct' }), item('MedicationRequest', 'm1')).decision).toBe('deny');
    const o = decide(c, request(['Device/app'], inWindow), obs);
    expect(o.decision).toBe('deny');
    expect(o.reasons[0]).toMatch(/^Consent\/consent-example-smartonfhir provision: deny for period 2016-06-23T17:02:33\+10:00\.\.2016-06-23T17:32:33\+10:00/);
    expect(decide(c, request(['Device/app'], { now: Date.parse('2016-06-23T08:00:00Z') }), obs).decision).toBe('permit');
  });

  it('pkb: nested provisions without type cannot be interpreted (R4: type is required in nested rules)', () => {
    const pkb = officialConsents().get('consent-example-pkb');
    let error: unknown;
    try {
      compiledOfficial('consent-example-pkb');
    } catch (e) {
      error = e;
    }
    expect(pkb).toBeDefined();
    expect(isCustodiaError(error, 'resource-invalid')).toBe(true);
    expect((error as Error).message).toMatch(/nested provision has no type/);
  });
});
