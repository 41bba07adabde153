/**
 * The audit ledger (issue 5): an append-only Merkle log hashed per RFC 9162, C2SP signed
 * checkpoints, cosignatures and witnesses, hash tiles, and what the log commits to.
 */
// The tree (RFC 9162 §2.1) and its proofs.
export { HASH_SIZE, hashLeaf, hashChildren, emptyTreeHash, isHash } from './merkle-hash.js';
export { type TreeNode, rangeNodes, nodeRange, checkTreeSize } from './tree-math.js';
export { TreeBuilder, type NodeSink } from './tree-builder.js';
export { merkleRoot, rootFromReader } from './merkle-root.js';
export type { HashReader } from './hash-reader.js';
export { planNodes, assembleProof, type ProofPlan } from './proof-plan.js';
export { planInclusionProof, generateInclusionProof, rootFromInclusionProof, verifyInclusion } from './inclusion-proof.js';
export { planConsistencyProof, generateConsistencyProof, verifyConsistency } from './consistency-proof.js';
export { isProofMismatch } from './proof-error.js';
export { storedHashIndex, storedHashNode, storedHashCount } from './stored-hash-index.js';
// C2SP tlog-tiles.
export { TILE_HEIGHT, TILE_WIDTH, hashTilePath, entryBundlePath, parseTilePath, type HashTile, type EntryBundle, type TileRef } from './tile-path.js';
export { tileWidth, changedTiles, tileNodes, readTile, splitTile } from './hash-tile.js';
export { inclusionProofFromTiles, consistencyProofFromTiles, rootFromTiles, verifyInclusionFromTiles, verifyConsistencyFromTiles, type TileFetcher } from './tile-proofs.js';
// C2SP signed-note, tlog-checkpoint, tlog-cosignature, tlog-witness.
export { encodeBase64, decodeBase64 } from './base64.js';
export { parseSignedNote, formatSignedNote, isValidKeyName, type SignedNote, type NoteSignature } from './signed-note.js';
export { SIGNATURE_TYPE_ED25519, SIGNATURE_TYPE_COSIGNATURE_V1, formatVerifierKey, parseVerifierKey, formatPrivateKey, parsePrivateKey, generateNoteKey, noteKeyId, type NotePrivateKey, type VerifierKey } from './note-key.js';
export { ed25519NoteSigner, signNote, type NoteSigner } from './note-signer.js';
export { ed25519NoteVerifier, NoteVerifierSet, verifyNote, openNote, type NoteVerifier, type NoteVerification } from './note-verifier.js';
export { parseCheckpoint, formatCheckpoint, signCheckpoint, openCheckpoint, EMPTY_TREE_ROOT, type Checkpoint } from './checkpoint.js';
export { CHAIN_HEAD_KIND, formatChainHead, openChainHead, parseChainHead, signChainHead, type ChainHead } from './chain-head.js';
export { cosignatureSigner, cosignatureVerifier, cosignatureTimestamp, type CosignatureSigner } from './cosignature.js';
export { parseAddCheckpointRequest, formatAddCheckpointRequest, formatTreeSizeBody, parseTreeSizeBody, formatCosignatureBody, parseCosignatureBody, TLOG_SIZE_CONTENT_TYPE } from './add-checkpoint-request.js';
export { witnessAddCheckpoint, witnessResponse, requestOrigin, type WitnessConfig, type WitnessLogState, type AddCheckpointOutcome, type ConsistencyProofVerifier, type ConsistencyProof, type WitnessResponse } from './witness-protocol.js';
export { addCheckpoint, type WitnessStateStore, type AddCheckpointOptions } from './add-checkpoint.js';
export { merkleConsistency } from './consistency-verifier.js';
export { readWitnessReply, MAX_WITNESS_REPLY_BYTES, type WitnessReply, type WitnessReplyOutcome } from './witness-reply.js';
export { verifiedCosignatures, cosignNote } from './cosigned-note.js';
export { witnessKeyRef, type CosignatureStore, type StoredCosignature } from './cosignature-store.js';
// What the log holds, and how the vault appends and integrates it.
export { encodeEntry, decodeEntry, SALT_BYTES, type LedgerEntry, type AuditEntry, type AccessEntry, type VersionEntry, type ResealEntry, type ErasureEntry } from './ledger-entry.js';
export { chainLinkOf, chainedPatients, patientAccount, type ChainLink } from './patient-chain.js';
export { isAuditRecord, AUDIT_TYPES, MAX_ENTITIES, type AuditRecord, type AuditAgent, type AuditAction, type AuditOutcome, type AuditType } from './audit-record.js';
export { writeAuditRecord, type WriteAuditContext, type WriteAuditTemplate, type WrittenVersion } from './write-audit.js';
export type { LedgerStorage, StoredCheckpoint } from './ledger-storage.js';
export { Sequencer, type SequencerRun, type SequencerOptions } from './sequencer.js';
