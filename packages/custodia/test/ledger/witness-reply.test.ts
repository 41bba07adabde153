/**
 * The log reading a witness's answers (client side of tlog-witness §add-checkpoint), and
 * the cosigned note it publishes: only a line of the configured witness key that
 * verifies over the checkpoint is taken; a 409 must be text/x.tlog.size; anything else is
 * a refusal; lines of unknown keys are ignored; a tampered line or note is never believed.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/kernel/index.js';
import {
  cosignatureSigner,
  cosignatureVerifier,
  cosignNote,
  ed25519NoteVerifier,
  formatSignedNote,
  merkleConsistency,
  NoteVerifierSet,
  openNote,
  parseSignedNote,
  readWitnessReply,
  signCheckpoint,
  signNote,
  SIGNATURE_TYPE_COSIGNATURE_V1,
  verifiedCosignatures,
  witnessKeyRef,
  generateConsistencyProof,
  merkleRoot,
  hashLeaf,
} from '../../src/ledger/index.js';
import { LOG_KEY, logSigner, testKey, toyCheckpoint, toyCheckpointText, WITNESS_KEY, WITNESS_NAME } from './note-fixtures.js';
import { nodeStore } from './node-store.js';

const clock = new ManualClock(1_750_000_000_000);
const cosigner = cosignatureSigner(WITNESS_KEY.privateKey, clock);
const verifier = cosignatureVerifier(WITNESS_KEY.verifierKey);
const other = cosignatureSigner(testKey('witness.example/w2', SIGNATURE_TYPE_COSIGNATURE_V1).privateKey, clock);
const text = toyCheckpointText(10);
/** The 200 body a witness sends: its cosignature lines. */
const body = (...signers: (typeof cosigner)[]): string => formatSignedNote(signNote(text, signers)).slice(text.length + 1);

describe('readWitnessReply', () => {
  it("takes the configured witness's cosignature and ignores other keys' lines", () => {
    const out = readWitnessReply({ status: 200, contentType: 'text/plain; charset=utf-8', body: body(other, cosigner) }, text, verifier);
    expect(out.kind).toBe('cosigned');
    if (out.kind !== 'cosigned') return;
    expect(out.line).toMatch(new RegExp(`^— ${WITNESS_NAME} [A-Za-z0-9+/]+=*\\n$`));
    expect(out.timestamp).toBe(1_750_000_000);
    // The line verifies as a signature line on the checkpoint.
    expect(openNote(`${text}\n${out.line}`, new NoteVerifierSet([verifier])).verified).toHaveLength(1);
  });

  it('refuses an answer without its key, with a bad signature, over another checkpoint, or not signature lines', () => {
    expect(readWitnessReply({ status: 200, contentType: 'text/plain', body: body(other) }, text, verifier)).toMatchObject({ kind: 'bad-reply' });
    const good = body(cosigner);
    const flipped = good.replace(/([A-Za-z0-9+/])(=*\n)$/, (_m, c: string, rest: string) => `${c === 'A' ? 'B' : 'A'}${rest}`);
    expect(readWitnessReply({ status: 200, contentType: 'text/plain', body: flipped }, text, verifier).kind).toBe('bad-reply');
    expect(readWitnessReply({ status: 200, contentType: 'text/plain', body: good }, toyCheckpointText(11), verifier)).toMatchObject({ kind: 'bad-reply', reason: 'the cosignature does not verify' });
    for (const b of ['', 'hello\n', '— \n', `${good}junk`]) expect(readWitnessReply({ status: 200, contentType: 'text/plain', body: b }, text, verifier).kind, b).toBe('bad-reply');
  });

  it('reads a 409 only as text/x.tlog.size with a canonical size', () => {
    expect(readWitnessReply({ status: 409, contentType: 'text/x.tlog.size', body: '20852014\n' }, text, verifier)).toEqual({ kind: 'conflict', size: 20852014 });
    expect(readWitnessReply({ status: 409, contentType: 'Text/X.Tlog.Size; charset=utf-8', body: '7\n' }, text, verifier)).toEqual({ kind: 'conflict', size: 7 });
    expect(readWitnessReply({ status: 409, contentType: 'text/plain', body: '7\n' }, text, verifier).kind).toBe('bad-reply');
    expect(readWitnessReply({ status: 409, contentType: undefined, body: '7\n' }, text, verifier).kind).toBe('bad-reply');
    for (const b of ['07\n', '7', '-1\n', '9007199254740993\n', '']) expect(readWitnessReply({ status: 409, contentType: 'text/x.tlog.size', body: b }, text, verifier).kind, b).toBe('bad-reply');
  });

  it('calls every other status a refusal', () => {
    for (const status of [400, 403, 404, 422, 500, 503, 201, 302]) expect(readWitnessReply({ status, contentType: 'text/plain', body: body(cosigner) }, text, verifier)).toEqual({ kind: 'refused', status });
  });
});

describe('cosigned notes', () => {
  const note = formatSignedNote(signCheckpoint(toyCheckpoint(10), [logSigner]));
  const lineOf = (signer: typeof cosigner): string => body(signer);

  it('appends verified cosignatures after the log signature; the note verifies with the log key and each witness key', () => {
    const sigs = verifiedCosignatures(text, [lineOf(other), lineOf(cosigner)], [verifier, cosignatureVerifier(other.verifierKey)]);
    expect(sigs.map((s) => s.name)).toEqual([WITNESS_NAME, 'witness.example/w2']);
    const cosigned = cosignNote(note, sigs);
    const parsed = parseSignedNote(cosigned);
    expect(parsed.signatures).toHaveLength(3);
    expect(parsed.signatures[0]!.name).toBe(LOG_KEY.verifierKey.split('+')[0]);
    expect(openNote(cosigned, new NoteVerifierSet([ed25519NoteVerifier(LOG_KEY.verifierKey)])).verified).toHaveLength(1);
    expect(openNote(cosigned, new NoteVerifierSet([verifier, cosignatureVerifier(other.verifierKey)])).verified).toHaveLength(2);
  });

  it('drops lines that do not verify over the note, malformed lines and lines of unknown keys', () => {
    expect(verifiedCosignatures(toyCheckpointText(10, 'fork'), [lineOf(cosigner)], [verifier])).toEqual([]);
    expect(verifiedCosignatures(text, ['not a line', `${lineOf(cosigner)}${lineOf(cosigner)}`], [verifier])).toEqual([]);
    expect(verifiedCosignatures(text, [lineOf(other)], [verifier])).toEqual([]);
    // One per witness key, however many lines it has.
    expect(verifiedCosignatures(text, [lineOf(cosigner), lineOf(cosigner)], [verifier])).toHaveLength(1);
  });

  it('names a witness key by name and key ID', () => {
    expect(witnessKeyRef('witness.example/w1', 0xda77ade7)).toBe('witness.example/w1+da77ade7');
    expect(witnessKeyRef('w', 1)).toBe('w+00000001');
  });
});

describe('merkleConsistency', () => {
  it('accepts a real RFC 9162 consistency proof and counts a wrong one as an error', () => {
    const leaves = Array.from({ length: 13 }, (_, i) => hashLeaf(Buffer.from(`leaf ${i}`)));
    const store = nodeStore(leaves);
    const proof = generateConsistencyProof(store, 5, 13);
    const oldRoot = merkleRoot(leaves.slice(0, 5));
    const newRoot = merkleRoot(leaves);
    expect(merkleConsistency({ oldSize: 5, oldRoot, newSize: 13, newRoot, hashes: proof })).toBe(true);
    expect(() => merkleConsistency({ oldSize: 5, oldRoot: newRoot, newSize: 13, newRoot, hashes: proof })).toThrow(/does not verify/);
  });
});
