/**
 * FHIR `date` / `dateTime` (R4 datatypes.html#dateTime) to epoch-millisecond bounds, honouring
 * the written precision: `2016-01-01` as a period end means "through the end of that day".
 * A value without a time zone is taken as UTC, like the rest of the vault
 * (docs/architecture.md, "Dates without a time zone").
 */
import type { TimeRange } from './consent-model.js';

const DATE_TIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * [first ms, first ms after] of a FHIR date/dateTime at its precision; undefined when malformed.
 *
 * @example
 *   dateTimeBounds('2016-02') // { low: Date.UTC(2016, 1, 1), high: Date.UTC(2016, 2, 1) }
 */
export function dateTimeBounds(value: string): { readonly low: number; readonly high: number } | undefined {
  const m = DATE_TIME.exec(value);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  const month = mo === undefined ? undefined : Number(mo);
  const day = d === undefined ? undefined : Number(d);
  if (month !== undefined && (month < 1 || month > 12)) return undefined;
  if (day !== undefined && (day < 1 || day > new Date(Date.UTC(year, month!, 0)).getUTCDate())) return undefined;
  let offsetMs = 0;
  if (tz !== undefined && tz !== 'Z') {
    const sign = tz.startsWith('-') ? -1 : 1;
    offsetMs = sign * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) * 60_000;
  }
  if (h !== undefined) {
    const hour = Number(h);
    const minute = Number(mi);
    const second = s === undefined ? 0 : Number(s);
    if (hour > 23 || minute > 59 || second > 59) return undefined;
    const ms = frac === undefined ? 0 : Math.floor(Number(`0${frac}`) * 1000);
    const low = Date.UTC(year, month! - 1, day, hour, minute, second, ms) - offsetMs;
    const unit = s === undefined ? 60_000 : frac === undefined ? 1000 : 1;
    return { low, high: low + unit };
  }
  if (day !== undefined) {
    const low = Date.UTC(year, month! - 1, day);
    return { low, high: Date.UTC(year, month! - 1, day + 1) };
  }
  if (month !== undefined) return { low: Date.UTC(year, month - 1, 1), high: Date.UTC(year, month, 1) };
  return { low: Date.UTC(year, 0, 1), high: Date.UTC(year + 1, 0, 1) };
}

/**
 * A FHIR Period as a half-open range: from the start of `start`'s precision to the end of
 * `end`'s precision. Returns a string describing the problem when the period is malformed or
 * ends before it starts (R4 per-1).
 *
 * @example
 *   parsePeriod({ start: '2015-01-01', end: '2015-02-01' })
 *   // { start: Date.UTC(2015, 0, 1), end: Date.UTC(2015, 1, 2), text: '2015-01-01..2015-02-01' }
 */
export function parsePeriod(period: unknown): TimeRange | string {
  if (typeof period !== 'object' || period === null || Array.isArray(period)) return 'is not a Period';
  const { start, end } = period as { start?: unknown; end?: unknown };
  if (start !== undefined && typeof start !== 'string') return 'start is not a dateTime';
  if (end !== undefined && typeof end !== 'string') return 'end is not a dateTime';
  const s = start === undefined ? undefined : dateTimeBounds(start);
  const e = end === undefined ? undefined : dateTimeBounds(end);
  if (start !== undefined && s === undefined) return `start "${start}" is not a valid dateTime`;
  if (end !== undefined && e === undefined) return `end "${end}" is not a valid dateTime`;
  if (s !== undefined && e !== undefined && e.high <= s.low) return 'ends before it starts';
  const text = `${start ?? ''}..${end ?? ''}`;
  return {
    ...(s === undefined ? {} : { start: s.low }),
    ...(e === undefined ? {} : { end: e.high }),
    text,
  };
}

/** Is `now` inside the range? */
export function inRange(range: TimeRange, now: number): boolean {
  return (range.start === undefined || now >= range.start) && (range.end === undefined || now < range.end);
}
