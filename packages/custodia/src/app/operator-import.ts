/**
 * An import run by the operator (`custodia import`, the demo data of `serve --demo`) is a
 * write like any other: each batch's transaction appends, with the batch, its audit record
 * (who: the operator; what: the versions created; which patients) — ledger/write-audit.ts.
 */
import type { ImportProgress, ImportReport } from './importer.js';
import { importFiles } from './importer.js';
import { localImportTarget } from './import-target.js';
import type { Vault } from './vault.js';

export function importAsOperator(vault: Vault, paths: readonly string[], onProgress?: (p: ImportProgress) => void, subtype = 'import'): Promise<ImportReport> {
  const context = { template: { type: 'admin' as const, subtype, agent: { who: 'operator' } }, now: () => vault.audit.clock.now(), recorded: false };
  return importFiles(localImportTarget(vault.auditedFhir(context)), paths, onProgress);
}
