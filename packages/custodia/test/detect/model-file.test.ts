/**
 * Model files: a trained forest survives format → parse with the same trees and the same
 * scores; a corrupted, oversized, unsupported or structurally unsound file is refused
 * with `model-invalid`, and no mutation of a valid file makes the parser throw anything else.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { formatModelFile, parseFeatureSchema, parseModelFile, sameFeatureSchema, trainIsolationForest, type IsolationForestModel } from '../../src/detect/index.js';
import { isCustodiaError, seededRandom } from '../../src/kernel/index.js';
import { runs } from '../ledger/seeded.js';

const modelInvalid = expect.objectContaining({ code: 'model-invalid' });

/** A file these tests expect to hold an isolation forest. */
function parseForestFile(input: string | Uint8Array): IsolationForestModel {
  const m = parseModelFile(input);
  if (m.kind !== 'isolation-forest') throw new Error(`expected an isolation forest, read ${m.kind}`);
  return m;
}

const SCHEMA = parseFeatureSchema({
  id: 'demo',
  version: 1,
  features: [
    { name: 'bytes', kind: 'numeric', transform: 'log1p' },
    { name: 'proto', kind: 'categorical', vocabulary: ['tcp', 'udp', 'icmp'] },
    { name: 'rate', kind: 'numeric' },
  ],
});

function model(seed: string, rows = 400, trees = 25): IsolationForestModel {
  const bytes = seededRandom(`data-${seed}`).bytes(rows * 3 * 4);
  const data = Float64Array.from({ length: rows * 3 }, (_, i) => (i % 3 === 1 ? bytes[i * 4]! % 3 : bytes.readUInt32LE(i * 4) / 2 ** 20));
  const forest = trainIsolationForest({ data, rows, width: 3 }, { random: seededRandom(seed), trees });
  return { kind: 'isolation-forest', schema: SCHEMA, forest };
}

const MODEL = model('file');
const TEXT = formatModelFile(MODEL);
const parsed = (): Record<string, any> => JSON.parse(TEXT) as Record<string, any>;

/** Expects `input` to be refused with model-invalid. */
function refused(input: string | Uint8Array | object, limits = {}): void {
  const text = typeof input === 'string' || input instanceof Uint8Array ? input : JSON.stringify(input);
  expect(() => parseModelFile(text, limits)).toThrow(modelInvalid);
}

describe('formatModelFile / parseModelFile', () => {
  test.prop([fc.string({ maxLength: 6 }), fc.integer({ min: 2, max: 300 }), fc.integer({ min: 1, max: 30 })], runs(25))('round-trips: same schema, same trees, same scores, same bytes', (seed, rows, trees) => {
    const m = model(seed, rows, trees);
    const text = formatModelFile(m);
    const back = parseForestFile(text);
    expect(sameFeatureSchema(back.schema, m.schema)).toBe(true);
    expect(back.forest.params).toEqual(m.forest.params);
    expect(back.forest.trees).toEqual(m.forest.trees);
    const probe = Float64Array.from({ length: 30 }, (_, i) => (i * 7.3) % 11);
    expect(back.forest.scoreBatch(probe, 3)).toEqual(m.forest.scoreBatch(probe, 3));
    expect(formatModelFile(back)).toBe(text);
    expect(parseForestFile(Buffer.from(text)).forest.trees).toEqual(m.forest.trees);
  });

  it('refuses files that are not model files of a supported version and kind', () => {
    refused('');
    refused('{"format": "custodia-detect-model"');
    refused('null');
    refused('[]');
    refused({ ...parsed(), format: 'sklearn' });
    refused({ ...parsed(), version: 2 });
    refused({ ...parsed(), version: '1' });
    refused({ ...parsed(), kind: 'gbdt' });
    refused({ ...parsed(), trainedBy: 'someone' });
    refused(TEXT.replace('"format"', '"__proto__":{},"format"'));
    const { schema: _, ...noSchema } = parsed();
    refused(noSchema);
  });

  it('refuses bytes that are not UTF-8, and files over the size limit before parsing them', () => {
    refused(Uint8Array.from([0x7b, 0xff, 0x7d]));
    refused(TEXT, { maxBytes: TEXT.length - 1 });
    refused(Buffer.from(TEXT), { maxBytes: TEXT.length - 1 });
    expect(parseModelFile(TEXT, { maxBytes: TEXT.length }).kind).toBe('isolation-forest');
    refused(TEXT, { maxNodes: 10 });
  });

  it('refuses a schema that does not fit the model', () => {
    const f = parsed();
    refused({ ...f, schema: { ...f['schema'], features: f['schema'].features.slice(0, 2) } });
    refused({ ...f, schema: { ...f['schema'], features: [...f['schema'].features, { name: 'x', kind: 'unknown' }] } });
  });

  /** The file with tree 0 changed by `edit`. */
  function withTree0(edit: (t: Record<string, number[] | null[]>) => void): object {
    const f = parsed();
    edit(f['model'].trees[0]);
    return f;
  }
  const internal = (t: Record<string, any>): number => (t['feature'] as number[]).findIndex((x) => x >= 0);
  const external = (t: Record<string, any>): number => (t['feature'] as number[]).indexOf(-1);

  it.each<[string, (t: Record<string, any>) => void]>([
    ['a child pointing back to the root (a cycle)', (t) => (t['left'][internal(t)] = 0)],
    ['a child index past the tree', (t) => (t['right'][internal(t)] = t['feature'].length)],
    ['both children the same node', (t) => (t['right'][0] = t['left'][0])],
    ['a split on a column outside the row', (t) => (t['feature'][internal(t)] = 3)],
    ['a feature index below -1', (t) => (t['feature'][0] = -2)],
    ['a split value that is not a number', (t) => (t['split'][internal(t)] = null)],
    ['a fractional child index', (t) => (t['left'][0] = 1.5)],
    ['sizes that do not add up', (t) => (t['size'][external(t)] += 1)],
    ['an empty external node', (t) => (t['size'][external(t)] = 0)],
    ['an external node with children', (t) => (t['left'][external(t)] = 1)],
    ['node arrays of different lengths', (t) => t['split'].push(0)],
    ['no nodes', (t) => { for (const k of ['feature', 'split', 'left', 'right', 'size']) t[k] = []; }],
    ['an unknown member in a tree', (t) => (t['gain'] = [])],
  ])('refuses a tree with %s', (_, edit) => {
    refused(withTree0(edit));
  });

  it('refuses a tree deeper than the height limit, and a height limit that is not ceil(log2 ψ)', () => {
    const f = parsed();
    f['model'].heightLimit = f['model'].heightLimit - 1;
    refused(f);
    // ψ = 2, l = 1: a chain of two internal nodes is one level too deep.
    const chain = { feature: [0, 0, -1, -1, -1], split: [1, 2, 0, 0, 0], left: [1, 2, -1, -1, -1], right: [4, 3, -1, -1, -1], size: [2, 1, 1, 1, 1] };
    refused({ ...parsed(), model: { width: 3, subsampleSize: 2, heightLimit: 1, trees: [chain] } });
    // The sizes of that chain do not add up either; a tree with sound sizes but an
    // internal node at depth 2 = l (ψ = 4):
    const deep = { feature: [0, 0, 0, -1, -1, -1, -1], split: [1, 2, 3, 0, 0, 0, 0], left: [1, 2, 3, -1, -1, -1, -1], right: [6, 5, 4, -1, -1, -1, -1], size: [4, 3, 2, 1, 1, 1, 1] };
    refused({ ...parsed(), model: { width: 3, subsampleSize: 4, heightLimit: 2, trees: [deep] } });
    expect(() => parseModelFile(JSON.stringify({ ...parsed(), model: { width: 3, subsampleSize: 4, heightLimit: 2, trees: [deep] } }))).toThrow(/deeper than the height limit/);
    const ok = { feature: [0, -1, -1], split: [1, 0, 0], left: [1, -1, -1], right: [2, -1, -1], size: [3, 2, 1] };
    expect(parseForestFile(JSON.stringify({ ...parsed(), model: { width: 3, subsampleSize: 3, heightLimit: 2, trees: [ok] } })).forest.score([0, 0, 0])).toBeGreaterThan(0);
  });

  it('refuses forests with no trees, too many trees, or a root that does not hold ψ points', () => {
    const f = parsed();
    refused({ ...f, model: { ...f['model'], trees: [] } });
    refused({ ...f, model: { ...f['model'], trees: new Array(10_001).fill(f['model'].trees[0]) } });
    refused({ ...f, model: { ...f['model'], subsampleSize: f['model'].subsampleSize + 1 } });
  });

  /** Every path to a value inside the parsed file, so a property can pick one to corrupt. */
  function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
    if (Array.isArray(v)) return [at, ...v.flatMap((x, i) => paths(x, [...at, i]))];
    if (typeof v === 'object' && v !== null) return [at, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]))];
    return [at];
  }
  const ALL_PATHS = paths(JSON.parse(formatModelFile(model('small', 20, 2)))).filter((p) => p.length > 0);

  test.prop([fc.nat(), fc.jsonValue({ maxDepth: 2 })], runs(300))('never throws anything but model-invalid, whatever member is replaced by whatever JSON', (pick, replacement) => {
    const f = JSON.parse(formatModelFile(model('small', 20, 2))) as Record<string, unknown>;
    const path = ALL_PATHS[pick % ALL_PATHS.length]!;
    let holder: any = f;
    for (const k of path.slice(0, -1)) holder = holder[k];
    holder[path[path.length - 1]!] = replacement;
    try {
      const m = parseModelFile(JSON.stringify(f));
      if (m.kind !== 'isolation-forest') throw new Error('a mutation changed the kind and still parsed');
      for (const s of m.forest.scoreBatch(new Float64Array(9).fill(0.5), 3)) expect(s > 0 && s < 1).toBe(true);
    } catch (e) {
      expect(isCustodiaError(e, 'model-invalid')).toBe(true);
    }
  });

  test.prop([fc.nat(), fc.integer({ min: 0, max: 255 })], runs(300))('never throws anything but model-invalid, whatever byte is overwritten', (at, byte) => {
    const bytes = Buffer.from(formatModelFile(model('small', 20, 2)));
    bytes[at % bytes.length] = byte;
    try {
      parseModelFile(bytes);
    } catch (e) {
      expect(isCustodiaError(e, 'model-invalid')).toBe(true);
    }
  });
});
