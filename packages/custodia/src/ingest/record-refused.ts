/**
 * Why a flow record was refused. Parsers throw it for one bad line; the source catches
 * it, counts the line and goes on (a bad record is never fatal). It never leaves
 * ingest/.
 *
 * A reason may quote a little of the input (a column name, a value) to be useful, and
 * the input is attacker-controlled: `excerpt` bounds it and escapes everything outside
 * printable ASCII, so a report can be logged and shown as it is.
 */
export class RecordRefused extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'RecordRefused';
  }
}

const EXCERPT_CHARS = 24;

/**
 * `text` quoted for a reason: at most 24 characters, then `…`; anything outside
 * printable ASCII as `\xHH` or `\u{…}`.
 *
 * @example
 *   excerpt('abc\u0000'); // '"abc\\x00"'
 */
export function excerpt(text: string): string {
  let out = '';
  let n = 0;
  for (const ch of text) {
    if (n === EXCERPT_CHARS) return `"${out}…"`;
    const code = ch.codePointAt(0)!;
    if (code >= 0x20 && code < 0x7f && ch !== '"' && ch !== '\\') out += ch;
    else if (code < 0x100) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += `\\u{${code.toString(16)}}`;
    n++;
  }
  return `"${out}"`;
}

/** Throws a RecordRefused: for parsers that refuse inside an expression. */
export function refuse(reason: string): never {
  throw new RecordRefused(reason);
}
