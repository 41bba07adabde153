import { describe, expect, it } from 'vitest';
import { pickDriver } from '../../src/store/condition-rank.js';
import type { Condition } from '../../src/fhir/index.js';

const date: Condition = { kind: 'date', param: 'birthdate', values: [{ prefix: 'ge', range: { lo: 0, hi: 1 } }] };
const family: Condition = { kind: 'string', param: 'family', match: 'prefix', values: ['smi'] };
const notFemale: Condition = { kind: 'token', param: 'gender', not: true, values: [{ code: 'female' }] };
const missing: Condition = { kind: 'missing', param: 'gender', table: 'token', missing: true };

describe('pickDriver', () => {
  it('lets the equality-like condition drive and the range probe', () => {
    expect(pickDriver([date, family])).toBe(1);
    expect(pickDriver([family, { kind: 'id', values: ['x'] }])).toBe(1);
  });
  it('never drives with a negation or :missing', () => {
    expect(pickDriver([notFemale, missing])).toBe(-1);
    expect(pickDriver([notFemale, date])).toBe(1);
  });
  it('drives with nothing when there is nothing', () => {
    expect(pickDriver([])).toBe(-1);
  });
});
