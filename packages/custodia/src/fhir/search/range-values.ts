/**
 * Date, number and quantity index rows: closed ranges (FHIR R4 search.html §3.1.1.4.3 "date",
 * §3.1.1.4.1 "number", §3.1.1.4.5 "quantity").
 *
 * - date, dateTime, instant → the range their precision implies (`date-range.ts`).
 * - Period → [start.lo or RANGE_MIN, end.hi or RANGE_MAX] (search.html §3.1.1.4.3: an open end
 *   is unbounded).
 * - Timing → from the earliest event's start to the latest event's end, widened by
 *   repeat.boundsPeriod when present.
 * - Numbers, Quantity (and Age, Count, Distance, Duration), Money are exact: lo = hi. A Quantity
 *   comparator (`<5`, `>=5`) opens the matching end. Range → [low.value or RANGE_MIN,
 *   high.value or RANGE_MAX]. Money is indexed with system `urn:iso:std:iso:4217` and the
 *   currency as code. SampledData is not indexed.
 */
import { parseDateRange } from './date-range.js';
import type { ElementModel } from './element-model.js';
import { RANGE_MAX, RANGE_MIN } from './index-rows.js';
import type { RowSink } from './row-sink.js';

type Obj = Record<string, unknown>;
const CURRENCY_SYSTEM = 'urn:iso:std:iso:4217';

function obj(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The [lo, hi] of a Period (undefined when it has neither a valid start nor end). */
function periodRange(p: Obj): [number, number] | undefined {
  const start = typeof p['start'] === 'string' ? parseDateRange(p['start']) : undefined;
  const end = typeof p['end'] === 'string' ? parseDateRange(p['end']) : undefined;
  if (start === undefined && end === undefined) return undefined;
  return [start?.lo ?? RANGE_MIN, end?.hi ?? RANGE_MAX];
}

function timingRange(t: Obj): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  const events = t['event'];
  if (Array.isArray(events)) {
    for (const e of events) {
      const r = typeof e === 'string' ? parseDateRange(e) : undefined;
      if (r === undefined) continue;
      lo = Math.min(lo, r.lo);
      hi = Math.max(hi, r.hi);
    }
  }
  const bounds = obj(obj(t['repeat'])?.['boundsPeriod']);
  const b = bounds === undefined ? undefined : periodRange(bounds);
  if (b !== undefined) {
    lo = Math.min(lo, b[0]);
    hi = Math.max(hi, b[1]);
  }
  return lo <= hi ? [lo, hi] : undefined;
}

/**
 * Adds the date row of `value` (of FHIR datatype `type`); returns how many it produced.
 *
 * @example addDateRows(sink, 'birthdate', 0, '1974-12-25', 'date') // [1974-12-25T00:00Z, …T23:59:59.999Z]
 */
export function addDateRows(sink: RowSink, param: string, grp: number, value: unknown, type: string): number {
  let range: [number, number] | undefined;
  if (typeof value === 'string') {
    const r = type === 'string' ? undefined : parseDateRange(value);
    range = r === undefined ? undefined : [r.lo, r.hi];
  } else {
    const o = obj(value);
    if (o !== undefined && type === 'Period') range = periodRange(o);
    else if (o !== undefined && type === 'Timing') range = timingRange(o);
  }
  if (range === undefined) return 0;
  sink.date(param, grp, range[0], range[1]);
  return 1;
}

/** [lo, hi] of a Range, or undefined when it has no numeric bound. */
function rangeBounds(r: Obj): { lo: number; hi: number; unitFrom: Obj | undefined } | undefined {
  const low = obj(r['low']);
  const high = obj(r['high']);
  const lo = num(low?.['value']);
  const hi = num(high?.['value']);
  if (lo === undefined && hi === undefined) return undefined;
  return { lo: lo ?? RANGE_MIN, hi: hi ?? RANGE_MAX, unitFrom: lo !== undefined ? low : high };
}

/** A Quantity's range, honouring its comparator. */
function quantityBounds(q: Obj): [number, number] | undefined {
  const v = num(q['value']);
  if (v === undefined) return undefined;
  switch (q['comparator']) {
    case '<':
    case '<=':
      return [RANGE_MIN, v];
    case '>':
    case '>=':
      return [v, RANGE_MAX];
    default:
      return [v, v];
  }
}

/**
 * Adds the number row of `value`; returns how many it produced.
 *
 * @example addNumberRows(sink, 'probability', 0, 0.02, 'decimal', model)
 */
export function addNumberRows(sink: RowSink, param: string, grp: number, value: unknown, type: string, model: ElementModel): number {
  const n = num(value);
  if (n !== undefined) {
    sink.number(param, grp, n, n);
    return 1;
  }
  const o = obj(value);
  if (o === undefined) return 0;
  if (type === 'Range') {
    const r = rangeBounds(o);
    if (r === undefined) return 0;
    sink.number(param, grp, r.lo, r.hi);
    return 1;
  }
  if (!model.isA(type, 'Quantity')) return 0;
  const q = quantityBounds(o);
  if (q === undefined) return 0;
  sink.number(param, grp, q[0], q[1]);
  return 1;
}

/**
 * Adds the quantity row of `value`; returns how many it produced.
 *
 * @example addQuantityRows(sink, 'value-quantity', 0, { value: 6.3, system: 'http://unitsofmeasure.org', code: 'mmol/L' }, 'Quantity', model)
 */
export function addQuantityRows(sink: RowSink, param: string, grp: number, value: unknown, type: string, model: ElementModel): number {
  const o = obj(value);
  if (o === undefined) return 0;
  if (type === 'Money') {
    const v = num(o['value']);
    if (v === undefined) return 0;
    sink.quantity(param, grp, CURRENCY_SYSTEM, str(o['currency']), null, v, v);
    return 1;
  }
  if (type === 'Range') {
    const r = rangeBounds(o);
    if (r === undefined) return 0;
    const u = r.unitFrom;
    sink.quantity(param, grp, str(u?.['system']), str(u?.['code']), str(u?.['unit']), r.lo, r.hi);
    return 1;
  }
  if (!model.isA(type, 'Quantity')) return 0;
  const q = quantityBounds(o);
  if (q === undefined) return 0;
  sink.quantity(param, grp, str(o['system']), str(o['code']), str(o['unit']), q[0], q[1]);
  return 1;
}
