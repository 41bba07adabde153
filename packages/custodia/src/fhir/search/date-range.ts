/**
 * FHIR date, dateTime and instant values as closed ranges of epoch milliseconds, shared by
 * the indexer and the query parser (FHIR R4 search.html §3.1.1.4.3 "date": a value stands
 * for the whole interval its precision implies; R4 datatypes.html#dateTime for the syntax).
 *
 * - `2020` → [2020-01-01T00:00:00.000Z, 2020-12-31T23:59:59.999Z]; `2020-03`, `2020-03-04` alike.
 * - `2020-03-04T10:00` (minutes, allowed in searches) → the whole minute; seconds → the whole
 *   second; `.1` → 100 ms; `.12` → 10 ms; three or more fraction digits → that millisecond.
 * - Values without an offset (dates, and times without `Z`/`±hh:mm`) are taken as UTC.
 * - Ranges must fall inside years 0001–9999 in UTC (an offset cannot push a value outside).
 */

export type DatePrecision = 'year' | 'month' | 'day' | 'minute' | 'second' | 'millisecond';

export interface DateRange {
  readonly lo: number;
  readonly hi: number;
  readonly precision: DatePrecision;
}

const DAY_MS = 86_400_000;
const EARLIEST = -62_135_596_800_000; // 0001-01-01T00:00:00Z
const LATEST = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
// Linear: no nested or adjacent quantifiers over the same characters.
const DATE_SYNTAX = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,12}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms"). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The inverse of `daysFromCivil`: [year, month (1-12), day]. */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

export function daysInMonth(year: number, month: number): number {
  return daysFromCivil(month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1) - daysFromCivil(year, month, 1);
}

/**
 * Parses a FHIR date/dateTime/instant (or a search date with minute precision) into its range,
 * or undefined when it is not one (never throws).
 *
 * @example parseDateRange('2020')!.hi === Date.UTC(2020, 11, 31, 23, 59, 59, 999) // true
 */
export function parseDateRange(text: string): DateRange | undefined {
  if (text.length > 40) return undefined;
  const m = DATE_SYNTAX.exec(text);
  if (m === null) return undefined;
  const year = Number(m[1]);
  if (year < 1) return undefined;
  if (m[2] === undefined) {
    return { lo: daysFromCivil(year, 1, 1) * DAY_MS, hi: daysFromCivil(year + 1, 1, 1) * DAY_MS - 1, precision: 'year' };
  }
  const month = Number(m[2]);
  if (month < 1 || month > 12) return undefined;
  const monthStart = daysFromCivil(year, month, 1) * DAY_MS;
  if (m[3] === undefined) {
    return { lo: monthStart, hi: monthStart + daysInMonth(year, month) * DAY_MS - 1, precision: 'month' };
  }
  const day = Number(m[3]);
  if (day < 1 || day > daysInMonth(year, month)) return undefined;
  const dayStart = monthStart + (day - 1) * DAY_MS;
  if (m[4] === undefined) return { lo: dayStart, hi: dayStart + DAY_MS - 1, precision: 'day' };
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  // R4 allows second 60 (leap second); it is counted into the next minute.
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const offset = offsetMs(m[8]);
  if (offset === undefined) return undefined;
  const lo = dayStart + hour * 3_600_000 + minute * 60_000 + second * 1000 - offset;
  if (lo < EARLIEST || lo > LATEST) return undefined;
  if (m[6] === undefined) return { lo, hi: lo + 59_999, precision: 'minute' };
  const fraction = m[7];
  if (fraction === undefined) return { lo, hi: lo + 999, precision: 'second' };
  if (fraction.length === 1) return { lo: lo + Number(fraction) * 100, hi: lo + Number(fraction) * 100 + 99, precision: 'millisecond' };
  if (fraction.length === 2) return { lo: lo + Number(fraction) * 10, hi: lo + Number(fraction) * 10 + 9, precision: 'millisecond' };
  const ms = Number(fraction.slice(0, 3));
  return { lo: lo + ms, hi: lo + ms, precision: 'millisecond' };
}

/** `Z`/absent → 0; `±hh:mm` → milliseconds east of UTC (hh ≤ 14, mm ≤ 59); undefined when malformed. */
function offsetMs(tz: string | undefined): number | undefined {
  if (tz === undefined || tz === 'Z') return 0;
  const hours = Number(tz.slice(1, 3));
  const minutes = Number(tz.slice(4, 6));
  if (hours > 14 || minutes > 59) return undefined;
  const ms = (hours * 60 + minutes) * 60_000;
  return tz[0] === '-' ? -ms : ms;
}
