/** The data predicate language: simplification, evaluation, text form. */
import { describe, expect, it } from 'vitest';
import { FALSE, TRUE, and, evaluatePredicate, formatPredicate, hasLabel, not, or, predicateLabels, refIn, typeIn } from '../../../src/access/policy/index.js';

const hiv = hasLabel('s', 'HIV');
const psy = hasLabel('s', 'PSY');

describe('data predicates', () => {
  it('fold constants and flatten', () => {
    expect(and()).toEqual(TRUE);
    expect(or()).toEqual(FALSE);
    expect(and(TRUE, hiv)).toEqual(hiv);
    expect(and(FALSE, hiv)).toEqual(FALSE);
    expect(or(TRUE, hiv)).toEqual(TRUE);
    expect(or(FALSE, hiv)).toEqual(hiv);
    expect(not(not(hiv))).toEqual(hiv);
    expect(not(TRUE)).toEqual(FALSE);
    expect(formatPredicate(and(hiv, and(psy, typeIn(['Observation']))))).toBe('and(has-label(s|HIV), has-label(s|PSY), type-in(Observation))');
  });

  it('merge type and reference lists, dedupe and order canonically', () => {
    expect(or(typeIn(['B', 'A']), typeIn(['A', 'C']))).toEqual({ kind: 'type-in', types: ['A', 'B', 'C'] });
    expect(and(typeIn(['A', 'B']), typeIn(['B', 'C']))).toEqual({ kind: 'type-in', types: ['B'] });
    expect(and(typeIn(['A']), typeIn(['B']))).toEqual(FALSE);
    expect(or(refIn(['Observation/2']), refIn(['Observation/1']))).toEqual({ kind: 'ref-in', refs: ['Observation/1', 'Observation/2'] });
    expect(and(hiv, psy)).toEqual(and(psy, hiv, psy));
    expect(typeIn([])).toEqual(FALSE);
  });

  it('know x and not x, x or not x, and absorption', () => {
    expect(and(hiv, not(hiv))).toEqual(FALSE);
    expect(or(hiv, not(hiv))).toEqual(TRUE);
    expect(or(hiv, and(hiv, psy))).toEqual(hiv);
    expect(and(hiv, or(hiv, psy))).toEqual(hiv);
  });

  it('evaluate on type, reference and labels', () => {
    const item = { resourceType: 'Observation', id: '1', labels: [{ system: 's', code: 'HIV' }] };
    expect(evaluatePredicate(hiv, item)).toBe(true);
    expect(evaluatePredicate(not(hiv), item)).toBe(false);
    expect(evaluatePredicate(typeIn(['Observation', 'Condition']), item)).toBe(true);
    expect(evaluatePredicate(refIn(['Observation/1']), item)).toBe(true);
    expect(evaluatePredicate(refIn(['Observation/2']), item)).toBe(false);
    expect(evaluatePredicate(or(psy, and(hiv, typeIn(['Observation']))), item)).toBe(true);
    expect(evaluatePredicate(TRUE, item)).toBe(true);
    expect(evaluatePredicate(FALSE, item)).toBe(false);
  });

  it('list the labels they test', () => {
    expect(predicateLabels(or(psy, not(and(hiv, psy))))).toEqual([
      { system: 's', code: 'HIV' },
      { system: 's', code: 'PSY' },
    ]);
  });
});
