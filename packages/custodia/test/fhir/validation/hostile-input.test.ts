import { describe, expect, it } from 'vitest';
import { validateResource } from '../../../src/fhir/validation/index.js';
import { issuesOf, structure } from './issue-summary.js';

/** Builds Questionnaire.item nested `levels` deep without recursion. */
function deepQuestionnaire(levels: number): unknown {
  let item: Record<string, unknown> = { linkId: 'leaf', type: 'display' };
  for (let i = 0; i < levels; i++) item = { linkId: String(i), type: 'group', item: [item] };
  return { resourceType: 'Questionnaire', status: 'active', item: [item] };
}

function elapsed(run: () => unknown): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

describe('hostile input', () => {
  it('stops at 64 nested objects instead of recursing without bound', () => {
    expect(issuesOf(deepQuestionnaire(30))).toEqual([]);
    const issues = issuesOf(deepQuestionnaire(100_000));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ kind: 'structure', code: 'too-costly' });
    expect(issues[0]?.expression).toMatch(/^Questionnaire(\.item\[0\]){64}$/);
  });

  it('stops on self-referencing objects (not JSON, but must not hang)', () => {
    const extension: Record<string, unknown> = { url: 'http://example.org/x' };
    extension['extension'] = [extension];
    const issues = issuesOf({ resourceType: 'Patient', extension: [extension] });
    expect(issues.map((issue) => issue.code)).toEqual(['too-costly']);
  });

  it('does not walk into unknown elements, however deep', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i++) deep = { a: [deep] };
    expect(issuesOf({ resourceType: 'Patient', unknown: deep })).toEqual([structure('Patient.unknown')]);
  });

  it('treats __proto__ and constructor as unknown elements without touching prototypes', () => {
    const parsed = JSON.parse('{"resourceType":"Patient","__proto__":{"polluted":true},"name":[{"__proto__":{"given":["x"]},"constructor":{"prototype":{"polluted":true}}}]}') as unknown;
    expect(issuesOf(parsed)).toEqual([structure('Patient.__proto__'), structure('Patient.name[0].__proto__'), structure('Patient.name[0].constructor')]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    for (const key of ['toString', 'hasOwnProperty', 'valueOf', '__defineGetter__']) {
      expect(issuesOf(JSON.parse(`{"resourceType":"Patient","${key}":1}`)), key).toEqual([structure(`Patient.${key}`)]);
    }
  });

  it('accepts objects without a prototype', () => {
    const resource = Object.assign(Object.create(null) as Record<string, unknown>, { resourceType: 'Patient', gender: 'male' });
    expect(issuesOf(resource)).toEqual([]);
  });

  it('stops after maxIssues (default 100) on huge arrays', () => {
    const given = new Array<string>(1_000_000).fill('');
    let issues: unknown[] = [];
    expect(elapsed(() => (issues = issuesOf({ resourceType: 'Patient', name: [{ given }] })))).toBeLessThan(1000);
    expect(issues).toHaveLength(100);
    expect(issuesOf({ resourceType: 'Patient', name: [{ given }] }, 3)).toHaveLength(3);
    expect(validateResource({ resourceType: 'Patient', a: 1, b: 2, c: 3 }, { maxIssues: 2 })).toHaveLength(2);
    // Nonsensical limits fall back to the default.
    expect(validateResource({ resourceType: 'Patient', name: [{ given }] }, { maxIssues: Number.NaN })).toHaveLength(100);
    expect(validateResource({ resourceType: 'Patient', name: [{ given }] }, { maxIssues: 0 })).toHaveLength(100);
  });

  it('walks large valid arrays in linear time', () => {
    const given = new Array<string>(200_000).fill('Ann');
    expect(elapsed(() => expect(issuesOf({ resourceType: 'Patient', name: [{ given }] })).toEqual([]))).toBeLessThan(2000);
  });

  it('checks megabyte values without catastrophic backtracking', () => {
    // (\s*([0-9a-zA-Z\+/=]){4}\s*)+ would backtrack exponentially on this input.
    const base64Trap = `${'AAAA  '.repeat(5_000)}!`;
    const codeTrap = `${'a '.repeat(50_000)} `;
    const uriTrap = `${'a'.repeat(1_000_000)} `;
    const binary = (data: string): unknown => ({ resourceType: 'Binary', contentType: 'application/octet-stream', data });
    expect(elapsed(() => {
      expect(issuesOf(binary(base64Trap))).toEqual([{ kind: 'invalid', code: 'value', expression: 'Binary.data' }]);
      expect(issuesOf(binary('QUJD'.repeat(1_000_000)))).toEqual([]);
      expect(issuesOf({ resourceType: 'Patient', gender: codeTrap })).toEqual([{ kind: 'invalid', code: 'value', expression: 'Patient.gender' }]);
      expect(issuesOf({ resourceType: 'Patient', implicitRules: uriTrap })).toEqual([{ kind: 'invalid', code: 'value', expression: 'Patient.implicitRules' }]);
    })).toBeLessThan(2000);
  });

  it('never throws on values that JSON cannot express', () => {
    const odd: unknown[] = [undefined, () => 1, Symbol('s'), 10n, Number.NaN, new Date(0), new Map(), /x/, new Uint8Array(2)];
    for (const value of odd) {
      expect(() => validateResource(value)).not.toThrow();
      expect(() => validateResource({ resourceType: 'Patient', gender: value, name: [value], _birthDate: value, unknown: value })).not.toThrow();
      expect(validateResource({ resourceType: 'Patient', gender: value }).length).toBeGreaterThan(0);
    }
    expect(issuesOf({ resourceType: 'Patient', name: [, { family: 'x' }] })).toEqual([structure('Patient.name[0]')]);
  });

  it('turns exceptions from exotic objects into an issue', () => {
    const trap = new Proxy({ resourceType: 'Patient' }, { ownKeys: () => { throw new Error('trap'); } });
    expect(issuesOf(trap)).toEqual([{ kind: 'structure', code: 'exception', expression: 'Resource' }]);
    const getter = { resourceType: 'Patient', get gender(): string { throw new Error('getter'); } };
    expect(issuesOf(getter)).toEqual([{ kind: 'structure', code: 'exception', expression: 'Resource' }]);
  });
});
