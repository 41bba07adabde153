/**
 * Calendar validity of the date part of date, dateTime and instant values.
 * FHIR R4 datatypes.html#date: "Dates SHALL be valid dates" (the regex alone accepts 2019-02-31).
 */

function readDigits(value: string, start: number, count: number): number {
  let n = 0;
  for (let i = start; i < start + count; i++) n = n * 10 + (value.charCodeAt(i) - 0x30);
  return n;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * True unless `value` (already matched by the date/dateTime/instant regex) names a day that
 * does not exist. Year-only and year-month values are always valid.
 *
 * @example
 *   hasValidCalendarDate('2024-02-29') // true
 *   hasValidCalendarDate('2023-02-29') // false
 */
export function hasValidCalendarDate(value: string): boolean {
  if (value.length < 10) return true;
  return readDigits(value, 8, 2) <= daysInMonth(readDigits(value, 0, 4), readDigits(value, 5, 2));
}
