/** A patient chain's signed head (ledger/chain-head.ts): strict text, sign → open, and no confusion with checkpoints. */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { CHAIN_HEAD_KIND, formatChainHead, openChainHead, parseChainHead, signChainHead } from '../../src/ledger/chain-head.js';
import { openCheckpoint, parseCheckpoint, signCheckpoint } from '../../src/ledger/checkpoint.js';
import { NoteVerifierSet } from '../../src/ledger/note-verifier.js';
import { ed25519NoteSigner } from '../../src/ledger/note-signer.js';
import { ed25519NoteVerifier } from '../../src/ledger/note-verifier.js';
import { formatSignedNote } from '../../src/ledger/signed-note.js';
import { LOG_ORIGIN, logSigner, logVerifier, testKey, toyCheckpoint } from './note-fixtures.js';

const malformed = expect.objectContaining({ code: 'request-malformed' });
const logVerifiers = new NoteVerifierSet([logVerifier]);

describe('chain heads', () => {
  it('formats the five lines, and parses them back', () => {
    const text = formatChainHead({ origin: LOG_ORIGIN, patient: 'p-1.a', size: 1200, head: 1187 });
    expect(text).toBe(`${LOG_ORIGIN}\n${CHAIN_HEAD_KIND}\nPatient/p-1.a\n1200\n1187\n`);
    expect(parseChainHead(text)).toEqual({ origin: LOG_ORIGIN, patient: 'p-1.a', size: 1200, head: 1187 });
    expect(parseChainHead(formatChainHead({ origin: LOG_ORIGIN, patient: 'p', size: 0, head: null }))).toEqual({ origin: LOG_ORIGIN, patient: 'p', size: 0, head: null });
  });

  it.each([
    ['no final newline', `o\n${CHAIN_HEAD_KIND}\nPatient/p\n2\n1`],
    ['four lines', `o\n${CHAIN_HEAD_KIND}\nPatient/p\n2\n`],
    ['six lines', `o\n${CHAIN_HEAD_KIND}\nPatient/p\n2\n1\nx\n`],
    ['an empty origin', `\n${CHAIN_HEAD_KIND}\nPatient/p\n2\n1\n`],
    ['another kind', `o\ncustodia patient-chain head v2\nPatient/p\n2\n1\n`],
    ['another resource type', `o\n${CHAIN_HEAD_KIND}\nGroup/p\n2\n1\n`],
    ['an id that is no FHIR id', `o\n${CHAIN_HEAD_KIND}\nPatient/p q\n2\n1\n`],
    ['an id of 65 characters', `o\n${CHAIN_HEAD_KIND}\nPatient/${'a'.repeat(65)}\n2\n1\n`],
    ['a leading zero in the size', `o\n${CHAIN_HEAD_KIND}\nPatient/p\n02\n1\n`],
    ['a head at the size', `o\n${CHAIN_HEAD_KIND}\nPatient/p\n2\n2\n`],
    ['a negative head', `o\n${CHAIN_HEAD_KIND}\nPatient/p\n2\n-1\n`],
    ['a head that is neither', `o\n${CHAIN_HEAD_KIND}\nPatient/p\n2\nnull\n`],
    ['a size beyond 2^53', `o\n${CHAIN_HEAD_KIND}\nPatient/p\n9007199254740993\n1\n`],
  ])('refuses %s', (_, text) => {
    expect(() => parseChainHead(text)).toThrow(malformed);
  });

  it('refuses to format what it could not parse back', () => {
    expect(() => formatChainHead({ origin: LOG_ORIGIN, patient: 'p', size: 3, head: 3 })).toThrow(expect.objectContaining({ code: 'internal' }));
    expect(() => formatChainHead({ origin: LOG_ORIGIN, patient: 'p/q', size: 3, head: 1 })).toThrow(expect.objectContaining({ code: 'internal' }));
    expect(() => formatChainHead({ origin: 'two\nlines', patient: 'p', size: 3, head: 1 })).toThrow(expect.objectContaining({ code: 'internal' }));
  });

  it('opens only under the log key, and a head is never read as a checkpoint, nor a checkpoint as a head', () => {
    const note = signChainHead({ origin: LOG_ORIGIN, patient: 'p1', size: 5, head: 3 }, [logSigner]);
    expect(openChainHead(note, logVerifiers)).toEqual({ origin: LOG_ORIGIN, patient: 'p1', size: 5, head: 3 });
    const other = testKey(LOG_ORIGIN, 0x01, 'another key of the same name');
    expect(() => openChainHead(note, new NoteVerifierSet([ed25519NoteVerifier(other.verifierKey)]))).toThrow(expect.objectContaining({ code: 'forbidden' }));
    const forged = signChainHead({ origin: LOG_ORIGIN, patient: 'p1', size: 5, head: 3 }, [ed25519NoteSigner(other.privateKey)]);
    expect(() => openChainHead(forged, logVerifiers)).toThrow(expect.objectContaining({ code: 'forbidden' }));
    // The same key signs both kinds of note: neither passes for the other.
    expect(() => openCheckpoint(note, logVerifiers)).toThrow(malformed);
    const checkpoint = formatSignedNote(signCheckpoint(toyCheckpoint(5), [logSigner]));
    expect(() => openChainHead(checkpoint, logVerifiers)).toThrow(malformed);
    // A signed head with one line changed no longer verifies.
    expect(() => openChainHead(note.replace('\n3\n', '\n4\n'), logVerifiers)).toThrow(expect.objectContaining({ code: 'forbidden' }));
  });

  test.prop([fc.stringMatching(/^[A-Za-z0-9\-.]{1,64}$/), fc.nat({ max: 2 ** 40 }), fc.option(fc.nat({ max: 2 ** 40 }), { nil: null })])('round-trips any head below its size (property)', (patient, extra, head) => {
    const size = (head ?? 0) + extra + 1;
    const text = formatChainHead({ origin: LOG_ORIGIN, patient, size, head });
    expect(parseChainHead(text)).toEqual({ origin: LOG_ORIGIN, patient, size, head });
    expect(() => parseCheckpoint(text)).toThrow(malformed);
  });
});
