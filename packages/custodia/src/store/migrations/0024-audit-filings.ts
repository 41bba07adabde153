/**
 * Migration 0024: recent patient filings go to a tail in log order, merged into
 * `audit_patients` in bulk (store/filing-tail.ts).
 *
 * `audit_patients` is one B-tree ordered by patient, then index: with reads spread over
 * many patients, each audited read's row landed on a page of its own, and SQLite logs
 * whole pages, so every read wrote a 4 KiB page to the WAL (and later checkpointed it).
 * Its rows now go first to `audit_filings`, ordered by index, where a batch of reads fills
 * the same page or two. Once the tail spans `FILING_MERGE_SPAN` ledger entries, the append
 * that crosses it moves the whole tail into `audit_patients` in patient order, in its own
 * transaction: a page there is then written once for all the rows it gets, not once per
 * row. `audit_filing_merges.through` is the last index that merge covered: a writer that
 * finds it moved knows the tail it remembered was moved.
 *
 * Every row of `audit_filings` is newer than every row of `audit_patients` (a merge takes
 * the whole tail), so a patient's chain head is the tail's when the tail has one.
 */
import type { SqlDialect } from '../schema.js';

export function auditFilingSchema(dialect: SqlDialect): string[] {
  const pg = dialect === 'postgres';
  const big = pg ? 'BIGINT' : 'INTEGER';
  const text = pg ? 'TEXT COLLATE "C"' : 'TEXT';
  return [
    `CREATE TABLE audit_filings (idx ${big} NOT NULL, patient ${text} NOT NULL, at ${big} NOT NULL, PRIMARY KEY (idx, patient))${pg ? '' : ' WITHOUT ROWID'}`,
    `CREATE TABLE audit_filing_merges (id ${big} PRIMARY KEY CHECK (id = 1), through ${big} NOT NULL)`,
    // Nothing merged yet: every row already in audit_patients predates the tail.
    'INSERT INTO audit_filing_merges (id, through) VALUES (1, -1)',
  ];
}
