/**
 * The bounded line splitter: line ends (LF, CRLF, none at the end), the byte order mark,
 * positions, the length limit (an overlong line is refused and not gathered), control
 * characters and UTF-8; and that where the chunks break never changes the lines.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { LineSplitter, type SplitLine } from '../../src/ingest/line-splitter.js';
import { runs } from './seeded.js';

function split(chunks: readonly (string | Uint8Array)[], options?: ConstructorParameters<typeof LineSplitter>[0]): SplitLine[] {
  const s = new LineSplitter(options);
  const out = chunks.flatMap((c) => s.push(typeof c === 'string' ? Buffer.from(c, 'utf8') : c));
  return [...out, ...s.end()];
}

const texts = (lines: readonly SplitLine[]): (string | undefined)[] => lines.map((l) => ('text' in l ? l.text : undefined));

describe('LineSplitter', () => {
  it('splits LF and CRLF lines and keeps a last line without a newline', () => {
    expect(split(['a\nb\r\nc'])).toEqual([
      { line: 1, offset: 0, text: 'a' },
      { line: 2, offset: 2, text: 'b' },
      { line: 3, offset: 5, text: 'c' },
    ]);
    expect(texts(split(['a\n']))).toEqual(['a']);
    expect(texts(split(['a\n\n']))).toEqual(['a', '']);
  });

  it('has no lines for an empty input', () => {
    expect(split([])).toEqual([]);
    expect(split([''])).toEqual([]);
  });

  it('drops a UTF-8 byte order mark at the start only, even split across chunks', () => {
    expect(texts(split(['\ufeffa\n\ufeffb']))).toEqual(['a', '\ufeffb']);
    expect(texts(split([Buffer.from([0xef]), Buffer.from([0xbb]), Buffer.from([0xbf, 0x61])]))).toEqual(['a']);
    expect(texts(split(['\ufeff']))).toEqual(['']);
  });

  it('joins a line that spans chunks', () => {
    expect(split(['ab', 'c', 'd\ne', 'f'])).toEqual([
      { line: 1, offset: 0, text: 'abcd' },
      { line: 2, offset: 5, text: 'ef' },
    ]);
  });

  it('refuses a line over the limit and reads on; a CR does not count', () => {
    const max = 8;
    expect(split(['12345678\n123456789\n12345678\r\nok'], { maxLineBytes: max })).toEqual([
      { line: 1, offset: 0, text: '12345678' },
      { line: 2, offset: 9, refused: 'line longer than 8 bytes' },
      { line: 3, offset: 19, text: '12345678' },
      { line: 4, offset: 29, text: 'ok' },
    ]);
    expect(split(['123456789'], { maxLineBytes: max })).toEqual([{ line: 1, offset: 0, refused: 'line longer than 8 bytes' }]);
  });

  it('drops an overlong line as it arrives: 16 MiB without a newline keeps nothing', () => {
    const s = new LineSplitter();
    const mib = Buffer.alloc(1024 * 1024, 0x61);
    for (let i = 0; i < 16; i++) expect(s.push(mib)).toEqual([]);
    expect((s as unknown as { pendingBytes: number }).pendingBytes).toBe(0);
    expect(s.push(Buffer.from('a\nnext\n'))).toEqual([
      { line: 1, offset: 0, refused: 'line longer than 65536 bytes' },
      { line: 2, offset: 16 * 1024 * 1024 + 2, text: 'next' },
    ]);
  });

  it('refuses NUL and other control characters, but not TAB', () => {
    expect(split(['a\u0000b\nc\u001bd\ne\rf\ng\th\n'])).toEqual([
      { line: 1, offset: 0, refused: 'a NUL or other control character' },
      { line: 2, offset: 4, refused: 'a NUL or other control character' },
      { line: 3, offset: 8, refused: 'a NUL or other control character' },
      { line: 4, offset: 12, text: 'g\th' },
    ]);
  });

  it('refuses bytes that are not UTF-8, or replaces them when asked', () => {
    const cp1252 = Buffer.from([0x57, 0x65, 0x62, 0x20, 0x96, 0x20, 0x58, 0x0a]); // "Web – X" in Windows-1252
    expect(split([cp1252])).toEqual([{ line: 1, offset: 0, refused: 'not UTF-8 text' }]);
    expect(split([cp1252], { invalidUtf8: 'replace' })).toEqual([{ line: 1, offset: 0, text: 'Web \ufffd X' }]);
    expect(texts(split(['é, ü, 中\n']))).toEqual(['é, ü, 中']);
  });

  test.prop([fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat({ max: 600 }), { maxLength: 8 })], runs(400))(
    'the lines do not depend on where the chunks break',
    (bytes, cuts) => {
      const points = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((a, b) => a - b);
      const chunks: Uint8Array[] = [];
      let from = 0;
      for (const p of [...points, bytes.length]) {
        chunks.push(bytes.subarray(from, p));
        from = p;
      }
      expect(split(chunks, { maxLineBytes: 40 })).toEqual(split([bytes], { maxLineBytes: 40 }));
    },
  );
});
