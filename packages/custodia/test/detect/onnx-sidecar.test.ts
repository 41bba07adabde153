/**
 * The ONNX sidecar is hostile input arriving with the model: every refusal is
 * `model-invalid` with a reason, never a crash, and only one of our flow schemas with its
 * features in order is accepted.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_ONNX_SIDECAR_BYTES, NSL_KDD_SCHEMA, parseOnnxSidecar } from '../../src/detect/index.js';

const GOOD = JSON.parse(readFileSync(new URL('../fixtures/onnx/nsl-kdd-random-forest.onnx.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const bytes = (v: unknown): Uint8Array => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

function refusal(input: Uint8Array): string {
  try {
    parseOnnxSidecar(input);
  } catch (e) {
    expect((e as { code?: string }).code).toBe('model-invalid');
    return (e as Error).message;
  }
  throw new Error('the sidecar was accepted');
}

describe('parseOnnxSidecar', () => {
  it('reads the fixture sidecar: the nsl-kdd schema, the probabilities output, P(normal) in column 0', () => {
    const s = parseOnnxSidecar(bytes(GOOD));
    expect(s.schema).toBe(NSL_KDD_SCHEMA);
    expect(s).toMatchObject({ input: 'X', output: 'probabilities', normalColumn: 0, threshold: 0.5 });
    expect(s.reference).toEqual(Float64Array.from(GOOD['reference'] as number[]));
  });

  it('reads a sidecar without a reference row (its model scores but cannot explain)', () => {
    const { reference: _, ...plain } = GOOD;
    expect(parseOnnxSidecar(bytes(plain)).reference).toBeUndefined();
  });

  it('refuses a reference row that is not one finite float32 per feature, categories by index', () => {
    const ref = GOOD['reference'] as number[];
    const at = (i: number, v: unknown) => bytes({ ...GOOD, reference: [...ref.slice(0, i), v, ...ref.slice(i + 1)] });
    expect(refusal(bytes({ ...GOOD, reference: ref.slice(1) }))).toMatch(/reference must be an array of 39 numbers, one per feature of schema nsl-kdd/);
    expect(refusal(bytes({ ...GOOD, reference: {} }))).toMatch(/reference must be an array/);
    for (const v of [null, '1', true, 1e39, -1e39, 1e400]) expect(refusal(at(4, v))).toMatch(/reference 4 \(src_bytes\) must be a finite number a float32 can hold/);
    for (const v of [-1, 0.5, 3]) expect(refusal(at(1, v))).toMatch(/reference 1 \(protocol_type\) must be the index of one of its 3 categories/);
  });

  it('refuses a feature list of the wrong length or order, naming what is expected', () => {
    const features = GOOD['features'] as string[];
    expect(refusal(bytes({ ...GOOD, features: features.slice(1) }))).toMatch(/names 38 features; schema nsl-kdd has 39/);
    expect(refusal(bytes({ ...GOOD, features: [features[1], features[0], ...features.slice(2)] }))).toMatch(/feature 0 must be duration/);
  });

  it('refuses an unknown schema, version, member, output or threshold', () => {
    expect(refusal(bytes({ ...GOOD, schema: { id: 'kdd99', version: 1 } }))).toMatch(/schema.id must be one of/);
    expect(refusal(bytes({ ...GOOD, schema: { id: 'nsl-kdd', version: 99 } }))).toMatch(/at version/);
    expect(refusal(bytes({ ...GOOD, extra: 1 }))).toMatch(/exactly the members/);
    expect(refusal(bytes({ ...GOOD, output: { name: 'probabilities', normalColumn: -1 } }))).toMatch(/normalColumn/);
    expect(refusal(bytes({ ...GOOD, output: { name: 'bad name\n', normalColumn: 0 } }))).toMatch(/output.name/);
    for (const threshold of [0, 1, 'x', null, 1e400]) expect(refusal(bytes({ ...GOOD, threshold }))).toMatch(/threshold/);
    expect(refusal(bytes({ ...GOOD, version: 2 }))).toMatch(/version 1/);
    expect(refusal(bytes({ ...GOOD, format: 'other' }))).toMatch(/not a custodia-onnx-sidecar/);
  });

  it('reads named classes: the normal column is normal\'s', () => {
    const s = parseOnnxSidecar(bytes({ ...GOOD, output: { name: 'probabilities', classes: ['DoS', 'Probe', 'normal'] } }));
    expect(s).toMatchObject({ normalColumn: 2, classes: ['DoS', 'Probe', 'normal'] });
    expect(parseOnnxSidecar(bytes(GOOD)).classes).toBeUndefined();
  });

  it('refuses classes that are not unique printable names with normal exactly once and no unknown', () => {
    const classes = (v: unknown) => bytes({ ...GOOD, output: { name: 'probabilities', classes: v } });
    expect(refusal(classes(['normal', 'DoS', 'DoS']))).toMatch(/unique/);
    expect(refusal(classes(['normal', 'normal']))).toMatch(/unique/);
    expect(refusal(classes(['DoS', 'Probe']))).toMatch(/must include normal/);
    expect(refusal(classes(['normal', 'unknown']))).toMatch(/must not include unknown/);
    for (const bad of [['normal', ''], ['normal', 'a b'], ['normal', 'x'.repeat(65)], ['normal', 1]]) expect(refusal(classes(bad))).toMatch(/printable ASCII/);
    for (const bad of [['normal'], [], 'normal', null]) expect(refusal(classes(bad))).toMatch(/array of 2 to 1024/);
    expect(refusal(bytes({ ...GOOD, output: { name: 'probabilities', normalColumn: 0, classes: ['normal', 'DoS'] } }))).toMatch(/exactly the members name, classes/);
  });

  it('refuses what is not small UTF-8 JSON', () => {
    expect(refusal(Uint8Array.of(0xff, 0xfe))).toMatch(/not UTF-8/);
    expect(refusal(bytes('{"format":'))).toMatch(/not JSON/);
    expect(refusal(new Uint8Array(MAX_ONNX_SIDECAR_BYTES + 1).fill(0x20))).toMatch(/larger than/);
    expect(refusal(bytes('[]'))).toMatch(/not a custodia-onnx-sidecar/);
    expect(refusal(bytes('{"__proto__":{"format":"custodia-onnx-sidecar"}}'))).toMatch(/not a custodia-onnx-sidecar/);
  });
});
