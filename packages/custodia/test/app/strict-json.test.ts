/**
 * The strict JSON parser for files handed to verifiers: size before anything else, UTF-8
 * without a BOM, RFC 8259 syntax, and no member name twice in one object (escapes taken
 * into account), at any depth.
 */
import { describe, expect, it } from 'vitest';
import { parseStrictJson } from '../../src/app/strict-json.js';

const parse = (text: string | Buffer, max = 1024): unknown => parseStrictJson(typeof text === 'string' ? Buffer.from(text) : text, max);

describe('parseStrictJson', () => {
  it('parses JSON, names in different objects or values may repeat', () => {
    expect(parse('{"a":{"a":1},"b":[{"a":"a"},{"a":"\\"a\\""}],"c":"{\\"a\\":1,\\"a\\":2}"}')).toEqual({ a: { a: 1 }, b: [{ a: 'a' }, { a: '"a"' }], c: '{"a":1,"a":2}' });
    expect(parse(' [1, "x", null, {}] ')).toEqual([1, 'x', null, {}]);
  });

  it('refuses a repeated member name, also when spelled with escapes or deep inside', () => {
    expect(() => parse('{"a":1,"a":2}')).toThrow(/member name is repeated/);
    expect(() => parse('{"a":1,"\\u0061":2}')).toThrow(/member name is repeated/);
    expect(() => parse(`${'['.repeat(200)}{"k":{},"k":[]}${']'.repeat(200)}`)).toThrow(/member name is repeated/);
    expect(() => parse('{"x":[{"a":1}],"y":{"b":{"c":1,"c":1}}}')).toThrow(/member name is repeated/);
  });

  it('refuses what is too large, not UTF-8, behind a BOM, or not JSON', () => {
    expect(() => parse('[1,2,3]', 6)).toThrow(/larger than 6 bytes/);
    expect(() => parse(Buffer.from([0x7b, 0xff, 0x7d]))).toThrow(/not UTF-8/);
    expect(() => parse(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{}')]))).toThrow(/byte-order mark/);
    for (const bad of ['', '{', "{'a':1}", '{"a":1,}', 'NaN', '[1]x']) expect(() => parse(bad), bad).toThrow(/does not parse/);
  });
});
