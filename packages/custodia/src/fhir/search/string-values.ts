/**
 * String index rows from an element (FHIR R4 search.html §3.1.1.4.7 "string": a string
 * parameter on HumanName searches family, given, prefix, suffix and text; on Address line,
 * city, district, state, postalCode, country and text).
 */
import { indexedPrefix, normalizeString } from './normalize.js';
import type { RowSink } from './row-sink.js';

const HUMAN_NAME_PARTS = ['family', 'given', 'prefix', 'suffix', 'text'] as const;
const ADDRESS_PARTS = ['line', 'city', 'district', 'state', 'postalCode', 'country', 'text'] as const;

function addOne(sink: RowSink, param: string, grp: number, s: unknown): number {
  if (typeof s !== 'string') return 0;
  const value = indexedPrefix(normalizeString(s));
  if (value === '') return 0;
  sink.string(param, grp, value, s);
  return 1;
}

function addParts(sink: RowSink, param: string, grp: number, obj: Record<string, unknown>, parts: readonly string[]): number {
  let n = 0;
  for (const part of parts) {
    const v = obj[part];
    if (Array.isArray(v)) for (const item of v) n += addOne(sink, param, grp, item);
    else n += addOne(sink, param, grp, v);
  }
  return n;
}

/**
 * Adds the string rows of `value` (of FHIR datatype `type`); returns how many it produced.
 *
 * @example addStringRows(sink, 'name', 0, { family: 'Chalmers', given: ['Peter'] }, 'HumanName') // 2
 */
export function addStringRows(sink: RowSink, param: string, grp: number, value: unknown, type: string): number {
  if (typeof value === 'string') return addOne(sink, param, grp, value);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 0;
  if (type === 'HumanName') return addParts(sink, param, grp, value as Record<string, unknown>, HUMAN_NAME_PARTS);
  if (type === 'Address') return addParts(sink, param, grp, value as Record<string, unknown>, ADDRESS_PARTS);
  return 0;
}
