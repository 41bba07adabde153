/**
 * The reference row Shapley explanations judge alerts against (reference-row.ts): each
 * numeric feature's median over the normal rows, each categorical feature's most frequent
 * category, lowest index on a tie.
 */
import { describe, expect, it } from 'vitest';
import { normalReferenceRow, parseFeatureSchema } from '../../src/detect/index.js';

const SCHEMA = parseFeatureSchema({
  id: 'demo', version: 1,
  features: [{ name: 'bytes', kind: 'numeric', transform: 'log1p' }, { name: 'proto', kind: 'categorical', vocabulary: ['tcp', 'udp', 'icmp'] }, { name: 'rate', kind: 'numeric' }],
});
const matrix = (rows: number[][]) => ({ data: Float64Array.from(rows.flat()), rows: rows.length, width: 3 });

describe('normalReferenceRow', () => {
  it('takes the median of numeric columns and the mode of categorical ones', () => {
    expect([...normalReferenceRow(SCHEMA, matrix([[3, 2, 0.5], [1, 2, 0.1], [2, 0, 0.9]]))]).toEqual([2, 2, 0.5]);
    // An even count: the mean of the middle two; a tie between categories: the lowest index.
    expect([...normalReferenceRow(SCHEMA, matrix([[1, 1, 0], [4, 0, 1], [2, 1, 0], [3, 0, 1]]))]).toEqual([2.5, 0, 0.5]);
  });

  it('refuses no rows and rows of another width', () => {
    expect(() => normalReferenceRow(SCHEMA, matrix([]))).toThrow(/at least one normal row/);
    expect(() => normalReferenceRow(SCHEMA, { data: new Float64Array(4), rows: 2, width: 2 })).toThrow(/rows of 2 features/);
  });
});
