/**
 * Migration 0012: which data key sealed each resource version (issue 4, encryption at
 * rest). The id is also inside the envelope; the column lets erasure, data-key rotation
 * and `custodia keys status` find every version under a key without decrypting anything.
 * NULL for versions stored in clear (written before encryption, or deletions).
 *
 * Versions stay immutable (0001) except for the two changes key management makes to what
 * is stored, never to what a version says: erasure removes the content (key id kept, so
 * the version reads as erased), and re-sealing replaces the content under another key.
 * Every other update, and every delete, is still refused by the database itself.
 */
import type { SqlDialect } from '../schema.js';

const FROZEN = ['seq', 'res_pk', 'res_type', 'res_id', 'version_id', 'last_updated', 'deleted', 'method'];

export function keyIdSchema(dialect: SqlDialect): string[] {
  const columns = ['ALTER TABLE resource_versions ADD COLUMN key_id TEXT', 'CREATE INDEX resource_versions_key ON resource_versions (key_id)'];
  // Allowed: erasure (content → NULL, same key id) or re-sealing (new content under another, non-null key id).
  const changed = (c: string): string => `NEW.${c} IS DISTINCT FROM OLD.${c}`;
  const allowed = `((NEW.content IS NULL AND OLD.content IS NOT NULL AND NEW.key_id IS NOT DISTINCT FROM OLD.key_id AND OLD.key_id IS NOT NULL)
      OR (NEW.content IS NOT NULL AND NEW.key_id IS NOT NULL AND NEW.key_id IS DISTINCT FROM OLD.key_id AND OLD.content IS NOT NULL))`;
  if (dialect === 'sqlite') {
    const sqliteChanged = (c: string): string => `NEW.${c} IS NOT OLD.${c}`;
    const sqliteAllowed = allowed.replaceAll('IS NOT DISTINCT FROM', 'IS').replaceAll('IS DISTINCT FROM', 'IS NOT');
    return [
      ...columns,
      'DROP TRIGGER resource_versions_immutable_update',
      `CREATE TRIGGER resource_versions_immutable_update BEFORE UPDATE ON resource_versions
        WHEN ${FROZEN.map(sqliteChanged).join(' OR ')} OR NOT ${sqliteAllowed}
        BEGIN SELECT RAISE(ABORT, 'resource versions are immutable'); END`,
    ];
  }
  return [
    ...columns,
    'DROP TRIGGER resource_versions_immutable ON resource_versions',
    `CREATE TRIGGER resource_versions_immutable_delete BEFORE DELETE ON resource_versions
      FOR EACH ROW EXECUTE FUNCTION custodia_refuse_version_change()`,
    `CREATE TRIGGER resource_versions_immutable_update BEFORE UPDATE ON resource_versions
      FOR EACH ROW WHEN (${FROZEN.map(changed).join(' OR ')} OR NOT ${allowed})
      EXECUTE FUNCTION custodia_refuse_version_change()`,
  ];
}
