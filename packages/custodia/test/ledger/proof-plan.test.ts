/**
 * Proof plans: the nodes a proof needs, then the proof from their hashes, whoever read
 * them; hashes from a reader or an async store are checked before they are used.
 */
import { describe, expect, it } from 'vitest';
import { planConsistencyProof } from '../../src/ledger/consistency-proof.js';
import { generateInclusionProof, planInclusionProof } from '../../src/ledger/inclusion-proof.js';
import { assembleProof, foldRange, planNodes, readProof } from '../../src/ledger/proof-plan.js';
import { nodeStore, seededLeaves } from './node-store.js';
import { consistency, mth, nodeHash, path } from './rfc-oracle.js';

const malformed = expect.objectContaining({ code: 'ledger-invalid' });
const LEAVES = seededLeaves(13, 'proof-plan');
const STORE = nodeStore(LEAVES);

describe('proof plans', () => {
  it('name the subtrees of RFC 9162 §2.1.3.1 and §2.1.4.1', () => {
    expect(planInclusionProof(2, 5).elements).toEqual([[{ level: 0, index: 3 }], [{ level: 1, index: 0 }], [{ level: 0, index: 4 }]]);
    expect(planConsistencyProof(6, 8).elements).toEqual([[{ level: 1, index: 2 }], [{ level: 1, index: 3 }], [{ level: 2, index: 0 }]]);
    // a right part that is not a power of two wide is a compact range: MTH(D[8:13])
    expect(planInclusionProof(0, 13).elements.at(-1)).toEqual([
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(planConsistencyProof(4, 4).elements).toEqual([]);
  });

  it('are assembled from hashes read any way, e.g. by an async store', async () => {
    const plan = planInclusionProof(0, 13);
    const hashes = await Promise.resolve(STORE.readHashes(planNodes(plan)));
    expect(assembleProof(plan, hashes)).toEqual(path(0, LEAVES));
    expect(readProof(STORE, planConsistencyProof(5, 13))).toEqual(consistency(5, LEAVES));
    expect(foldRange([LEAVES[0]!, LEAVES[1]!, LEAVES[2]!]).equals(nodeHash(LEAVES[0]!, nodeHash(LEAVES[1]!, LEAVES[2]!)))).toBe(true);
    expect(foldRange([LEAVES[0]!]).equals(mth([LEAVES[0]!]))).toBe(true);
  });

  it('refuse hashes that do not fit the plan', () => {
    const plan = planInclusionProof(0, 13);
    const hashes = STORE.readHashes(planNodes(plan));
    expect(() => assembleProof(plan, hashes.slice(1))).toThrow(malformed);
    expect(() => assembleProof(plan, [...hashes, LEAVES[0]!])).toThrow(malformed);
    expect(() => assembleProof(plan, hashes.map((h, i) => (i === 1 ? h.subarray(2) : h)))).toThrow(malformed);
    expect(() => generateInclusionProof({ readHashes: () => [] }, 0, 13)).toThrow(malformed);
    expect(() => generateInclusionProof({ readHashes: (nodes) => nodes.map(() => 'x'.repeat(32) as unknown as Uint8Array) }, 0, 13)).toThrow(malformed);
  });
});
