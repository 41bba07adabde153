/**
 * C2SP signed-note format: the spec's examples parse, parse-then-format is the identity,
 * and every deviation from the format is refused with `request-malformed`, never with
 * another error and never silently.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { isCustodiaError } from '../../src/kernel/index.js';
import {
  checkNoteText,
  formatSignatureLine,
  formatSignedNote,
  isValidKeyName,
  MAX_NOTE_BYTES,
  MAX_SIGNATURES,
  parseSignatureLines,
  parseSignedNote,
  type NoteSignature,
} from '../../src/ledger/signed-note.js';
import { C2SP, SPEC, XMOD } from './note-fixtures.js';

const malformed = expect.objectContaining({ code: 'request-malformed' });
const D = '\u2014';
const SIG = 'x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=';
const line = (name = 'PeterNeumann', b64 = SIG): string => `${D} ${name} ${b64}\n`;

describe('parseSignedNote', () => {
  it('reads the C2SP signed-note example (a UTF-8 text with an empty line inside)', () => {
    const note = parseSignedNote(SPEC.signedNoteExample.note);
    expect(note.text).toBe(SPEC.signedNoteExample.text);
    expect(note.signatures).toHaveLength(1);
    expect(note.signatures[0]!.name).toBe('quasimodo.example/salvatore');
    expect(note.signatures[0]!.signature).toHaveLength(64);
    expect(formatSignedNote(note)).toBe(SPEC.signedNoteExample.note);
  });

  it('reads the verifier-key example: key ID first, big-endian, then 64 signature bytes', () => {
    const note = parseSignedNote(Buffer.from(C2SP.signed_note, 'utf8'));
    expect(note.text).toBe(C2SP.signed_message_bytes);
    expect(note.signatures[0]!.keyId).toBe(0x530d903a);
    expect(note.signatures[0]!.signature).toHaveLength(64);
  });

  it('reads the cosigned checkpoint of tlog-cosignature, signatures in order', () => {
    const note = parseSignedNote(SPEC.cosignatureExample.note);
    expect(note.signatures.map((s) => s.name)).toEqual(['example.com/behind-the-sofa', 'witness.example.com/w1']);
    expect(note.signatures[1]!.signature).toHaveLength(72);
    expect(formatSignedNote(note)).toBe(SPEC.cosignatureExample.note);
  });

  it('separates text from signatures at the last blank line', () => {
    const text = `a\n\n${line().trimEnd()}\n\nb\n\n`;
    expect(parseSignedNote(`${text}\n${line()}`).text).toBe(text);
    expect(parseSignedNote(`\n\n${line()}`).text).toBe('\n');
    // A blank line among signature lines makes the ones above it part of the text.
    expect(parseSignedNote(`${TEXT}\n${line()}\n${line()}`).text).toBe(`${TEXT}\n${line()}`);
  });

  const TEXT = XMOD.text;
  // x/mod's TestOpen "Invalid encoded message syntax", and more.
  it.each([
    ['no blank line', TEXT],
    ['nothing after the blank line', `${TEXT}\n`],
    ['a signature line without its newline', `${TEXT}\n${line().slice(0, -1)}`],
    ['an ASCII control character', `\u0001${TEXT}\n${line()}`],
    ['a carriage return', `${TEXT.replace('\n', '\r\n')}\n${line()}`],
    ['a tab', `a\tb\n\n${line()}`],
    ['a lone surrogate', `\ud800${TEXT}\n${line()}`],
    ['a key name with a space', `${TEXT}\n${D} Bad Name ${SIG}\n`],
    ['a key name with a no-break space', `${TEXT}\n${D} Bad\u00a0Name ${SIG}\n`],
    ['a key name with a plus', `${TEXT}\n${line('a+b')}`],
    ['an empty key name', `${TEXT}\n${D}  ${SIG}\n`],
    ['no signature after the name', `${TEXT}\n${D} PeterNeumann\n`],
    ['an empty signature', `${TEXT}\n${D} PeterNeumann \n`],
    ['a second space', `${TEXT}\n${D} PeterNeumann  ${SIG}\n`],
    ['a trailing space', `${TEXT}\n${D} PeterNeumann ${SIG} \n`],
    ['a hyphen instead of an em dash', `${TEXT}\n- PeterNeumann ${SIG}\n`],
    ['no space after the em dash', `${TEXT}\n${D}PeterNeumann ${SIG}\n`],
    ['an unexpected line after the signatures', `${TEXT}\n${line()}Unexpected line.\n`],
    ['base64url', `${TEXT}\n${line('PeterNeumann', SIG.replace('/', '_'))}`],
    ['base64 without padding', `${TEXT}\n${line('PeterNeumann', SIG.slice(0, -1))}`],
    ['non-zero pad bits', `${TEXT}\n${line('PeterNeumann', 'AAAAAB==')}`],
    ['a key ID with no signature', `${TEXT}\n${line('PeterNeumann', 'AAAAAA==')}`],
  ])('refuses %s', (_why, message) => {
    expect(() => parseSignedNote(message)).toThrow(malformed);
  });

  it('refuses bytes that are not UTF-8, and never decodes them with replacement characters', () => {
    const bytes = Buffer.concat([Buffer.from([0xff]), Buffer.from(`${TEXT}\n${line()}`)]);
    expect(() => parseSignedNote(bytes)).toThrow(malformed);
    expect(() => parseSignedNote(Buffer.from([0x61, 0xc3, 0x0a, 0x0a]))).toThrow(malformed);
  });

  it('keeps a byte-order mark as text rather than dropping it', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${TEXT}\n${line()}`)]);
    expect(parseSignedNote(bytes).text.startsWith('\ufeff')).toBe(true);
  });

  it('limits the number of signatures (100 by default, never fewer than 16) and the size', () => {
    const many = (n: number): string => `${TEXT}\n${line().repeat(n)}`;
    expect(parseSignedNote(many(MAX_SIGNATURES)).signatures).toHaveLength(MAX_SIGNATURES);
    expect(() => parseSignedNote(many(MAX_SIGNATURES + 1))).toThrow(malformed);
    expect(parseSignedNote(many(16), { maxSignatures: 16 }).signatures).toHaveLength(16);
    expect(() => parseSignedNote(many(17), { maxSignatures: 16 })).toThrow(malformed);
    expect(() => parseSignedNote(many(1), { maxSignatures: 15 })).toThrow(expect.objectContaining({ code: 'config-invalid' }));
    expect(() => parseSignedNote(many(1), { maxBytes: 0 })).toThrow(expect.objectContaining({ code: 'config-invalid' }));
    const note = many(1);
    expect(parseSignedNote(note, { maxBytes: Buffer.byteLength(note) }).text).toBe(TEXT);
    expect(() => parseSignedNote(note, { maxBytes: Buffer.byteLength(note) - 1 })).toThrow(malformed);
    expect(() => parseSignedNote(Buffer.from(note), { maxBytes: Buffer.byteLength(note) - 1 })).toThrow(malformed);
    expect(() => parseSignedNote(`${'x'.repeat(MAX_NOTE_BYTES)}\n\n${line()}`)).toThrow(malformed);
  });
});

describe('parseSignatureLines', () => {
  it('reads the example response body of tlog-witness', () => {
    const sigs = parseSignatureLines(SPEC.addCheckpointExample.responseExample);
    expect(sigs.map((s) => s.name)).toEqual(['witness.example/w1', 'witness.example/w1', 'witness.example/w2']);
    expect(sigs.map(formatSignatureLine).join('')).toBe(SPEC.addCheckpointExample.responseExample);
    expect(parseSignatureLines(Buffer.from(SPEC.addCheckpointExample.responseExample))).toHaveLength(3);
  });

  it.each([
    ['an empty body', ''],
    ['no final newline', line().trimEnd()],
    ['a blank line', `${line()}\n`],
    ['a control character', `${line()}\u0000`],
    ['plain text', 'hello\n'],
  ])('refuses %s', (_why, block) => {
    expect(() => parseSignatureLines(block)).toThrow(malformed);
  });
});

describe('formatting', () => {
  const sig: NoteSignature = { name: 'n', keyId: 0xffffffff, signature: Buffer.from([1]) };

  it('writes the key ID big-endian before the signature', () => {
    expect(formatSignatureLine(sig)).toBe(`${D} n /////wE=\n`);
    expect(formatSignatureLine({ ...sig, keyId: 0 })).toBe(`${D} n AAAAAAE=\n`);
  });

  it('refuses what it could not parse back', () => {
    for (const bad of [{ ...sig, name: 'a b' }, { ...sig, keyId: -1 }, { ...sig, keyId: 2 ** 32 }, { ...sig, keyId: 1.5 }, { ...sig, signature: Buffer.alloc(0) }]) {
      expect(() => formatSignatureLine(bad)).toThrow(expect.objectContaining({ code: 'internal' }));
    }
    expect(() => formatSignedNote({ text: 'no newline', signatures: [sig] })).toThrow(malformed);
    expect(() => formatSignedNote({ text: 'a\rb\n', signatures: [sig] })).toThrow(malformed);
    expect(() => formatSignedNote({ text: 'unsigned\n', signatures: [] })).toThrow(malformed);
    expect(() => checkNoteText('')).toThrow(malformed);
  });

  it('checks key names as the spec says: non-empty, no Unicode space, no plus', () => {
    for (const ok of ['example.com/log42', 'PeterNeumann', 'oid/1.3.6.1.4.1', '\u00e9t\u00e9', '\u2014', 'a\u200bb']) expect(isValidKeyName(ok)).toBe(true);
    for (const bad of ['', 'a b', 'a+b', 'a\tb', 'a\u00a0b', 'a\u0085b', 'a\u2003b', 'a\u3000b', 'a\u2028b', 'a\u0000b', '\ud800']) expect(isValidKeyName(bad)).toBe(false);
  });
});

describe('properties', () => {
  const name = fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }).filter(isValidKeyName);
  const signature = fc.record({ name, keyId: fc.integer({ min: 0, max: 0xffffffff }), signature: fc.uint8Array({ minLength: 1, maxLength: 80 }).map((b) => Buffer.from(b)) });
  const textLine = fc.string({ maxLength: 40, unit: 'grapheme' }).map((s) => s.replace(/[\u0000-\u001f]/g, ''));
  const text = fc.array(textLine, { minLength: 1, maxLength: 6 }).map((lines) => `${lines.join('\n')}\n`);

  test.prop([text, fc.array(signature, { minLength: 1, maxLength: 20 })])('format then parse gives the note back, and parse then format the text', (t, signatures) => {
    const encoded = formatSignedNote({ text: t, signatures });
    const parsed = parseSignedNote(encoded);
    expect(parsed.text).toBe(t);
    expect(parsed.signatures).toEqual(signatures);
    expect(formatSignedNote(parsed)).toBe(encoded);
    expect(parseSignedNote(Buffer.from(encoded, 'utf8'))).toEqual(parsed);
  });

  test.prop([fc.oneof(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300, unit: 'binary' }), fc.uint8Array({ maxLength: 300 }))])(
    'arbitrary input either parses or fails with request-malformed, nothing else',
    (input) => {
      try {
        const note = parseSignedNote(input);
        expect(note.signatures.length).toBeGreaterThan(0);
      } catch (e) {
        expect(isCustodiaError(e, 'request-malformed')).toBe(true);
      }
    },
  );

  test.prop([text, fc.array(signature, { minLength: 1, maxLength: 4 }), fc.nat(), fc.constantFrom('\r', '\u0000', '\u001f', '\t', '\u000b')])(
    'a control character anywhere is refused',
    (t, signatures, at, ch) => {
      const encoded = formatSignedNote({ text: t, signatures });
      const i = at % (encoded.length + 1);
      expect(() => parseSignedNote(encoded.slice(0, i) + ch + encoded.slice(i))).toThrow(malformed);
    },
  );
});
