import { describe, expect, it } from 'vitest';
import { isBase64Binary } from '../../../src/fhir/validation/base64-binary.js';
import { hasValidCalendarDate } from '../../../src/fhir/validation/calendar-date.js';
import { primitiveFormats } from '../../../src/fhir/validation/primitive-formats.js';
import { compileSpecRegex } from '../../../src/fhir/validation/spec-regex.js';

describe('compileSpecRegex', () => {
  it('anchors the whole alternation, as the spec regexes are meant to match the whole value', () => {
    // unsignedInt: [0]|([1-9][0-9]*); with plain ^…$ anchoring "0abc" and "abc1" would match.
    const unsignedInt = compileSpecRegex('[0]|([1-9][0-9]*)');
    expect(['0', '7', '2147483647'].map((v) => unsignedInt.test(v))).toEqual([true, true, true]);
    expect(['0abc', 'abc1', '01', ''].map((v) => unsignedInt.test(v))).toEqual([false, false, false, false]);
    expect(compileSpecRegex('true|false').test('trueish')).toBe(false);
  });

  it('gives \\s and \\S their XML Schema meaning (space, tab, CR, LF)', () => {
    const uri = compileSpecRegex('\\S*');
    expect(uri.test('a\u00a0b')).toBe(true);
    expect(uri.test('a b')).toBe(false);
    const code = compileSpecRegex('[^\\s]+(\\s[^\\s]+)*');
    expect(code.test('a\u00a0b')).toBe(true);
    expect(code.test('a\u2003b')).toBe(true);
    expect(code.test('a  b')).toBe(false);
  });

  it('refuses \\S inside a character class rather than mistranslating it', () => {
    expect(() => compileSpecRegex('[ \\r\\n\\t\\S]+')).toThrow(/unsupported/);
  });
});

describe('isBase64Binary', () => {
  it('accepts whole quads with whitespace between quads', () => {
    for (const value of ['AAAA', 'SGVsbG8=', 'SGk=', 'QQ==', 'SGVs bG8h', ' SGVs\r\n\tbG8h \n', 'ab+/']) expect(isBase64Binary(value), value).toBe(true);
  });

  it('rejects partial quads, whitespace inside a quad, misplaced padding and other characters', () => {
    for (const value of ['', '   ', 'A', 'AAA', 'AA AA', 'A===', '=AAA', 'AA=A', 'AA==AAAA', 'AA== AAAA', 'AAA-', 'AAA_', 'AAA\u00a0', 'AAAA\u000b']) {
      expect(isBase64Binary(value), JSON.stringify(value)).toBe(false);
    }
  });
});

describe('hasValidCalendarDate', () => {
  it('knows month lengths and leap years', () => {
    expect(['2024-02-29', '2000-02-29', '2023-01-31', '2023-04-30', '2023', '2023-02'].map(hasValidCalendarDate)).toEqual([true, true, true, true, true, true]);
    expect(['2023-02-29', '1900-02-29', '2023-04-31', '2023-06-31T00:00:00Z'].map(hasValidCalendarDate)).toEqual([false, false, false, false]);
  });
});

describe('primitiveFormats', () => {
  const formats = primitiveFormats();
  const check = (type: string, value: string | number | boolean): string | undefined => formats.get(type)?.check(value)?.code;

  it('compiles all 20 R4 primitive types with their JSON kind', () => {
    expect(formats.size).toBe(20);
    expect(formats.get('decimal')?.json).toBe('number');
    expect(formats.get('unsignedInt')?.json).toBe('number');
    expect(formats.get('boolean')?.json).toBe('boolean');
    expect(formats.get('canonical')?.json).toBe('string');
  });

  it('returns shared failures, so the hot path does not allocate', () => {
    expect(formats.get('date')?.check('2020-13-01')).toBe(formats.get('date')?.check('nonsense'));
    expect(formats.get('string')?.check('')).toBe(formats.get('markdown')?.check(''));
  });

  it('checks text content and length', () => {
    expect(check('string', 'ok')).toBeUndefined();
    expect(check('string', '\u0001')).toBe('value');
    expect(check('string', 'x'.repeat(1048577))).toBe('too-long');
    expect(check('markdown', 'x'.repeat(1048577))).toBeUndefined();
    expect(check('xhtml', '<div xmlns="http://www.w3.org/1999/xhtml">x</div>')).toBeUndefined();
    expect(check('xhtml', ' ')).toBe('value');
  });

  it('checks numeric ranges', () => {
    expect(check('integer', 2147483647)).toBeUndefined();
    expect(check('integer', -2147483649)).toBe('value');
    expect(check('positiveInt', 0)).toBe('value');
    expect(check('unsignedInt', 0)).toBeUndefined();
    expect(check('decimal', Number.NEGATIVE_INFINITY)).toBe('value');
    expect(check('decimal', 1e-300)).toBeUndefined();
  });
});
