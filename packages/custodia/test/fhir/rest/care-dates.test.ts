/**
 * The care-date table of `$everything?start&end` (fhir/rest/care-dates.ts), against the
 * official R4 definitions: every type is in the Patient compartment, every code is one of
 * its date search parameters; and the bounds' parsing.
 */
import { describe, expect, it } from 'vitest';
import { CARE_DATE_PARAMS, careDateCondition } from '../../../src/fhir/rest/care-dates.js';
import { SearchParamRegistry, compartmentParams, RANGE_MAX, RANGE_MIN } from '../../../src/fhir/search/index.js';
import { CustodiaError } from '../../../src/kernel/index.js';

describe('CARE_DATE_PARAMS', () => {
  const registry = SearchParamRegistry.loadR4();

  it('names, for types of the Patient compartment, only R4 date search parameters of that type, once each', () => {
    const types = CARE_DATE_PARAMS.map(([t]) => t);
    expect(new Set(types).size).toBe(types.length);
    for (const [type, codes] of CARE_DATE_PARAMS) {
      expect(compartmentParams('Patient', type).length, type).toBeGreaterThan(0);
      expect(codes.length, type).toBeGreaterThan(0);
      for (const code of codes) expect(registry.get(type, code)?.type, `${type}.${code}`).toBe('date');
    }
  });

  it('leaves out the person and the types with no time of care', () => {
    const types = new Set(CARE_DATE_PARAMS.map(([t]) => t));
    for (const t of ['Patient', 'RelatedPerson', 'Person', 'Coverage', 'Group', 'BodyStructure']) expect(types.has(t), t).toBe(false);
  });
});

describe('careDateCondition', () => {
  const range = (start?: string, end?: string) => {
    const c = careDateCondition(start, end);
    return c?.kind === 'care-date' ? c.range : c;
  };

  it('takes in the whole first and last day, month or year; an absent bound is open', () => {
    expect(range(undefined, undefined)).toBeUndefined();
    expect(range('2020', '2020')).toEqual({ lo: Date.UTC(2020, 0, 1), hi: Date.UTC(2021, 0, 1) - 1 });
    expect(range('2020-02', undefined)).toEqual({ lo: Date.UTC(2020, 1, 1), hi: RANGE_MAX });
    expect(range(undefined, '2020-02-29')).toEqual({ lo: RANGE_MIN, hi: Date.UTC(2020, 2, 1) - 1 });
    expect(range('2020-02-29', '2020-02-29')).toEqual({ lo: Date.UTC(2020, 1, 29), hi: Date.UTC(2020, 2, 1) - 1 });
  });

  it('refuses what is not a FHIR date, and a start after the end, without echoing the input', () => {
    for (const [s, e] of [['2021', '2020'], ['2020-01-01T00:00:00Z', undefined], [undefined, '2020-13'], ['yesterday', undefined], ['', undefined], [`2020${'0'.repeat(1000)}`, undefined]] as const) {
      let thrown: unknown;
      try {
        careDateCondition(s, e);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, `${s} ${e}`).toBeInstanceOf(CustodiaError);
      expect((thrown as CustodiaError).code).toBe('search-invalid');
      expect((thrown as Error).message).not.toContain('yesterday');
    }
  });
});
