/**
 * Search parameters are attacker-controlled: whatever arrives, parsing ends in a query or a
 * CustodiaError (never another exception, never unbounded work), and the indexer never
 * throws on a resource of a known type.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { CustodiaError } from '../../../src/kernel/index.js';
import type { FhirResource } from '../../../src/fhir/resource.js';
import { SEARCH_LIMITS, createIndexer, parseSearch } from '../../../src/fhir/search/index.js';
import { context, errorCode, parse, registry } from './search-test-context.js';

function outcome(types: readonly string[], params: [string, string][], handling: 'strict' | 'lenient'): string {
  try {
    parseSearch(params, context(types, handling));
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(CustodiaError);
    const code = (e as CustodiaError).code;
    expect(['search-invalid', 'search-unsupported', 'search-too-costly']).toContain(code);
    return code;
  }
}

const nameParts = fc.constantFrom('family', 'subject', 'code', '_has', 'Observation', 'patient', '_include', '_sort', '_count', '__proto__', 'constructor', '', 'Patient', 'name', ':', '.', 'missing', 'iterate', '_type', 'code-value-quantity');
const hostileName = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.tuple(fc.array(nameParts, { maxLength: 8 }), fc.constantFrom(':', '.', '')).map(([parts, sep]) => parts.join(sep)),
);
const hostileValue = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: fc.constantFrom('\\', ',', '|', '$', 'a', '1', ':', '/', 'e', '-', '.', ' '), maxLength: 40 }),
  fc.constantFrom('ap', 'ge', 'eq2020-', '1e99999', '9'.repeat(400), 'true', 'Patient/', '/_history/1', '*', 'Observation:subject:Patient:x', '-_id'),
);

describe('hostile search parameters', () => {
  test.prop([fc.array(fc.tuple(hostileName, hostileValue), { maxLength: 12 }), fc.constantFrom('strict' as const, 'lenient' as const), fc.constantFrom([], ['Patient'], ['Observation'])], { numRuns: 2000 })(
    'end in a query or a CustodiaError',
    (params, handling, types) => {
      outcome(types, params, handling);
    },
  );

  it('bounds the number of parameters, the size of names and values, and alternatives', () => {
    const many = Array.from({ length: SEARCH_LIMITS.maxParams + 1 }, (): [string, string] => ['family', 'x']);
    expect(errorCode(() => parseSearch(many, context(['Patient'])))).toBe('search-too-costly');
    expect(errorCode(() => parse(['Patient'], [['family', 'x'.repeat(SEARCH_LIMITS.maxValueLength + 1)]]))).toBe('search-too-costly');
    expect(errorCode(() => parse(['Patient'], [['f'.repeat(SEARCH_LIMITS.maxNameLength + 1), 'x']], 'lenient'))).toBe('search-too-costly');
    expect(errorCode(() => parse(['Patient'], [['family', Array.from({ length: SEARCH_LIMITS.maxValuesPerParam + 1 }, () => 'x').join(',')]]))).toBe('search-too-costly');
    // 10 parameters of 100 alternatives are taken; one more alternative anywhere is more than a search may compare.
    const hundred = Array.from({ length: 100 }, (_, i) => `x${i}`).join(',');
    const ten = Array.from({ length: 10 }, (): [string, string] => ['family', hundred]);
    expect(() => parse(['Patient'], ten)).not.toThrow();
    expect(errorCode(() => parse(['Patient'], [...ten, ['given', 'y']]))).toBe('search-too-costly');
    expect(errorCode(() => parse(['Patient'], [...ten.slice(1), ['general-practitioner:Practitioner.name', `${hundred},y`]]))).toBe('search-too-costly');
    // :contains compares its term at every position of every stored value: 256 characters at most.
    expect(() => parse(['Organization'], [['name:contains', 'a'.repeat(256)]])).not.toThrow();
    expect(errorCode(() => parse(['Organization'], [['name:contains', 'a'.repeat(257)]]))).toBe('search-too-costly');
    const includes = Array.from({ length: SEARCH_LIMITS.maxIncludes + 1 }, (): [string, string] => ['_include', 'Patient:organization']);
    expect(errorCode(() => parse(['Patient'], includes))).toBe('search-too-costly');
    expect(errorCode(() => parse(['Patient'], '_sort=family,given,name,birthdate,gender,address'))).toBe('search-too-costly');
  });

  it('treats __proto__ and other Object.prototype names as unknown parameters', () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '__proto__:missing', 'subject:__proto__', '_has:__proto__:x:y', 'subject.__proto__']) {
      expect(['search-unsupported', 'search-invalid']).toContain(errorCode(() => parse(['Observation'], [[name, 'x']])));
    }
    expect(parse(['Observation'], [['__proto__', 'x']], 'lenient').ignored).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('rejects values that are not strings, or a parameter list that is not a list', () => {
    expect(errorCode(() => parseSearch([['family', 1 as unknown as string]], context(['Patient'])))).toBe('search-invalid');
    expect(errorCode(() => parseSearch('family=x' as unknown as [string, string][], context(['Patient'])))).toBe('search-invalid');
    expect(errorCode(() => parseSearch([null as unknown as [string, string]], context(['Patient'])))).toBe('search-invalid');
  });

  it('parses a long value in linear time', () => {
    const started = performance.now();
    parse(['Patient'], [['family', `${'a\\,'.repeat(1300)}`]], 'strict');
    parse(['Observation'], [['code', `${'|'.repeat(1)}${'\\|'.repeat(2000)}`]], 'strict');
    expect(performance.now() - started).toBeLessThan(500);
  });
});

/** Arbitrary JSON, with FHIR-looking keys mixed in so that the accessors find something. */
const fhirKey = fc.constantFrom('name', 'family', 'given', 'code', 'coding', 'system', 'value', 'valueQuantity', 'valueString', 'component', 'subject', 'reference', 'identifier', 'period', 'start', 'end', 'birthDate', 'telecom', 'meta', 'profile', 'tag', 'deceasedBoolean', 'deceasedDateTime', 'effectiveDateTime', 'effectiveTiming', 'event', 'repeat', 'boundsPeriod', 'low', 'high', 'valueRange', 'address', 'text', 'entry', 'resource', 'contained', 'id', '__proto__');
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.string(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom('2020-01-01', 'Patient/1', '#x', 'http://x|1'), fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(fhirKey, tie('value'), { maxKeys: 6 })),
})).value;

describe('the indexer', () => {
  const indexer = createIndexer(registry, { baseUrl: 'https://vault.example/fhir' });
  test.prop([fc.constantFrom(...registry.resourceTypes()), fc.dictionary(fhirKey, json, { maxKeys: 10 })], { numRuns: 1500 })('never throws on arbitrary JSON with a known resourceType', (resourceType, body) => {
    const rows = indexer.extract({ ...body, resourceType } as FhirResource);
    for (const table of Object.values(rows)) expect(Array.isArray(table)).toBe(true);
  });
});
