/**
 * The two ways a Merkle proof, tile or size from outside can fail, as typed errors. Every
 * ledger check throws through these two functions so that the codes live in one place.
 *
 * - malformed: the input cannot be a proof at all (a size that is not a safe integer, an
 *   index beyond the tree, a hash that is not 32 bytes, a proof of the wrong length).
 * - mismatch: the input is well formed but does not lead to the root it claims. From a
 *   log this is evidence of misbehaviour (a forked or rewritten log), not a typo.
 *
 * Both are `ledger-invalid`; `mismatch` carries the issue code `conflict` so that callers
 * (and OperationOutcome) can tell them apart.
 */
import { CustodiaError } from '../kernel/index.js';

/**
 * The input cannot be what it claims to be.
 *
 * @example
 *   throw malformedProof('the leaf index is beyond the tree');
 */
export function malformedProof(message: string): CustodiaError {
  return new CustodiaError('ledger-invalid', `Malformed Merkle input: ${message}`);
}

/**
 * The input is well formed but does not verify.
 *
 * @example
 *   throw proofMismatch('the inclusion proof does not lead to the root');
 */
export function proofMismatch(message: string): CustodiaError {
  return new CustodiaError('ledger-invalid', `Merkle proof does not verify: ${message}`, {
    issues: [{ diagnostics: message, issueCode: 'conflict' }],
  });
}

/**
 * True when `e` is the error of a well-formed proof that does not verify (see
 * {@link proofMismatch}), as opposed to malformed input.
 *
 * @example
 *   try { verifyConsistency(…) } catch (e) { if (isProofMismatch(e)) alarm('log forked'); }
 */
export function isProofMismatch(e: unknown): boolean {
  return e instanceof CustodiaError && e.issues.some((i) => i.issueCode === 'conflict');
}
