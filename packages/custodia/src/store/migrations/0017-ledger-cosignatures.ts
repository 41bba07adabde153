/**
 * Migration 0017: witnesses' cosignatures (issue 5 §3). `ledger_cosignatures` (created
 * unused by 0016) now holds the cosignature lines the log's witnesses returned, one per
 * checkpoint size and witness key (`<name>+<hex key ID>`), stored after they verified.
 * Like the rest of the ledger it is append-only: a cosignature is evidence that a witness
 * saw this tree, and nothing the log does later may take it back. The index serves "the
 * newest size each witness cosigned" (where the log resumes after a restart).
 */
import type { SqlDialect } from '../schema.js';

export function ledgerCosignatureSchema(dialect: SqlDialect): string[] {
  const t = 'ledger_cosignatures';
  const s = [`CREATE INDEX ${t}_witness ON ${t} (witness, size)`];
  if (dialect === 'postgres') {
    // custodia_refuse_ledger_change() is 0016's.
    s.push(`CREATE TRIGGER ${t}_no_delete BEFORE DELETE ON ${t} FOR EACH ROW EXECUTE FUNCTION custodia_refuse_ledger_change()`);
    s.push(`CREATE TRIGGER ${t}_no_update BEFORE UPDATE ON ${t} FOR EACH ROW EXECUTE FUNCTION custodia_refuse_ledger_change()`);
  } else {
    s.push(`CREATE TRIGGER ${t}_no_update BEFORE UPDATE ON ${t} BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END`);
    s.push(`CREATE TRIGGER ${t}_no_delete BEFORE DELETE ON ${t} BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END`);
  }
  return s;
}
