/**
 * The witness's add-checkpoint decision, case by case as tlog-witness lists them, on a toy
 * log (note-fixtures.ts) whose consistency proofs are checked by an injected stub.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { CustodiaError, ManualClock } from '../../src/kernel/index.js';
import { formatAddCheckpointRequest, parseAddCheckpointRequest, parseTreeSizeBody, type AddCheckpointRequest } from '../../src/ledger/add-checkpoint-request.js';
import { EMPTY_TREE_ROOT, signCheckpoint, type Checkpoint } from '../../src/ledger/checkpoint.js';
import { cosignatureSigner, cosignatureTimestamp } from '../../src/ledger/cosignature.js';
import { SIGNATURE_TYPE_COSIGNATURE_V1 } from '../../src/ledger/note-key.js';
import { ed25519NoteSigner, signNote, type NoteSigner } from '../../src/ledger/note-signer.js';
import { NoteVerifierSet, openNote, verifyNote } from '../../src/ledger/note-verifier.js';
import { parseSignatureLines, parseSignedNote } from '../../src/ledger/signed-note.js';
import { witnessAddCheckpoint, witnessResponse, type AddCheckpointOutcome, type WitnessConfig, type WitnessLogState } from '../../src/ledger/witness-protocol.js';
import { LOG_ORIGIN, logSigner, logVerifier, testKey, toyCheckpoint, toyProof, toyRoot, toyVerifyConsistency, WITNESS_KEY, witnessCosigner, witnessVerifier } from './note-fixtures.js';

const T0 = 1_750_000_000_000;
const clock = new ManualClock(T0);
const strangerSigner = ed25519NoteSigner(testKey('stranger.example/log').privateKey);

function config(overrides: Partial<WitnessConfig> = {}): WitnessConfig {
  return { logs: new Map([[LOG_ORIGIN, new NoteVerifierSet([logVerifier])]]), cosigners: [witnessCosigner(clock)], verifyConsistency: toyVerifyConsistency, ...overrides };
}

interface RequestOptions {
  readonly proof?: Buffer[];
  readonly signers?: NoteSigner[];
  readonly checkpoint?: Checkpoint;
}

/** A request as a log would send it, through the wire format. */
function request(oldSize: number, size: number, lineage = 'honest', o: RequestOptions = {}): AddCheckpointRequest {
  const proof = o.proof ?? (oldSize === 0 || oldSize === size ? [] : toyProof(oldSize, size));
  const checkpoint = signCheckpoint(o.checkpoint ?? toyCheckpoint(size, lineage), o.signers ?? [logSigner]);
  return parseAddCheckpointRequest(formatAddCheckpointRequest({ oldSize, proof, checkpoint }));
}

function cosigned(outcome: AddCheckpointOutcome): Extract<AddCheckpointOutcome, { kind: 'cosigned' }> {
  if (outcome.kind !== 'cosigned') throw new Error(`expected cosigned, got ${JSON.stringify(outcome)}`);
  return outcome;
}

/** The witness state after cosigning `size` (honest) from scratch. */
const stateAt = (size: number): WitnessLogState => cosigned(witnessAddCheckpoint(undefined, request(0, size), config())).state;

describe('200: cosigned', () => {
  it('cosigns a log’s first checkpoint (old size 0, no proof), and remembers it', () => {
    const out = cosigned(witnessAddCheckpoint(undefined, request(0, 10), config()));
    expect(out.status).toBe(200);
    expect(out.checkpoint).toEqual(toyCheckpoint(10));
    expect(out.state).toMatchObject({ origin: LOG_ORIGIN, size: 10, rootHash: toyRoot(10) });
    expect(out.cosignatures).toHaveLength(1);
    expect(out.cosignatures[0]!.name).toBe('witness.example/w1');
    expect(cosignatureTimestamp(out.cosignatures[0]!.signature)).toBe(T0 / 1000);
  });

  it('answers with cosignature lines that verify on the checkpoint under the witness key', () => {
    const req = request(0, 10);
    const res = witnessResponse(witnessAddCheckpoint(undefined, req, config()));
    expect(res).toMatchObject({ status: 200, contentType: 'text/plain; charset=utf-8' });
    const v = verifyNote({ text: req.checkpoint.text, signatures: parseSignatureLines(res.body) }, new NoteVerifierSet([witnessVerifier]));
    expect(v.verified.map((s) => s.name)).toEqual(['witness.example/w1']);
  });

  it('stores the checkpoint for monitors with the log signatures it verified and its cosignatures, not the unknown ones', () => {
    const req = request(0, 10, 'honest', { signers: [strangerSigner, logSigner] });
    const { state } = cosigned(witnessAddCheckpoint(undefined, req, config()));
    const note = parseSignedNote(state.signedCheckpoint);
    expect(note.signatures.map((s) => s.name)).toEqual([LOG_ORIGIN, 'witness.example/w1']);
    expect(openNote(state.signedCheckpoint, new NoteVerifierSet([logVerifier, witnessVerifier])).verified).toHaveLength(2);
  });

  it('cosigns growth proven consistent from the checkpoint it last cosigned', () => {
    const out = cosigned(witnessAddCheckpoint(stateAt(10), request(10, 15), config()));
    expect(out.state.size).toBe(15);
  });

  it('cosigns the same checkpoint again, with a fresh timestamp', () => {
    const before = stateAt(10);
    clock.advance(60_000);
    const out = cosigned(witnessAddCheckpoint(before, request(10, 10), config()));
    expect(out.state.rootHash.equals(before.rootHash)).toBe(true);
    expect(cosignatureTimestamp(out.cosignatures[0]!.signature)).toBe(T0 / 1000 + 60);
    clock.set(T0);
  });

  it('cosigns the empty tree with the empty root, and grows from it without a proof', () => {
    const empty = cosigned(witnessAddCheckpoint(undefined, request(0, 0), config())).state;
    expect(empty.rootHash.equals(EMPTY_TREE_ROOT)).toBe(true);
    expect(cosigned(witnessAddCheckpoint(empty, request(0, 4), config())).state.size).toBe(4);
  });

  it('adds one cosignature per witness key', () => {
    const second = cosignatureSigner(testKey('witness.example/w2', SIGNATURE_TYPE_COSIGNATURE_V1).privateKey, clock);
    const out = cosigned(witnessAddCheckpoint(undefined, request(0, 3), config({ cosigners: [witnessCosigner(clock), second] })));
    expect(out.cosignatures.map((s) => s.name)).toEqual(['witness.example/w1', 'witness.example/w2']);
  });

  it('cosigns a checkpoint with extension lines, which the cosignature covers', () => {
    const cp = toyCheckpoint(3, 'honest', LOG_ORIGIN, ['ext']);
    const out = cosigned(witnessAddCheckpoint(undefined, request(0, 3, 'honest', { checkpoint: cp }), config()));
    expect(out.checkpoint.extensions).toEqual(['ext']);
  });
});

describe('404: unknown log', () => {
  it('refuses an origin it has no keys for, before checking anything else', () => {
    const cp = toyCheckpoint(3, 'honest', 'stranger.example/log');
    const out = witnessAddCheckpoint(undefined, request(0, 3, 'honest', { checkpoint: cp, signers: [strangerSigner] }), config());
    expect(out).toEqual({ status: 404, kind: 'unknown-log' });
    expect(witnessResponse(out)).toMatchObject({ status: 404, contentType: 'text/plain; charset=utf-8' });
  });
});

describe('403: bad signature', () => {
  it('refuses a checkpoint no trusted key signed (unknown keys are ignored)', () => {
    expect(witnessAddCheckpoint(undefined, request(0, 3, 'honest', { signers: [strangerSigner] }), config())).toEqual({ status: 403, kind: 'bad-signature' });
  });

  it('refuses a checkpoint whose trusted signature does not verify, even next to a valid one', () => {
    const good = signCheckpoint(toyCheckpoint(3), [logSigner]);
    const forged = { ...good.signatures[0]!, signature: Buffer.alloc(64, 1) };
    const req: AddCheckpointRequest = { oldSize: 0, proof: [], checkpoint: { text: good.text, signatures: [...good.signatures, forged] } };
    const out = witnessAddCheckpoint(undefined, req, config());
    expect(out).toEqual({ status: 403, kind: 'bad-signature' });
    expect(witnessResponse(out).status).toBe(403);
  });

  it('refuses a text changed after signing', () => {
    const good = signCheckpoint(toyCheckpoint(3), [logSigner]);
    const req: AddCheckpointRequest = { oldSize: 0, proof: [], checkpoint: { ...good, text: good.text.replace('\n3\n', '\n4\n') } };
    expect(witnessAddCheckpoint(undefined, req, config()).status).toBe(403);
  });
});

describe('400: malformed', () => {
  it('refuses a validly signed note that is not a checkpoint', () => {
    const note = signNote(`${LOG_ORIGIN}\nnot a size\n`, [logSigner]);
    const out = witnessAddCheckpoint(undefined, { oldSize: 0, proof: [], checkpoint: note }, config());
    expect(out).toMatchObject({ status: 400, kind: 'malformed' });
    expect(witnessResponse(out)).toMatchObject({ status: 400, body: 'the signed note is not a checkpoint\n' });
  });

  it('refuses a truncation: an old size above the checkpoint size', () => {
    const out = witnessAddCheckpoint(stateAt(10), request(10, 5, 'honest', { proof: [] }), config());
    expect(out).toMatchObject({ status: 400, kind: 'malformed', reason: 'the old size is larger than the checkpoint size' });
  });
});

describe('409: conflict', () => {
  it('tells a client with a stale old size the latest cosigned size', () => {
    const out = witnessAddCheckpoint(stateAt(10), request(5, 15), config());
    expect(out).toEqual({ status: 409, kind: 'conflict', latestSize: 10 });
    const res = witnessResponse(out);
    expect(res).toEqual({ status: 409, contentType: 'text/x.tlog.size', body: '10\n' });
    expect(parseTreeSizeBody(res.body)).toBe(10);
  });

  it('answers 0 when it never cosigned the log', () => {
    expect(witnessAddCheckpoint(undefined, request(5, 15), config())).toEqual({ status: 409, kind: 'conflict', latestSize: 0 });
  });

  it('refuses a truncation that claims the smaller size as its old size', () => {
    expect(witnessAddCheckpoint(stateAt(10), request(5, 5), config())).toEqual({ status: 409, kind: 'conflict', latestSize: 10 });
  });

  it('lets a client learn the latest size with old size 0', () => {
    expect(witnessAddCheckpoint(stateAt(10), request(0, 12), config())).toEqual({ status: 409, kind: 'conflict', latestSize: 10 });
  });
});

describe('422: inconsistent', () => {
  const inconsistent = (reason: string) => expect.objectContaining({ status: 422, kind: 'inconsistent', reason });

  it('refuses an empty tree whose root is not the hash of the empty string', () => {
    const cp = { ...toyCheckpoint(0), rootHash: toyRoot(1) };
    expect(witnessAddCheckpoint(undefined, request(0, 0, 'honest', { checkpoint: cp }), config())).toEqual(inconsistent('empty-tree-root'));
  });

  it('refuses a proof when the old size is zero', () => {
    expect(witnessAddCheckpoint(undefined, request(0, 5, 'honest', { proof: toyProof(1, 5) }), config())).toEqual(inconsistent('unexpected-proof'));
  });

  it('refuses a fork: the same size with another root, and keeps the log-signed evidence', () => {
    const out = witnessAddCheckpoint(stateAt(10), request(10, 10, 'fork'), config());
    expect(out).toEqual(inconsistent('fork'));
    if (out.kind !== 'inconsistent') throw new Error('unreachable');
    const evidence = openNote(out.evidence, new NoteVerifierSet([logVerifier]));
    expect(evidence.text).toContain(toyRoot(10, 'fork').toString('base64'));
    expect(parseSignedNote(out.evidence).signatures).toHaveLength(1);
    expect(witnessResponse(out)).toMatchObject({ status: 422 });
  });

  it('refuses a proof between equal sizes', () => {
    expect(witnessAddCheckpoint(stateAt(10), request(10, 10, 'honest', { proof: toyProof(5, 10) }), config())).toEqual(inconsistent('unexpected-proof'));
  });

  it('refuses growth whose proof does not verify, or a forked history with any proof', () => {
    expect(witnessAddCheckpoint(stateAt(10), request(10, 15, 'honest', { proof: [] }), config())).toEqual(inconsistent('bad-proof'));
    expect(witnessAddCheckpoint(stateAt(10), request(10, 15, 'honest', { proof: toyProof(9, 15) }), config())).toEqual(inconsistent('bad-proof'));
    expect(witnessAddCheckpoint(stateAt(10), request(10, 15, 'fork', { proof: toyProof(10, 15) }), config())).toEqual(inconsistent('bad-proof'));
  });

  it('proves from the root it stored, not from anything the client says', () => {
    const seen: unknown[] = [];
    const spy = config({ verifyConsistency: (p) => (seen.push(p), toyVerifyConsistency(p)) });
    cosigned(witnessAddCheckpoint(stateAt(10), request(10, 15), spy));
    expect(seen).toEqual([{ oldSize: 10, oldRoot: toyRoot(10), newSize: 15, newRoot: toyRoot(15), hashes: toyProof(10, 15) }]);
  });

  it('counts a typed error from the proof verifier as a failed proof, and lets other errors through', () => {
    const typed = config({ verifyConsistency: () => { throw new CustodiaError('request-malformed', 'bad proof length'); } });
    expect(witnessAddCheckpoint(stateAt(10), request(10, 15), typed)).toEqual(inconsistent('bad-proof'));
    const bug = config({ verifyConsistency: () => { throw new TypeError('bug'); } });
    expect(() => witnessAddCheckpoint(stateAt(10), request(10, 15), bug)).toThrow(TypeError);
  });
});

describe('misuse', () => {
  it('needs a cosigner, and the state of the request’s own log', () => {
    expect(() => witnessAddCheckpoint(undefined, request(0, 3), config({ cosigners: [] }))).toThrow(expect.objectContaining({ code: 'config-invalid' }));
    expect(() => witnessAddCheckpoint({ ...stateAt(3), origin: 'other' }, request(3, 3), config())).toThrow(expect.objectContaining({ code: 'internal' }));
  });

  it('lets unexpected errors from a log verifier through', () => {
    const broken = new NoteVerifierSet([{ name: logVerifier.name, keyId: logVerifier.keyId, verify: () => { throw new RangeError('broken'); } }]);
    expect(() => witnessAddCheckpoint(undefined, request(0, 3), config({ logs: new Map([[LOG_ORIGIN, broken]]) }))).toThrow(RangeError);
  });
});

describe('properties', () => {
  const step = fc.record({ size: fc.integer({ min: 0, max: 40 }), fork: fc.boolean(), old: fc.oneof(fc.constant('latest' as const), fc.integer({ min: 0, max: 40 })) });

  test.prop([fc.array(step, { maxLength: 25 })])(
    'whatever logs send, the witness never shrinks, never changes the root at a size, and only cosigns what it can prove',
    (steps) => {
      let state: WitnessLogState | undefined;
      for (const s of steps) {
        const oldSize = s.old === 'latest' ? (state?.size ?? 0) : s.old;
        const out = witnessAddCheckpoint(state, request(oldSize, s.size, s.fork ? 'fork' : 'honest'), config());
        expect([200, 400, 409, 422]).toContain(out.status);
        if (out.kind !== 'cosigned') continue;
        if (state !== undefined) {
          expect(out.state.size).toBeGreaterThanOrEqual(state.size);
          if (out.state.size === state.size) expect(out.state.rootHash.equals(state.rootHash)).toBe(true);
        }
        // A forked root is only ever cosigned as a log's first checkpoint (trust on first use), never after an honest one.
        if (state !== undefined && state.size > 0 && !state.rootHash.equals(toyRoot(state.size, 'fork'))) expect(out.state.rootHash.equals(toyRoot(out.state.size))).toBe(true);
        state = out.state;
      }
    },
  );

  it('uses the witness key configured, which clients can check', () => {
    expect(cosignatureSigner(WITNESS_KEY.privateKey, clock).verifierKey).toBe(WITNESS_KEY.verifierKey);
  });
});
