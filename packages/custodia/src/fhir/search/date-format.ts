/**
 * The canonical search text of a date range: the coarsest FHIR date/dateTime whose implied
 * range (see `date-range.ts`) is exactly that range, in UTC (`2020`, `2020-03`,
 * `2020-03-04`, `2020-03-04T10:00Z`, `2020-03-04T10:00:05Z`, `…T10:00:05.1Z`, `….12Z`, `….123Z`).
 */
import { civilFromDays, daysFromCivil, daysInMonth } from './date-range.js';
import type { Range } from './query.js';

const DAY_MS = 86_400_000;

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * The text whose implied range is `range`, or undefined when no date has that range.
 *
 * @example formatDateRange({ lo: Date.UTC(2020, 0, 1), hi: Date.UTC(2021, 0, 1) - 1 }) // '2020'
 */
export function formatDateRange(range: Range): string | undefined {
  const { lo, hi } = range;
  if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || hi < lo) return undefined;
  const days = Math.floor(lo / DAY_MS);
  const msOfDay = lo - days * DAY_MS;
  const [y, m, d] = civilFromDays(days);
  if (y < 1 || y > 9999) return undefined;
  const date = `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
  if (msOfDay === 0) {
    if (m === 1 && d === 1 && hi === daysFromCivil(y + 1, 1, 1) * DAY_MS - 1) return pad(y, 4);
    if (d === 1 && hi === lo + daysInMonth(y, m) * DAY_MS - 1) return date.slice(0, 7);
    if (hi === lo + DAY_MS - 1) return date;
  }
  const time = `${pad(Math.floor(msOfDay / 3_600_000), 2)}:${pad(Math.floor(msOfDay / 60_000) % 60, 2)}`;
  const seconds = pad(Math.floor(msOfDay / 1000) % 60, 2);
  const ms = msOfDay % 1000;
  if (msOfDay % 60_000 === 0 && hi === lo + 59_999) return `${date}T${time}Z`;
  if (ms === 0 && hi === lo + 999) return `${date}T${time}:${seconds}Z`;
  if (ms % 100 === 0 && hi === lo + 99) return `${date}T${time}:${seconds}.${ms / 100}Z`;
  if (ms % 10 === 0 && hi === lo + 9) return `${date}T${time}:${seconds}.${pad(ms / 10, 2)}Z`;
  if (hi === lo) return `${date}T${time}:${seconds}.${pad(ms, 3)}Z`;
  return undefined;
}
