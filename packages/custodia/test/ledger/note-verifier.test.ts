/**
 * Signing and verifying notes: x/mod's TestSign and TestOpen known answers, the C2SP
 * example, and the signed-note rules — unknown keys ignored, known keys always checked,
 * one bad known signature rejects the note, at least one known valid signature required.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/kernel/index.js';
import { generateNoteKey, parsePrivateKey, parseVerifierKey, SIGNATURE_TYPE_COSIGNATURE_V1, SIGNATURE_TYPE_ED25519 } from '../../src/ledger/note-key.js';
import { ed25519NoteSigner, signNote, type NoteSigner } from '../../src/ledger/note-signer.js';
import { ed25519NoteVerifier, NoteVerifierSet, openNote, verifyNote, type NoteVerifier } from '../../src/ledger/note-verifier.js';
import { formatSignedNote, parseSignedNote } from '../../src/ledger/signed-note.js';
import { C2SP, testKey, XMOD } from './note-fixtures.js';

const forbidden = expect.objectContaining({ code: 'forbidden' });
const malformed = expect.objectContaining({ code: 'request-malformed' });
const invalid = expect.objectContaining({ code: 'config-invalid' });

const peter = ed25519NoteVerifier(XMOD.peterVerifierKey);
const enoch = ed25519NoteVerifier(XMOD.enochVerifierKey);
const peterSigner = ed25519NoteSigner(XMOD.peterPrivateKey);
const { text, peterSignatureLine: peterSig, enochSignatureLine: enochSig } = XMOD;

/** Inserts "ABCD" into a signature line's base64, as x/mod's TestOpen does: still well formed, no longer valid. */
const corrupt = (line: string): string => `${line.slice(0, 60)}ABCD${line.slice(60)}`;

describe('signNote', () => {
  it('gives x/mod TestSign its exact answer', () => {
    expect(formatSignedNote(signNote(text, [peterSigner]))).toBe(`${text}\n${peterSig}`);
  });

  it('replaces an existing signature of the same key, and keeps the others before the new ones', () => {
    const stale = { name: 'PeterNeumann', keyId: 0xc74f20a3, signature: Buffer.from('bad') };
    const other = parseSignedNote(`${text}\n${enochSig}`).signatures[0]!;
    expect(formatSignedNote(signNote({ text, signatures: [stale, other] }, [peterSigner]))).toBe(`${text}\n${enochSig}${peterSig}`);
  });

  it('refuses a text without a final newline, no signers, bad names and duplicate signers', () => {
    expect(() => signNote('abc', [peterSigner])).toThrow(malformed);
    expect(() => signNote(text, [])).toThrow(expect.objectContaining({ code: 'internal' }));
    expect(() => signNote(text, [{ ...peterSigner, name: 'bad name' }])).toThrow(expect.objectContaining({ code: 'internal' }));
    expect(() => signNote(text, [peterSigner, peterSigner])).toThrow(expect.objectContaining({ code: 'internal' }));
  });

  it('takes only type 0x01 keys for plain Ed25519 signers and verifiers', () => {
    const cosignKey = testKey('w', SIGNATURE_TYPE_COSIGNATURE_V1);
    expect(() => ed25519NoteSigner(cosignKey.privateKey)).toThrow(invalid);
    expect(() => ed25519NoteVerifier(cosignKey.verifierKey)).toThrow(invalid);
    expect(ed25519NoteSigner(parsePrivateKey(XMOD.peterPrivateKey)).keyId).toBe(0xc74f20a3);
    expect(ed25519NoteVerifier(parseVerifierKey(XMOD.peterVerifierKey)).keyId).toBe(0xc74f20a3);
  });
});

describe('verifyNote', () => {
  it('verifies the C2SP example with its vkey', () => {
    const v = openNote(C2SP.signed_note, new NoteVerifierSet([ed25519NoteVerifier(C2SP.vkey)]));
    expect(v.text).toBe(C2SP.signed_message_bytes);
    expect(v.verified.map((s) => [s.name, s.keyId])).toEqual([['example.com/foo', 0x530d903a]]);
    expect(v.unknown).toEqual([]);
  });

  it('reports one verified and one unknown signature (x/mod TestOpen)', () => {
    const v = openNote(`${text}\n${peterSig}${enochSig}`, new NoteVerifierSet([peter]));
    expect(v.text).toBe(text);
    expect(v.verified.map((s) => s.name)).toEqual(['PeterNeumann']);
    expect(v.verified[0]!.verifier).toBe(peter);
    expect(v.unknown.map((s) => [s.name, s.keyId])).toEqual([['EnochRoot', 0xaf0cfe78]]);
  });

  it('verifies both when both keys are known', () => {
    const v = openNote(`${text}\n${peterSig}${enochSig}`, new NoteVerifierSet([peter, enoch]));
    expect(v.verified.map((s) => s.name)).toEqual(['PeterNeumann', 'EnochRoot']);
    expect(v.unknown).toEqual([]);
  });

  it('rejects a note no known key signed', () => {
    expect(() => openNote(`${text}\n${peterSig}${enochSig}`, new NoteVerifierSet([]))).toThrow(forbidden);
    const stranger = ed25519NoteVerifier(testKey('stranger').verifierKey);
    expect(() => openNote(`${text}\n${peterSig}`, new NoteVerifierSet([stranger]))).toThrow(forbidden);
  });

  it('rejects the whole note when a known key signed wrongly, even next to a valid signature', () => {
    expect(() => openNote(`${text}\n${corrupt(peterSig)}`, new NoteVerifierSet([peter]))).toThrow(forbidden);
    expect(() => openNote(`${text}\n${enochSig}${corrupt(peterSig)}`, new NoteVerifierSet([peter, enoch]))).toThrow(forbidden);
    // x/mod only checks a key's first signature; every one is checked here.
    expect(() => openNote(`${text}\n${peterSig}${corrupt(peterSig)}`, new NoteVerifierSet([peter]))).toThrow(forbidden);
  });

  it('reports repeated signatures once, and keeps distinct unknown ones (x/mod TestOpen duplicates)', () => {
    const v = openNote(`${text}\n${peterSig}${peterSig}${enochSig}${enochSig}${corrupt(enochSig)}`, new NoteVerifierSet([peter]));
    expect(v.verified).toHaveLength(1);
    expect(v.unknown).toHaveLength(2);
    expect(v.unknown[1]!.signature.equals(parseSignedNote(`${text}\n${corrupt(enochSig)}`).signatures[0]!.signature)).toBe(true);
  });

  it('ignores signatures that share only the name, or only the key ID, with a known key', () => {
    const sameName = signNote(text, [ed25519NoteSigner(testKey('PeterNeumann', SIGNATURE_TYPE_ED25519, 'impostor').privateKey)]);
    expect(sameName.signatures[0]!.keyId).not.toBe(0xc74f20a3);
    const v = verifyNote({ text, signatures: [...sameName.signatures, ...parseSignedNote(`${text}\n${peterSig}`).signatures] }, new NoteVerifierSet([peter]));
    expect(v.unknown.map((s) => s.name)).toEqual(['PeterNeumann']);
    const sameId = { name: 'CarmenSandiego', keyId: 0xc74f20a3, signature: Buffer.alloc(64) };
    expect(() => verifyNote({ text, signatures: [sameId] }, new NoteVerifierSet([peter]))).toThrow(forbidden);
  });

  it('checks a signature whose name and key ID collide with a known key, and rejects it', () => {
    // An attacker can grind a key whose ID collides; all they get is a failed verification.
    const impostor = signNote(text, [{ ...ed25519NoteSigner(testKey('PeterNeumann', SIGNATURE_TYPE_ED25519, 'grinder').privateKey), keyId: 0xc74f20a3 }]);
    expect(() => verifyNote(impostor, new NoteVerifierSet([peter]))).toThrow(forbidden);
  });

  it('rejects a tampered text', () => {
    expect(() => openNote(`${text.replace('problem', 'pr0blem')}\n${peterSig}`, new NoteVerifierSet([peter]))).toThrow(forbidden);
    expect(() => openNote(`${text}extra line\n\n${peterSig}`, new NoteVerifierSet([peter]))).toThrow(forbidden);
  });

  it('refuses malformed notes before looking at keys, and honours limits', () => {
    expect(() => openNote(`${text}\n${peterSig.repeat(101)}`, new NoteVerifierSet([peter]))).toThrow(malformed);
    expect(() => openNote(`${text}\n${peterSig.repeat(17)}`, new NoteVerifierSet([peter]), { maxSignatures: 16 })).toThrow(malformed);
    expect(() => openNote(`${text}\n${peterSig.slice(0, -1)}`, new NoteVerifierSet([peter]))).toThrow(malformed);
  });
});

describe('NoteVerifierSet', () => {
  it('looks keys up by name and key ID together', () => {
    const set = new NoteVerifierSet([peter, enoch]);
    expect(set.size).toBe(2);
    expect(set.get('PeterNeumann', 0xc74f20a3)).toBe(peter);
    expect(set.get('PeterNeumann', 0xc74f20a4)).toBeUndefined();
    expect(set.get('PeterNeuman', 0xc74f20a3)).toBeUndefined();
  });

  it('refuses two verifiers for the same name and key ID (x/mod: ambiguous key), and invalid ones', () => {
    expect(() => new NoteVerifierSet([enoch, peter, enoch])).toThrow(invalid);
    const fake = (name: string, keyId: number): NoteVerifier => ({ name, keyId, verify: () => true });
    for (const bad of [fake('a b', 1), fake('a', -1), fake('a', 2 ** 32), fake('a', 0.5)]) expect(() => new NoteVerifierSet([bad])).toThrow(invalid);
  });
});

describe('properties', () => {
  const keys = Array.from({ length: 3 }, (_, i) => generateNoteKey(`k${i}.example`, SIGNATURE_TYPE_ED25519, seededRandom(`prop-${i}`)));
  const signers: NoteSigner[] = keys.map((k) => ed25519NoteSigner(k.privateKey));
  const verifiers = keys.map((k) => ed25519NoteVerifier(k.verifierKey));
  const noteText = fc.array(fc.string({ maxLength: 30 }).map((s) => s.replace(/[\u0000-\u001f]/g, '')), { minLength: 1, maxLength: 5 }).map((l) => `${l.join('\n')}\n`);

  test.prop([noteText, fc.subarray([0, 1, 2], { minLength: 1 }), fc.subarray([0, 1, 2])])(
    'a note verifies exactly when a trusted key signed it, and reports exactly the trusted signers',
    (t, signedBy, trusted) => {
      const encoded = formatSignedNote(signNote(t, signedBy.map((i) => signers[i]!)));
      const set = new NoteVerifierSet(trusted.map((i) => verifiers[i]!));
      const expected = signedBy.filter((i) => trusted.includes(i));
      if (expected.length === 0) {
        expect(() => openNote(encoded, set)).toThrow(forbidden);
      } else {
        const v = openNote(encoded, set);
        expect(v.verified.map((s) => s.name)).toEqual(expected.map((i) => `k${i}.example`));
        expect(v.unknown).toHaveLength(signedBy.length - expected.length);
      }
    },
  );

  test.prop([noteText, fc.nat(), fc.integer({ min: 0, max: 7 })])('a flipped bit in a trusted signature rejects the note', (t, at, bit) => {
    const note = signNote(t, [signers[0]!]);
    const sig = Buffer.from(note.signatures[0]!.signature);
    sig[at % sig.length]! ^= 1 << bit;
    expect(() => verifyNote({ text: t, signatures: [{ ...note.signatures[0]!, signature: sig }] }, new NoteVerifierSet([verifiers[0]!]))).toThrow(forbidden);
  });

  test.prop([noteText, noteText])('a signature does not carry over to another text', (t, other) => {
    fc.pre(t !== other);
    const note = signNote(t, [signers[0]!]);
    expect(() => verifyNote({ text: other, signatures: note.signatures }, new NoteVerifierSet([verifiers[0]!]))).toThrow(forbidden);
  });
});
