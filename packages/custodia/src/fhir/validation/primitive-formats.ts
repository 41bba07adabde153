/**
 * Format checks for the FHIR R4 primitive types (datatypes.html#primitive), compiled once from
 * the structure table. Each check runs after the JSON type has been checked and returns
 * `undefined` or a shared, constant failure (no allocation on the hot path).
 */
import { isBase64Binary } from './base64-binary.js';
import { hasValidCalendarDate } from './calendar-date.js';
import { compileSpecRegex } from './spec-regex.js';
import { loadStructureTable } from './structure-table.js';

export interface FormatFailure {
  readonly code: 'value' | 'too-long';
  /** What a valid value looks like (never the value itself). */
  readonly expected: string;
}

export interface PrimitiveFormat {
  readonly type: string;
  /** FHIR R4 json.html §2.6.2: the JSON type the value must have. */
  readonly json: 'string' | 'number' | 'boolean';
  /** Checks a value that already has the right JSON type. */
  readonly check: (value: string | number | boolean) => FormatFailure | undefined;
}

const EMPTY: FormatFailure = { code: 'value', expected: 'a non-empty value (json.html: no empty strings)' };
const BLANK: FormatFailure = { code: 'value', expected: 'a value with non-whitespace content' };
const CONTROL: FormatFailure = { code: 'value', expected: 'text without control characters other than tab, CR and LF' };
const NOT_FINITE: FormatFailure = { code: 'value', expected: 'a finite decimal number' };

// FHIR R4 datatypes.html#string: no Unicode code points below 32 except tab, LF and CR.
const CONTROL_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;
const ONLY_WHITESPACE = /^[ \t\r\n]*$/;

/** Human-readable descriptions of the lexical forms (used in diagnostics). */
const FORMAT_DESCRIPTIONS: Readonly<Record<string, string>> = {
  base64Binary: 'base64 (RFC 4648) in whole quads',
  canonical: 'a canonical URL without whitespace',
  code: 'a code: no leading, trailing or repeated whitespace',
  date: 'a real date as YYYY, YYYY-MM or YYYY-MM-DD',
  dateTime: 'a real date as YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm)',
  id: '1 to 64 characters from A-Z, a-z, 0-9, "-" and "."',
  instant: 'a real date and time as YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm)',
  oid: 'an OID as urn:oid:1.2.3',
  time: 'a time as hh:mm:ss[.fff]',
  uri: 'a URI without whitespace',
  url: 'a URL without whitespace',
  uuid: 'a lower-case UUID as urn:uuid:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx',
};

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** FHIR R4 datatypes.html#integer, #positiveInt, #unsignedInt: 32-bit signed ranges. */
function integerCheck(min: number, expected: string): PrimitiveFormat['check'] {
  const failure: FormatFailure = { code: 'value', expected };
  return (value) => (Number.isInteger(value) && (value as number) >= min && (value as number) <= INT32_MAX ? undefined : failure);
}

/**
 * Free text (string, markdown, xhtml): not empty and not only whitespace (json.html: no empty
 * values), no control characters, and at most the StructureDefinition's maxLength
 * (datatypes.html#string: 1,048,576 characters).
 */
function textCheck(maxLength: number | undefined): PrimitiveFormat['check'] {
  const limit = maxLength ?? Number.POSITIVE_INFINITY;
  const tooLong: FormatFailure = { code: 'too-long', expected: `at most ${limit} characters` };
  return (value) => {
    const text = value as string;
    if (text.length === 0) return EMPTY;
    if (text.length > limit) return tooLong;
    if (CONTROL_CHARACTER.test(text)) return CONTROL;
    return ONLY_WHITESPACE.test(text) ? BLANK : undefined;
  };
}

/** Values defined by the spec regex (anchored), optionally with a calendar check. */
function patternCheck(type: string, regex: RegExp, calendar: boolean): PrimitiveFormat['check'] {
  const failure: FormatFailure = { code: 'value', expected: FORMAT_DESCRIPTIONS[type] ?? `a valid ${type}` };
  return (value) => {
    const text = value as string;
    if (text.length === 0) return EMPTY;
    if (!regex.test(text)) return failure;
    return calendar && !hasValidCalendarDate(text) ? failure : undefined;
  };
}

function compileCheck(type: string, regexSource: string | undefined, maxLength: number | undefined): PrimitiveFormat['check'] {
  switch (type) {
    case 'boolean':
      return () => undefined;
    case 'integer':
      return integerCheck(INT32_MIN, 'a 32-bit signed integer (-2147483648 to 2147483647)');
    case 'positiveInt':
      return integerCheck(1, 'an integer from 1 to 2147483647');
    case 'unsignedInt':
      return integerCheck(0, 'an integer from 0 to 2147483647');
    case 'decimal':
      // JSON numbers are finite; a value built in JavaScript (NaN, Infinity) is not.
      return (value) => (Number.isFinite(value) ? undefined : NOT_FINITE);
    case 'string':
    case 'markdown':
    case 'xhtml':
      return textCheck(maxLength);
    case 'base64Binary': {
      const failure: FormatFailure = { code: 'value', expected: FORMAT_DESCRIPTIONS['base64Binary'] ?? 'base64' };
      return (value) => ((value as string).length === 0 ? EMPTY : isBase64Binary(value as string) ? undefined : failure);
    }
    default: {
      if (regexSource === undefined) return textCheck(maxLength);
      const calendar = type === 'date' || type === 'dateTime' || type === 'instant';
      return patternCheck(type, compileSpecRegex(regexSource), calendar);
    }
  }
}

let formats: ReadonlyMap<string, PrimitiveFormat> | undefined;

/**
 * The compiled format of every primitive type in the structure table (memoised).
 *
 * @example
 *   primitiveFormats().get('date')?.check('2023-02-29') // { code: 'value', expected: '…' }
 */
export function primitiveFormats(): ReadonlyMap<string, PrimitiveFormat> {
  if (formats !== undefined) return formats;
  const compiled = new Map<string, PrimitiveFormat>();
  for (const [type, entry] of Object.entries(loadStructureTable().primitives)) {
    compiled.set(type, { type, json: entry.json, check: compileCheck(type, entry.regex, entry.maxLength) });
  }
  formats = compiled;
  return compiled;
}
