/**
 * One line of a Zeek log written as JSON (`LogAscii::use_json=T`): an object whose keys
 * are the column names (`"id.orig_h"`), with unset columns left out.
 *
 *   {"ts":1591367999.305988,"uid":"CMdzit1AMNsmfAIiQc","id.orig_h":"192.168.4.76",…}
 *
 * (docs.zeek.org, "Zeek Log Formats and Inspection".) `ts` is a number of seconds, or an
 * ISO 8601 UTC string when Zeek runs with `LogAscii::json_timestamps=JSON::TS_ISO8601`.
 * A `_path` key (written by some log shippers) must name a conn log.
 *
 * The line is attacker-controlled: JSON.parse runs on a line the splitter has already
 * bounded (64 KiB), the result must be a plain object, and every known column is then
 * checked like a TSV one. Unknown columns are kept in `extra` when they are scalars or
 * arrays of scalars (at most 64 of them, named like Zeek columns); nested objects, strings with
 * control characters (JSON can escape them) and `_`-keys of log shippers are dropped.
 */
import type { ZeekFlowRecord, ZeekValue } from '../detect/index.js';
import { excerpt, refuse } from './record-refused.js';
import { ZEEK_CONN_COLUMNS, zeekConnRecord, type ZeekRow } from './zeek-conn-row.js';

const MAX_EXTRA = 64;
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/** Seconds since the epoch of an ISO 8601 UTC time as Zeek writes it, microseconds kept. */
export function isoSeconds(text: string): number {
  const m = ISO_TIME.exec(text);
  if (m === null) refuse(`ts: not a time: ${excerpt(text)}`);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || back.getUTCHours() !== h || back.getUTCMinutes() !== mi || back.getUTCSeconds() !== s) {
    refuse(`ts: not a time: ${excerpt(text)}`);
  }
  return ms / 1000 + (m[7] === undefined ? 0 : Number(`0.${m[7]}`));
}

const EXTRA_NAME = /^[A-Za-z0-9][A-Za-z0-9_.]{0,63}$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A value kept in `extra`: a finite number, a bool, a string without control characters. */
function scalar(v: unknown): v is string | number | boolean {
  return (typeof v === 'string' && !CONTROL.test(v)) || (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean';
}

/**
 * The record on a JSON line, or undefined for a blank one. Throws RecordRefused.
 *
 * @example
 *   parseZeekJsonLine('{"ts":1591367999.305988,"uid":"C1",…}', 3)?.startTime; // 1591367999.305988
 */
export function parseZeekJsonLine(text: string, line: number): ZeekFlowRecord | undefined {
  if (text === '') return undefined;
  if (!text.startsWith('{')) refuse('not a JSON object');
  let parsed: unknown;
  // Hostile input: JSON.parse of a line already bounded to 64 KiB; the result is checked key by key below.
  try {
    parsed = JSON.parse(text);
  } catch {
    refuse('not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) refuse('not a JSON object');
  const object = parsed as Record<string, unknown>;
  const path = object['_path'];
  if (path !== undefined && (typeof path !== 'string' || !path.startsWith('conn'))) refuse(`_path is not a conn log`);
  const row: ZeekRow = Object.create(null) as ZeekRow;
  let extra: Record<string, ZeekValue> | undefined;
  let extras = 0;
  for (const key of Object.keys(object)) {
    const value = object[key];
    if (ZEEK_CONN_COLUMNS.has(key)) {
      row[key] = key === 'ts' && typeof value === 'string' ? isoSeconds(value) : (value as ZeekValue | null);
    } else if (extras < MAX_EXTRA && EXTRA_NAME.test(key) && (scalar(value) || (Array.isArray(value) && value.every(scalar)))) {
      (extra ??= Object.create(null) as Record<string, ZeekValue>)[key] = value as ZeekValue;
      extras++;
    }
  }
  return zeekConnRecord(row, line, extra);
}
