/** Compiling Consent resources: the model, the R4 rules, and what is refused. */
import { describe, expect, it } from 'vitest';
import { compileConsent, dateTimeBounds, parsePeriod, ACT_CODE_SYSTEM } from '../../../src/access/policy/index.js';
import { isCustodiaError } from '../../../src/kernel/index.js';
import { actor, compiledOfficial, consent, purpose, type Json } from './policy-fixtures.js';

function refusal(resource: unknown): string {
  try {
    compileConsent(resource);
  } catch (e) {
    expect(isCustodiaError(e, 'resource-invalid')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('compiled');
}

describe('compileConsent', () => {
  it('captures patient, status, base policy, the provision tree and its conditions', () => {
    const c = compiledOfficial('consent-example-signature');
    expect(c).toMatchObject({ id: 'consent-example-signature', reference: 'Consent/consent-example-signature', patient: 'Patient/72', status: 'active', active: true, policyRule: 'OPTIN', base: 'permit' });
    expect(c.root).toMatchObject({
      path: 'provision',
      type: 'deny',
      typeSource: 'policy-rule',
      period: { start: Date.UTC(2015, 9, 10), end: Date.UTC(2016, 9, 11), text: '2015-10-10..2016-10-10' },
      actors: [{ side: 'requester', reference: 'Practitioner/13', text: 'Practitioner/13' }],
    });
    const nested = c.root!.provisions[0]!;
    expect(nested).toMatchObject({
      path: 'provision.provision[0]',
      type: 'permit',
      typeSource: 'explicit',
      actors: [{ side: 'data', reference: 'Practitioner/xcda-author' }],
      classes: [{ system: 'urn:ietf:bcp:13', code: 'application/hl7-cda+xml' }],
      codes: [[{ system: 'http://loinc.org', code: '34133-9' }], [{ system: 'http://loinc.org', code: '18842-5' }]],
    });
    expect(c.notes).toEqual(['the root provision is an exception to policyRule OPTIN: deny where it applies, permit elsewhere']);
  });

  it('OPTINR/OPTOUTE count as opt-in/opt-out; old v3 URIs are normalised; no provision means the base everywhere', () => {
    const r = consent({ id: 'x', policyRule: 'OPTOUTE' });
    expect(compileConsent(r)).toMatchObject({ base: 'deny', policyRule: 'OPTOUTE' });
    expect(compileConsent({ ...r, policyRule: { coding: [{ system: 'http://hl7.org/fhir/v3/ActCode', code: 'OPTINR' }] } })).toMatchObject({ base: 'permit' });
    expect(compileConsent(r).root).toBeUndefined();
  });

  it('records data references and their meaning; versioned, absolute and contained references are kept as text only', () => {
    const c = compileConsent(
      consent({
        id: 'd',
        policyRule: 'OPTIN',
        provision: {
          data: [
            { meaning: 'instance', reference: { reference: 'Observation/1/_history/3' } },
            { meaning: 'dependents', reference: { reference: 'DiagnosticReport/r' } },
            { meaning: 'instance', reference: { reference: 'https://other.example/fhir/Observation/2' } },
          ],
          actor: [actor('#contained'), { role: { coding: [] }, reference: { display: 'someone' } }],
        },
      }),
    );
    expect(c.root!.data).toEqual([
      { meaning: 'instance', reference: 'Observation/1', version: '3', text: 'Observation/1/_history/3' },
      { meaning: 'dependents', reference: 'DiagnosticReport/r', text: 'DiagnosticReport/r' },
      { meaning: 'instance', text: 'https://other.example/fhir/Observation/2' },
    ]);
    expect(c.root!.actors.map((a) => a.reference)).toEqual([undefined, undefined]);
  });

  it('inactive consents compile but are marked inactive', () => {
    expect(compileConsent(consent({ id: 'x', policyRule: 'OPTIN', status: 'inactive' })).active).toBe(false);
  });

  it.each<[string, unknown, RegExp]>([
    ['not a Consent', { resourceType: 'Patient' }, /Not a Consent/],
    ['no patient', { ...consent({ id: 'x', policyRule: 'OPTIN' }), patient: undefined }, /patient must be a literal reference Patient/],
    ['a Group as patient', consent({ id: 'x', policyRule: 'OPTIN', patient: 'Group/g' }), /patient must be/],
    ['no status', { ...consent({ id: 'x', policyRule: 'OPTIN' }), status: undefined }, /status is missing/],
    ['a modifierExtension on the Consent', { ...consent({ id: 'x', policyRule: 'OPTIN' }), modifierExtension: [{ url: 'urn:x', valueBoolean: true }] }, /modifierExtension/],
    ['a modifierExtension in a provision', consent({ id: 'x', policyRule: 'OPTIN', provision: { provision: [{ type: 'permit', modifierExtension: [{ url: 'urn:x' }] }] } }), /modifierExtension/],
    ['a modifierExtension on an actor', consent({ id: 'x', policyRule: 'OPTIN', provision: { actor: [{ ...actor('Practitioner/a'), modifierExtension: [{ url: 'urn:x' }] }] } }), /modifierExtension/],
    ['an untyped root without OPTIN/OPTOUT', { ...consent({ id: 'x', provision: { actor: [actor('Practitioner/a')] } }), policy: [{ uri: 'urn:p' }] }, /root provision has no type/],
    ['neither provision nor base', consent({ id: 'x' }), /no provision and policyRule/],
    [
      'both opt-in and opt-out',
      { ...consent({ id: 'x' }), policyRule: { coding: [{ system: ACT_CODE_SYSTEM, code: 'OPTIN' }, { system: ACT_CODE_SYSTEM, code: 'OPTOUT' }] } },
      /both opt-in and opt-out/,
    ],
    ['a nested provision without type', consent({ id: 'x', policyRule: 'OPTIN', provision: { provision: [{ purpose: [purpose('TREAT')] }] } }), /nested provision has no type/],
    ['an unknown type', consent({ id: 'x', provision: { type: 'maybe' } }), /type must be permit or deny/],
    ['an unknown data meaning', consent({ id: 'x', policyRule: 'OPTIN', provision: { data: [{ meaning: 'all', reference: { reference: 'Observation/1' } }] } }), /data.meaning/],
    ['a malformed period', consent({ id: 'x', policyRule: 'OPTIN', provision: { period: { start: '2020-13-01' } } }), /period start "2020-13-01" is not a valid dateTime/],
    ['a period ending before it starts', consent({ id: 'x', policyRule: 'OPTIN', provision: { period: { start: '2021-01-01', end: '2020-01-01' } } }), /ends before it starts/],
    ['a list that is not an array', consent({ id: 'x', policyRule: 'OPTIN', provision: { actor: actor('Practitioner/a') } }), /expected an array/],
  ])('refuses %s', (_, resource, message) => {
    expect(refusal(resource)).toMatch(message);
  });

  it('refuses trees deeper than 32 levels', () => {
    let p: Json = { type: 'deny' };
    for (let i = 0; i < 40; i++) p = { type: 'permit', provision: [p] };
    expect(refusal(consent({ id: 'deep', provision: p }))).toMatch(/deeper than 32/);
  });

  it('names the consent and the element in the error', () => {
    let error: unknown;
    try {
      compileConsent(consent({ id: 'bad', policyRule: 'OPTIN', provision: { provision: [{}, {}] } }));
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toMatch(/^Consent\/bad cannot be interpreted safely/);
    expect((error as { issues: { expression: string[] }[] }).issues[0]!.expression).toEqual(['provision.provision[0].type']);
  });
});

describe('FHIR periods', () => {
  it('honour the precision of each end', () => {
    expect(dateTimeBounds('2016')).toEqual({ low: Date.UTC(2016, 0, 1), high: Date.UTC(2017, 0, 1) });
    expect(dateTimeBounds('2016-02')).toEqual({ low: Date.UTC(2016, 1, 1), high: Date.UTC(2016, 2, 1) });
    expect(dateTimeBounds('2016-02-29')).toEqual({ low: Date.UTC(2016, 1, 29), high: Date.UTC(2016, 2, 1) });
    expect(dateTimeBounds('2016-06-23T17:02:33+10:00')).toEqual({ low: Date.UTC(2016, 5, 23, 7, 2, 33), high: Date.UTC(2016, 5, 23, 7, 2, 34) });
    expect(dateTimeBounds('2016-06-23T17:02:33.5Z')).toEqual({ low: Date.UTC(2016, 5, 23, 17, 2, 33, 500), high: Date.UTC(2016, 5, 23, 17, 2, 33, 501) });
    expect(dateTimeBounds('2016-06-23T17:02')).toEqual({ low: Date.UTC(2016, 5, 23, 17, 2), high: Date.UTC(2016, 5, 23, 17, 3) });
  });

  it('reject malformed values', () => {
    for (const bad of ['2015-02-29', '2016-00', '16-01-01', '2016-01-01T25:00:00Z', '2016-01-01 10:00', 'yesterday']) expect(dateTimeBounds(bad)).toBeUndefined();
    expect(parsePeriod('2016')).toBe('is not a Period');
    expect(parsePeriod({ start: 2016 })).toBe('start is not a dateTime');
  });

  it('an end date includes its whole day; open ends stay open', () => {
    expect(parsePeriod({ start: '2015-01-01', end: '2015-02-01' })).toEqual({ start: Date.UTC(2015, 0, 1), end: Date.UTC(2015, 1, 2), text: '2015-01-01..2015-02-01' });
    expect(parsePeriod({ start: '2015-01-01' })).toEqual({ start: Date.UTC(2015, 0, 1), text: '2015-01-01..' });
    expect(parsePeriod({})).toEqual({ text: '..' });
  });
});
