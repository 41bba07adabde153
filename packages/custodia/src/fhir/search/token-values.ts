/**
 * Token index rows from an element (FHIR R4 search.html §3.1.1.4.10 "token", the table of
 * datatypes): Coding → system|code; CodeableConcept → each coding, plus its text for `:text`;
 * Identifier → system|value (type.text for `:text`); ContactPoint → value; code, boolean,
 * string, id, uri → the value as a code without a system. `:text` matches Coding.display too.
 */
import { normalizeString } from './normalize.js';
import type { RowSink } from './row-sink.js';

type Obj = Record<string, unknown>;

function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

function text(v: unknown): string | null {
  const s = str(v);
  if (s === null) return null;
  const n = normalizeString(s);
  return n === '' ? null : n;
}

function addCoding(sink: RowSink, param: string, grp: number, c: Obj): number {
  const system = str(c['system']);
  const code = str(c['code']);
  const display = text(c['display']);
  if (system === null && code === null && display === null) return 0;
  sink.token(param, grp, system, code, display);
  return 1;
}

function addCodeableConcept(sink: RowSink, param: string, grp: number, cc: Obj): number {
  let n = 0;
  const codings = cc['coding'];
  if (Array.isArray(codings)) {
    for (const c of codings) if (typeof c === 'object' && c !== null && !Array.isArray(c)) n += addCoding(sink, param, grp, c as Obj);
  }
  const t = text(cc['text']);
  if (t !== null) {
    sink.token(param, grp, null, null, t);
    n++;
  }
  return n;
}

function addIdentifier(sink: RowSink, param: string, grp: number, id: Obj): number {
  const system = str(id['system']);
  const value = str(id['value']);
  if (system === null && value === null) return 0;
  const type = id['type'];
  const typeText = typeof type === 'object' && type !== null ? text((type as Obj)['text']) : null;
  sink.token(param, grp, system, value, typeText);
  return 1;
}

/**
 * Adds the token rows of `value` (of FHIR datatype `type`); returns how many it produced.
 *
 * @example addTokenRows(sink, 'gender', 0, 'female', 'code') // row { system: null, code: 'female' }
 */
export function addTokenRows(sink: RowSink, param: string, grp: number, value: unknown, type: string): number {
  switch (typeof value) {
    case 'string':
      if (value.length === 0) return 0;
      sink.token(param, grp, null, value, null);
      return 1;
    case 'boolean':
      sink.token(param, grp, null, value ? 'true' : 'false', null);
      return 1;
    case 'number':
      if (!Number.isFinite(value)) return 0;
      sink.token(param, grp, null, String(value), null);
      return 1;
    case 'object':
      break;
    default:
      return 0;
  }
  if (value === null || Array.isArray(value)) return 0;
  const obj = value as Obj;
  switch (type) {
    case 'Coding':
      return addCoding(sink, param, grp, obj);
    case 'CodeableConcept':
      return addCodeableConcept(sink, param, grp, obj);
    case 'Identifier':
      return addIdentifier(sink, param, grp, obj);
    case 'ContactPoint': {
      const v = str(obj['value']);
      if (v === null) return 0;
      sink.token(param, grp, null, v, null);
      return 1;
    }
    default:
      return 0;
  }
}
