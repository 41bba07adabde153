/**
 * Migration 0023: no index on `ledger_leaves.key_id`. Every audited read's entry is sealed
 * under its patient's key, so on SQLite (which logs whole pages) each one dirtied a page of
 * its own in that index, spread by key: a second page written, and later checkpointed,
 * per audited read (store/wal-checkpoints.ts). The index served only data-key rotation,
 * which now re-seals the ledger in one pass in index order, resumed batch by batch
 * (ledger-log.ts `resealSealedBy`): a rare administrative job reads the table once instead
 * of every read paying for an index.
 */
export function ledgerKeyIndexSchema(): string[] {
  return ['DROP INDEX ledger_leaves_key'];
}
