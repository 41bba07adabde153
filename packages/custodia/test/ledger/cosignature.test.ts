/**
 * tlog-cosignature/v1 (Ed25519, type 0x04): the signed message of the spec, the key IDs
 * and timestamps of published cosignatures, and the binding of a cosignature to its
 * timestamp, its checkpoint (extension lines included) and its key.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/kernel/index.js';
import { formatCheckpoint } from '../../src/ledger/checkpoint.js';
import { COSIGNATURE_V1_BYTES, cosignatureMessage, cosignatureSigner, cosignatureTimestamp, cosignatureVerifier } from '../../src/ledger/cosignature.js';
import { parsePrivateKey, parseVerifierKey, SIGNATURE_TYPE_COSIGNATURE_V1 } from '../../src/ledger/note-key.js';
import { signNote } from '../../src/ledger/note-signer.js';
import { ed25519NoteVerifier, NoteVerifierSet, openNote, verifyNote } from '../../src/ledger/note-verifier.js';
import { formatSignedNote, parseSignedNote } from '../../src/ledger/signed-note.js';
import { LOG_KEY, logSigner, logVerifier, SPEC, TD, testKey, toyCheckpoint, toyCheckpointText, WITNESS_KEY, WITNESS_NAME, witnessVerifier } from './note-fixtures.js';

const T0 = 1_700_000_000;
const clockAt = (seconds: number): ManualClock => new ManualClock(seconds * 1000 + 999);
const forbidden = expect.objectContaining({ code: 'forbidden' });
const invalid = expect.objectContaining({ code: 'config-invalid' });
const malformed = expect.objectContaining({ code: 'request-malformed' });

describe('the cosignature/v1 message', () => {
  it('is the spec example byte for byte', () => {
    const body = parseSignedNote(SPEC.cosignatureExample.note).text;
    expect(cosignatureMessage(1679315147, body).toString('utf8')).toBe(SPEC.cosignatureExample.signedMessage);
    expect(cosignatureMessage(1679315147n, Buffer.from(body)).toString('utf8')).toBe(SPEC.cosignatureExample.signedMessage);
  });

  it('writes the timestamp in decimal without leading zeroes, up to 2^63 - 1', () => {
    expect(cosignatureMessage(0, 'x\n').toString()).toBe('cosignature/v1\ntime 0\nx\n');
    expect(cosignatureMessage(2n ** 63n - 1n, 'x\n').toString()).toBe('cosignature/v1\ntime 9223372036854775807\nx\n');
    expect(() => cosignatureMessage(2n ** 63n, 'x\n')).toThrow(expect.objectContaining({ code: 'internal' }));
    expect(() => cosignatureMessage(-1, 'x\n')).toThrow(expect.objectContaining({ code: 'internal' }));
  });

  it('timestamps of published cosignatures: the spec example and a real witness (transparency-dev)', () => {
    const witness = parseSignedNote(SPEC.cosignatureExample.note).signatures[1]!;
    expect(witness.signature).toHaveLength(COSIGNATURE_V1_BYTES);
    expect(cosignatureTimestamp(witness.signature)).toBe(SPEC.cosignatureExample.witnessTimestamp);
    const real = Buffer.from(TD.cosignatureTimestamp.signature, 'base64');
    expect(cosignatureTimestamp(real.subarray(4))).toBe(TD.cosignatureTimestamp.timestamp);
    expect(() => cosignatureTimestamp(Buffer.from(TD.cosignatureTimestamp.notACosignature, 'base64').subarray(4))).toThrow(malformed);
    const far = Buffer.alloc(COSIGNATURE_V1_BYTES);
    far.writeBigUInt64BE(2n ** 53n);
    expect(() => cosignatureTimestamp(far)).toThrow(malformed);
  });
});

describe('cosigning', () => {
  const text = toyCheckpointText(5);

  it('signs key ID ‖ timestamp ‖ Ed25519(message) with the clock’s second, and verifies', () => {
    const cosigner = cosignatureSigner(WITNESS_KEY.privateKey, clockAt(T0));
    const k = parseVerifierKey(WITNESS_KEY.verifierKey);
    expect(cosigner).toMatchObject({ name: WITNESS_NAME, keyId: k.keyId, verifierKey: WITNESS_KEY.verifierKey });
    const note = signNote(text, [cosigner]);
    const sig = note.signatures[0]!;
    expect(sig.signature).toHaveLength(72);
    expect(cosignatureTimestamp(sig.signature)).toBe(T0);
    const v = openNote(formatSignedNote(note), new NoteVerifierSet([witnessVerifier]));
    expect(v.verified[0]!.name).toBe(WITNESS_NAME);
  });

  it('is bound to its timestamp: changing it breaks the signature', () => {
    const note = signNote(text, [cosignatureSigner(WITNESS_KEY.privateKey, clockAt(T0))]);
    const sig = Buffer.from(note.signatures[0]!.signature);
    sig.writeBigUInt64BE(BigInt(T0 + 1));
    expect(witnessVerifier.verify(Buffer.from(text), sig)).toBe(false);
    expect(witnessVerifier.verify(Buffer.from(text), note.signatures[0]!.signature)).toBe(true);
  });

  it('is bound to the whole checkpoint, extension lines included', () => {
    const withExt = formatCheckpoint(toyCheckpoint(5, 'honest', undefined, ['ext 1']));
    const note = signNote(withExt, [cosignatureSigner(WITNESS_KEY.privateKey, clockAt(T0))]);
    const sig = note.signatures[0]!.signature;
    expect(witnessVerifier.verify(Buffer.from(withExt), sig)).toBe(true);
    expect(witnessVerifier.verify(Buffer.from(withExt.replace('ext 1', 'ext 2')), sig)).toBe(false);
    expect(witnessVerifier.verify(Buffer.from(text), sig)).toBe(false);
  });

  it('is not a plain Ed25519 note signature: the type 0x01 verifier of the same key ignores it (other key ID)', () => {
    const pub = parseVerifierKey(WITNESS_KEY.verifierKey).publicKey;
    const plain = ed25519NoteVerifier({ name: WITNESS_NAME, keyId: 0, type: 0x01, publicKey: pub });
    const note = signNote(text, [cosignatureSigner(WITNESS_KEY.privateKey, clockAt(T0))]);
    expect(plain.verify(Buffer.from(text), note.signatures[0]!.signature)).toBe(false);
  });

  it('fails under another witness key', () => {
    const other = testKey('witness.example/w2', SIGNATURE_TYPE_COSIGNATURE_V1);
    const note = signNote(text, [cosignatureSigner(other.privateKey, clockAt(T0))]);
    const impostor = { ...note.signatures[0]!, name: WITNESS_NAME, keyId: witnessVerifier.keyId };
    expect(() => verifyNote({ text, signatures: [impostor] }, new NoteVerifierSet([witnessVerifier]))).toThrow(forbidden);
  });

  it('refuses wrong lengths, timestamps beyond 2^63 - 1, and (with a clock) the future', () => {
    const note = signNote(text, [cosignatureSigner(WITNESS_KEY.privateKey, clockAt(T0))]);
    const sig = note.signatures[0]!.signature;
    expect(witnessVerifier.verify(Buffer.from(text), sig.subarray(1))).toBe(false);
    expect(witnessVerifier.verify(Buffer.from(text), Buffer.concat([sig, Buffer.alloc(1)]))).toBe(false);
    const huge = Buffer.from(sig);
    huge.writeBigUInt64BE(2n ** 63n);
    expect(witnessVerifier.verify(Buffer.from(text), huge)).toBe(false);

    const clock = clockAt(T0 - 301);
    const strict = cosignatureVerifier(WITNESS_KEY.verifierKey, { clock });
    expect(strict.verify(Buffer.from(text), sig)).toBe(false);
    clock.set((T0 - 300) * 1000);
    expect(strict.verify(Buffer.from(text), sig)).toBe(true);
    const exact = cosignatureVerifier(parseVerifierKey(WITNESS_KEY.verifierKey), { clock: clockAt(T0 - 1), maxClockSkewSeconds: 0 });
    expect(exact.verify(Buffer.from(text), sig)).toBe(false);
    expect(() => cosignatureVerifier(WITNESS_KEY.verifierKey, { maxClockSkewSeconds: -1 })).toThrow(invalid);
  });

  it('cosigns only checkpoints, and only after the epoch', () => {
    const cosigner = cosignatureSigner(parsePrivateKey(WITNESS_KEY.privateKey), clockAt(T0));
    expect(() => signNote('not a checkpoint\n', [cosigner])).toThrow(malformed);
    expect(() => signNote(text, [cosignatureSigner(WITNESS_KEY.privateKey, new ManualClock(999))])).toThrow(expect.objectContaining({ code: 'internal' }));
    expect(() => signNote(text, [cosignatureSigner(WITNESS_KEY.privateKey, new ManualClock(Number.MAX_VALUE))])).toThrow(expect.objectContaining({ code: 'internal' }));
  });

  it('needs keys of type 0x04 (one key per signature type)', () => {
    expect(() => cosignatureSigner(LOG_KEY.privateKey, clockAt(T0))).toThrow(invalid);
    expect(() => cosignatureVerifier(LOG_KEY.verifierKey)).toThrow(invalid);
    expect(cosignatureVerifier(TD.cosignatureVerifierKey)).toMatchObject({ name: 'remora.n621.de', keyId: 0xda77ade7 });
  });

  it('sit next to the log signature in one note, each verified by its own key', () => {
    const logSigned = signNote(text, [logSigner]);
    const cosigned = signNote(logSigned, [cosignatureSigner(WITNESS_KEY.privateKey, clockAt(T0))]);
    const v = openNote(formatSignedNote(cosigned), new NoteVerifierSet([logVerifier, witnessVerifier]));
    expect(v.verified.map((s) => s.name)).toEqual(['custodia.example/ledger', WITNESS_NAME]);
  });

  test.prop([fc.integer({ min: 1, max: 2 ** 40 }), fc.nat(), fc.integer({ min: 0, max: 7 })])('any timestamp round-trips, and any flipped bit fails', (seconds, at, bit) => {
    const sig = signNote(text, [cosignatureSigner(WITNESS_KEY.privateKey, clockAt(seconds))]).signatures[0]!.signature;
    expect(cosignatureTimestamp(sig)).toBe(seconds);
    expect(witnessVerifier.verify(Buffer.from(text), sig)).toBe(true);
    const flipped = Buffer.from(sig);
    flipped[at % flipped.length]! ^= 1 << bit;
    expect(witnessVerifier.verify(Buffer.from(text), flipped)).toBe(false);
  });
});
