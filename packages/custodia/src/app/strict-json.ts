/**
 * JSON from an untrusted file (a saved `$access-log` Bundle handed to a verifier), parsed
 * strictly: a size limit checked before anything is decoded, UTF-8 without replacement
 * characters or a byte-order mark, RFC 8259 syntax, and no duplicate member names (RFC
 * 7493 I-JSON §2.3: with duplicates, two parsers may see two different documents — the
 * one verified and the one shown).
 */
import { CustodiaError } from '../kernel/index.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const malformed = (why: string): CustodiaError => new CustodiaError('ledger-invalid', `The file is not strict JSON: ${why}`);

/**
 * Parses `bytes` as I-JSON; `ledger-invalid` naming what is wrong.
 *
 * @example
 *   parseStrictJson(Buffer.from('{"a":1,"a":2}'), 1024); // throws: a duplicate member name
 */
export function parseStrictJson(bytes: Uint8Array, maxBytes: number): unknown {
  if (bytes.byteLength > maxBytes) throw malformed(`it is larger than ${maxBytes} bytes`);
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw malformed('it is not UTF-8');
  }
  if (text.startsWith('\uFEFF')) throw malformed('it starts with a byte-order mark');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed('it does not parse as JSON');
  }
  assertNoDuplicateNames(text);
  return value;
}

/** Walks text that JSON.parse accepted, keeping the member names of each open object (iteratively: no recursion depth to exhaust). */
function assertNoDuplicateNames(text: string): void {
  const open: (Set<string> | null)[] = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const names = open[open.length - 1];
      if (expectName && names instanceof Set) {
        const name = JSON.parse(text.slice(i, j + 1)) as string;
        if (names.has(name)) throw malformed(`a member name is repeated (${JSON.stringify(name.slice(0, 40))})`);
        names.add(name);
        expectName = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      open.push(new Set());
      expectName = true;
    } else if (c === 0x5b /* [ */) {
      open.push(null);
      expectName = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      open.pop();
      expectName = false;
    } else if (c === 0x2c /* , */) {
      expectName = open[open.length - 1] instanceof Set;
    }
  }
}
