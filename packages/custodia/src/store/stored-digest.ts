/**
 * The SHA-256 of a resource version's bytes as stored (the envelope in a sealed vault):
 * what the ledger's version commitments hold (issue 5 §2), so that a change made to the
 * data outside the vault is found by `custodia ledger verify`.
 */
import { createHash } from 'node:crypto';
import type { VersionWrite } from '../fhir/index.js';

export interface StoredDigest {
  readonly type: string;
  readonly id: string;
  readonly versionId: number;
  /** null for a version stored without content (a deletion). */
  readonly sha256: Buffer | null;
}

export function storedDigest(w: Pick<VersionWrite, 'type' | 'id' | 'versionId'>, content: Uint8Array | null): StoredDigest {
  return { type: w.type, id: w.id, versionId: w.versionId, sha256: content === null ? null : createHash('sha256').update(content).digest() };
}
