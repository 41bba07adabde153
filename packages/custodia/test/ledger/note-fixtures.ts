/** Shared test material for the ledger's note layer: the committed vectors, seeded keys, and a toy log for the witness. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { seededRandom, type Clock } from '../../src/kernel/index.js';
import { formatCheckpoint, type Checkpoint } from '../../src/ledger/checkpoint.js';
import { cosignatureSigner, cosignatureVerifier } from '../../src/ledger/cosignature.js';
import { generateNoteKey, SIGNATURE_TYPE_COSIGNATURE_V1, SIGNATURE_TYPE_ED25519 } from '../../src/ledger/note-key.js';
import { ed25519NoteSigner } from '../../src/ledger/note-signer.js';
import { ed25519NoteVerifier } from '../../src/ledger/note-verifier.js';
import type { ConsistencyProof } from '../../src/ledger/witness-protocol.js';

/** A committed vector file (test/fixtures/signed-note/PROVENANCE.md). */
export function vectors<T>(file: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/signed-note/${file}`, import.meta.url), 'utf8')) as T;
}

export interface SpecExamples {
  signedNoteExample: { note: string; text: string };
  checkpointExample: { note: string; origin: string; size: number; rootHash: string };
  cosignatureExample: { note: string; witnessTimestamp: number; signedMessage: string };
  addCheckpointExample: { body: string; oldSize: number; proofLines: number; responseExample: string; conflictExampleLatestSize: number };
}
export interface XModVectors {
  peterVerifierKey: string;
  peterPrivateKey: string;
  enochVerifierKey: string;
  text: string;
  peterSignatureLine: string;
  enochSignatureLine: string;
  badVerifierKeys: Record<string, string>;
}
export interface C2spVector {
  vkey: string;
  signed_note: string;
  signed_message_bytes: string;
}
export interface TransparencyDevVectors {
  cosignatureVerifierKey: string;
  ed25519VerifierKey: string;
  badVerifierKeys: Record<string, string>;
  cosignatureTimestamp: { signature: string; timestamp: number; notACosignature: string };
}

export const SPEC = vectors<SpecExamples>('c2sp-spec-examples.json');
export const XMOD = vectors<XModVectors>('x-mod-note-vectors.json');
export const C2SP = vectors<C2spVector>('c2sp-signed-note-vector.json');
export const TD = vectors<TransparencyDevVectors>('transparency-dev-cosignature-vectors.json');

/** A deterministic Ed25519 key pair of type 0x01 or 0x04. */
export function testKey(name: string, type: 0x01 | 0x04 = SIGNATURE_TYPE_ED25519, seed = name): { privateKey: string; verifierKey: string } {
  return generateNoteKey(name, type, seededRandom(`ledger-test:${seed}`));
}

export const LOG_ORIGIN = 'custodia.example/ledger';
export const LOG_KEY = testKey(LOG_ORIGIN);
export const logSigner = ed25519NoteSigner(LOG_KEY.privateKey);
export const logVerifier = ed25519NoteVerifier(LOG_KEY.verifierKey);

export const WITNESS_NAME = 'witness.example/w1';
export const WITNESS_KEY = testKey(WITNESS_NAME, SIGNATURE_TYPE_COSIGNATURE_V1);
export const witnessCosigner = (clock: Clock) => cosignatureSigner(WITNESS_KEY.privateKey, clock);
export const witnessVerifier = cosignatureVerifier(WITNESS_KEY.verifierKey);

const sha256 = (...parts: (string | Buffer)[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/**
 * A toy log (no Merkle code here: that is another module's job). The honest history has
 * root `sha256("honest", n)` at size n (the empty tree's real root at 0); a fork's roots
 * differ. A "proof" is one hash binding the two roots, accepted only between honest roots.
 */
export const toyRoot = (size: number, lineage = 'honest'): Buffer => (size === 0 ? sha256() : sha256(lineage, String(size)));
export const toyProof = (oldSize: number, newSize: number): Buffer[] => [sha256(toyRoot(oldSize), toyRoot(newSize))];
export function toyVerifyConsistency(p: ConsistencyProof): boolean {
  return (
    p.oldSize < p.newSize &&
    p.oldRoot.equals(toyRoot(p.oldSize)) &&
    p.newRoot.equals(toyRoot(p.newSize)) &&
    p.hashes.length === 1 &&
    p.hashes[0]!.equals(sha256(p.oldRoot, p.newRoot))
  );
}

export const toyCheckpoint = (size: number, lineage = 'honest', origin = LOG_ORIGIN, extensions: string[] = []): Checkpoint => ({ origin, size, rootHash: toyRoot(size, lineage), extensions });
export const toyCheckpointText = (size: number, lineage = 'honest'): string => formatCheckpoint(toyCheckpoint(size, lineage));
