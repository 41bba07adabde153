/**
 * Field values of Zeek's ASCII (TSV) log format, converted by the column's `#types`
 * entry. The writer (Zeek's threading/formatters/Ascii.cc) prints:
 * - `time`, `interval`, `double` as decimals (`1591367999.305988`), `count`, `int` and
 *   `port` as integers, `bool` as `T`/`F`, `addr`/`subnet` as text;
 * - containers (`set[T]`, `vector[T]`; `table[T]` in Bro 2.x logs) as their elements
 *   joined by `#set_separator`, and an empty container as `#empty_field` (`(empty)`);
 * - an unset value as `#unset_field` (`-`);
 * - strings with the separators, non-printable bytes and the exact unset/empty markers
 *   escaped as `\xHH`.
 *
 * Values are attacker-controlled; a value that does not fit its type refuses the row.
 */
import type { ZeekValue } from '../detect/index.js';
import { readAddress, readCount, readDecimal, readInteger, readPort, readToken } from './field-values.js';
import { excerpt, refuse } from './record-refused.js';

type Scalar = 'time' | 'interval' | 'double' | 'count' | 'int' | 'port' | 'addr' | 'subnet' | 'bool' | 'string';

/** A parsed `#types` entry. Unknown scalar types (enum, pattern, …) read as strings. */
export interface ZeekType {
  readonly scalar: Scalar;
  readonly container: boolean;
}

/** The markers a log's header declares. */
export interface ZeekMarkers {
  readonly setSeparator: string;
  readonly emptyField: string;
  readonly unsetField: string;
}

const TYPE = /^(?:(set|vector|table)\[([a-z_]{1,32})\]|([a-z_]{1,32}))$/;
const SCALARS = new Set<string>(['time', 'interval', 'double', 'count', 'int', 'port', 'addr', 'subnet', 'bool', 'string']);

/** A `#types` entry, or undefined when it is not one. */
export function parseZeekType(text: string): ZeekType | undefined {
  const m = TYPE.exec(text);
  if (m === null) return undefined;
  const name = m[2] ?? m[3]!;
  return { scalar: SCALARS.has(name) ? (name as Scalar) : 'string', container: m[1] !== undefined };
}

/**
 * Undoes Zeek's `\xHH` escapes; the bytes they name are read as UTF-8 together with the
 * text around them. Other backslashes are kept as they are.
 */
export function unescapeZeek(text: string): string {
  if (!text.includes('\\x')) return text;
  const bytes = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x5c && bytes[i + 1] === 0x78 && isHex(bytes[i + 2]) && isHex(bytes[i + 3])) {
      out[n++] = parseInt(String.fromCharCode(bytes[i + 2]!, bytes[i + 3]!), 16);
      i += 3;
    } else {
      out[n++] = bytes[i]!;
    }
  }
  return out.toString('utf8', 0, n);
}

function isHex(b: number | undefined): boolean {
  return b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));
}

function scalarValue(text: string, scalar: Scalar, field: string, markers: ZeekMarkers): ZeekValue {
  switch (scalar) {
    case 'time':
    case 'interval':
    case 'double':
      return readDecimal(text, field);
    case 'count':
      return readCount(text, field);
    case 'int':
      return readInteger(text, field);
    case 'port':
      return readPort(text, field);
    case 'addr':
      return readAddress(text, field);
    case 'subnet':
      return readToken(text, field, 64);
    case 'bool':
      if (text !== 'T' && text !== 'F') refuse(`${field}: not T or F: ${excerpt(text)}`);
      return text === 'T';
    case 'string':
      return text === markers.emptyField ? '' : unescapeZeek(text);
  }
}

/** The value of one field of type `type`: null when unset. */
export function zeekFieldValue(text: string, type: ZeekType, field: string, markers: ZeekMarkers): ZeekValue | null {
  if (text === markers.unsetField) return null;
  if (!type.container) return scalarValue(text, type.scalar, field, markers);
  if (text === markers.emptyField) return [];
  return text.split(markers.setSeparator).map((element) => scalarValue(element, type.scalar, field, markers));
}
