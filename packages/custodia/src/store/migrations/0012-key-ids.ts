/**
 * Migration 0012: which data key sealed each resource version (issue 4, encryption at
 * rest). The id is also inside the envelope; the column lets erasure, data-key rotation
 * and `custodia keys status` find every version under a key without decrypting anything.
 * NULL for versions stored in clear (written before encryption, or deletions).
 */
export function keyIdSchema(): string[] {
  return [
    'ALTER TABLE resource_versions ADD COLUMN key_id TEXT',
    'CREATE INDEX resource_versions_key ON resource_versions (key_id)',
  ];
}
