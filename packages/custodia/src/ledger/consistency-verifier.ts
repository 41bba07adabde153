/**
 * The witness's consistency check (witness-protocol.ts's injected `ConsistencyProofVerifier`)
 * done with this module's RFC 9162 §2.1.4.2 verifier.
 */
import { verifyConsistency } from './consistency-proof.js';
import type { ConsistencyProof, ConsistencyProofVerifier } from './witness-protocol.js';

/**
 * True when `proof` shows the old tree is a prefix of the new one; a malformed or
 * mismatching proof throws `ledger-invalid`, which the witness counts as false (422).
 *
 * @example
 *   const config: WitnessConfig = { logs, cosigners: [cosigner], verifyConsistency: merkleConsistency };
 */
export const merkleConsistency: ConsistencyProofVerifier = (proof: ConsistencyProof): boolean => {
  verifyConsistency(proof.oldSize, proof.newSize, proof.hashes, proof.oldRoot, proof.newRoot);
  return true;
};
