/** Migration 0007: an index that makes "the newest version of a type" one lookup (ResourceStore.changeMarker). */
export function typeSequenceSchema(): string[] {
  return ['CREATE INDEX resource_versions_type_seq ON resource_versions (res_type, seq)'];
}
