/** tlog-checkpoint: the spec's example, strict parsing of every line, and sign → open round trips. */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { isCustodiaError } from '../../src/kernel/index.js';
import { EMPTY_TREE_ROOT, formatCheckpoint, openCheckpoint, parseCheckpoint, parseTreeSize, signCheckpoint, type Checkpoint } from '../../src/ledger/checkpoint.js';
import { NoteVerifierSet } from '../../src/ledger/note-verifier.js';
import { signNote } from '../../src/ledger/note-signer.js';
import { formatSignedNote, parseSignedNote } from '../../src/ledger/signed-note.js';
import { LOG_ORIGIN, logSigner, logVerifier, SPEC, toyCheckpoint } from './note-fixtures.js';

const malformed = expect.objectContaining({ code: 'request-malformed' });
const internal = expect.objectContaining({ code: 'internal' });
const ROOT = 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=';

describe('parseCheckpoint', () => {
  it('reads the tlog-checkpoint example', () => {
    const cp = parseCheckpoint(parseSignedNote(SPEC.checkpointExample.note).text);
    expect(cp).toEqual({ origin: SPEC.checkpointExample.origin, size: SPEC.checkpointExample.size, rootHash: Buffer.from(SPEC.checkpointExample.rootHash, 'base64'), extensions: [] });
    expect(formatCheckpoint(cp)).toBe(parseSignedNote(SPEC.checkpointExample.note).text);
  });

  it('keeps extension lines, and takes any non-empty origin (clients MUST NOT assume its format)', () => {
    const cp = parseCheckpoint(`odd origin+with spaces\n0\n${EMPTY_TREE_ROOT.toString('base64')}\next one\n— ext two\n`);
    expect(cp.origin).toBe('odd origin+with spaces');
    expect(cp.size).toBe(0);
    expect(cp.extensions).toEqual(['ext one', '— ext two']);
  });

  it.each([
    ['no final newline', `o\n1\n${ROOT}`],
    ['two lines', `o\n1\n`],
    ['an empty origin', `\n1\n${ROOT}\n`],
    ['an empty extension line', `o\n1\n${ROOT}\n\n`],
    ['an empty line between extensions', `o\n1\n${ROOT}\na\n\nb\n`],
    ['a leading zero', `o\n01\n${ROOT}\n`],
    ['a double zero', `o\n00\n${ROOT}\n`],
    ['a negative size', `o\n-1\n${ROOT}\n`],
    ['a plus sign', `o\n+1\n${ROOT}\n`],
    ['a space in the size', `o\n 1\n${ROOT}\n`],
    ['a hexadecimal size', `o\n0x10\n${ROOT}\n`],
    ['an exponent', `o\n1e3\n${ROOT}\n`],
    ['a size of 2^53', `o\n9007199254740992\n${ROOT}\n`],
    ['a size of 2^64 - 1', `o\n18446744073709551615\n${ROOT}\n`],
    ['a 31-byte root', `o\n1\n${Buffer.alloc(31).toString('base64')}\n`],
    ['a 33-byte root', `o\n1\n${Buffer.alloc(33).toString('base64')}\n`],
    ['an unpadded root', `o\n1\n${ROOT.slice(0, -1)}\n`],
    ['a base64url root', `o\n1\n${Buffer.alloc(32, 0xff).toString('base64url')}=\n`],
    ['a carriage return', `o\r\n1\n${ROOT}\n`],
    ['a control character', `o\u0007\n1\n${ROOT}\n`],
  ])('refuses %s', (_why, text) => {
    expect(() => parseCheckpoint(text)).toThrow(malformed);
  });

  it('parses sizes up to 2^53 - 1 exactly', () => {
    expect(parseTreeSize('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseTreeSize('0')).toBe(0);
    expect(parseTreeSize('')).toBeUndefined();
    expect(parseTreeSize('12345678901234567')).toBeUndefined();
  });
});

describe('formatCheckpoint', () => {
  it('writes the empty tree with the RFC 6962 empty root', () => {
    expect(EMPTY_TREE_ROOT.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(formatCheckpoint({ origin: 'example.com/log', size: 0, rootHash: EMPTY_TREE_ROOT, extensions: [] })).toBe('example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n');
  });

  const ok: Checkpoint = { origin: 'o', size: 1, rootHash: Buffer.alloc(32), extensions: [] };
  it.each([
    ['a negative size', { ...ok, size: -1 }],
    ['a fractional size', { ...ok, size: 1.5 }],
    ['an unsafe size', { ...ok, size: 2 ** 53 }],
    ['a short root', { ...ok, rootHash: Buffer.alloc(31) }],
    ['an empty origin', { ...ok, origin: '' }],
    ['a newline in the origin', { ...ok, origin: 'a\nb' }],
    ['an empty extension', { ...ok, extensions: [''] }],
    ['a control character', { ...ok, origin: 'a\rb' }],
    ['a lone surrogate', { ...ok, extensions: ['\udc00'] }],
  ])('refuses %s', (_why, cp) => {
    expect(() => formatCheckpoint(cp)).toThrow(internal);
  });

  const line = fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/[\u0000-\u001f]/.test(s));
  const checkpoint = fc.record({
    origin: line,
    size: fc.oneof(fc.nat(), fc.constant(0), fc.constant(Number.MAX_SAFE_INTEGER)),
    rootHash: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b)),
    extensions: fc.array(line, { maxLength: 3 }),
  });

  test.prop([checkpoint])('parse(format(c)) = c', (cp) => {
    expect(parseCheckpoint(formatCheckpoint(cp))).toEqual(cp);
  });

  test.prop([fc.string({ maxLength: 120 })])('arbitrary text parses or fails with request-malformed', (text) => {
    try {
      const cp = parseCheckpoint(text);
      expect(formatCheckpoint(cp)).toBe(text);
    } catch (e) {
      expect(isCustodiaError(e, 'request-malformed')).toBe(true);
    }
  });
});

describe('signed checkpoints', () => {
  const trusted = new NoteVerifierSet([logVerifier]);

  it('open only under the log key, and only then are they read', () => {
    const cp = toyCheckpoint(7, 'honest', LOG_ORIGIN, ['x']);
    const note = formatSignedNote(signCheckpoint(cp, [logSigner]));
    const opened = openCheckpoint(note, trusted);
    expect(opened.checkpoint).toEqual(cp);
    expect(opened.note.verified[0]!.name).toBe(LOG_ORIGIN);
    expect(() => openCheckpoint(note.replace('\n7\n', '\n8\n'), trusted)).toThrow(expect.objectContaining({ code: 'forbidden' }));
    expect(() => openCheckpoint(note, new NoteVerifierSet([]))).toThrow(expect.objectContaining({ code: 'forbidden' }));
  });

  it('refuse a validly signed note that is not a checkpoint', () => {
    const note = formatSignedNote(signNote('hello\n', [logSigner]));
    expect(() => openCheckpoint(Buffer.from(note), trusted)).toThrow(malformed);
  });
});
