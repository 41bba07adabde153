/**
 * Splits a byte stream into text lines, bounded: the input is attacker-controlled, so a
 * line longer than the limit (64 KiB by default) is refused and its bytes are dropped as
 * they arrive, never gathered. Memory stays at one chunk plus one line whatever the
 * file holds.
 *
 * - Lines end at LF; a CR before the LF is dropped (CRLF files). The last line needs no
 *   newline. An empty input has no lines.
 * - A UTF-8 byte order mark at the start of the input is dropped.
 * - A line holding a NUL or another control character (other than TAB) is refused:
 *   none of the formats read here has them, and they are how binary junk shows.
 * - A line that is not UTF-8 is refused, or decoded with U+FFFD for the bad bytes when
 *   the format allows it (CIC-IDS2017's labels carry a Windows-1252 dash).
 *
 * Positions are 1-based line numbers and the byte offset where the line starts.
 */
import { isUtf8 } from 'node:buffer';

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

/** One line: its text, or why it was refused. */
export type SplitLine =
  | { readonly line: number; readonly offset: number; readonly text: string }
  | { readonly line: number; readonly offset: number; readonly refused: string };

export interface LineSplitterOptions {
  readonly maxLineBytes?: number;
  /** What to do with a line that is not UTF-8: refuse it (default) or replace the bad bytes. */
  readonly invalidUtf8?: 'refuse' | 'replace';
}

const LF = 0x0a;
const CR = 0x0d;
// Built from constants only. TAB (0x09) is a separator in Zeek logs; LF cannot occur.
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

export class LineSplitter {
  private readonly maxLineBytes: number;
  private readonly replaceInvalid: boolean;
  private parts: Uint8Array[] = [];
  private pendingBytes = 0;
  /** The current line is over the limit: its bytes are being dropped until the next LF. */
  private overlong = false;
  private nextLine = 1;
  private lineStart = 0;
  private consumed = 0;

  constructor(options: LineSplitterOptions = {}) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.replaceInvalid = options.invalidUtf8 === 'replace';
  }

  /** The complete lines in `chunk` (with what earlier chunks left over). */
  push(chunk: Uint8Array): SplitLine[] {
    const out: SplitLine[] = [];
    let from = 0;
    for (let lf = chunk.indexOf(LF, from); lf !== -1; lf = chunk.indexOf(LF, from)) {
      out.push(this.finishLine(chunk.subarray(from, lf)));
      this.lineStart = this.consumed + lf + 1;
      from = lf + 1;
    }
    this.keep(chunk.subarray(from));
    this.consumed += chunk.length;
    return out;
  }

  /** The last line, when the input does not end with a newline. */
  end(): SplitLine[] {
    if (this.pendingBytes === 0 && !this.overlong) return [];
    return [this.finishLine(new Uint8Array(0))];
  }

  private keep(rest: Uint8Array): void {
    if (rest.length === 0 || this.overlong) return;
    if (this.pendingBytes + rest.length > this.maxLineBytes + 1) {
      this.drop();
      return;
    }
    // A copy: a view would pin the whole chunk for as long as the line is incomplete.
    this.parts.push(new Uint8Array(rest));
    this.pendingBytes += rest.length;
  }

  private drop(): void {
    this.overlong = true;
    this.parts = [];
    this.pendingBytes = 0;
  }

  private finishLine(tail: Uint8Array): SplitLine {
    const line = this.nextLine++;
    const offset = this.lineStart;
    const overlong = this.overlong || this.pendingBytes + tail.length > this.maxLineBytes + 1;
    let bytes = overlong ? tail : this.pendingBytes === 0 ? tail : Buffer.concat([...this.parts, tail]);
    this.parts = [];
    this.pendingBytes = 0;
    this.overlong = false;
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === CR) end--;
    if (overlong || end > this.maxLineBytes) return { line, offset, refused: `line longer than ${this.maxLineBytes} bytes` };
    let start = 0;
    if (offset === 0 && end >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
    bytes = bytes.subarray(start, end);
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    if (!this.replaceInvalid && !isUtf8(buf)) return { line, offset, refused: 'not UTF-8 text' };
    const text = buf.toString('utf8');
    if (CONTROL.test(text)) return { line, offset, refused: 'a NUL or other control character' };
    return { line, offset, text };
  }
}
