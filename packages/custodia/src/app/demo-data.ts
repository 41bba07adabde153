/**
 * The demo data set that ships in the repository (Synthea, 10 patients, CC0; see
 * demo/PROVENANCE.md), loaded into an empty vault by `custodia serve --demo`.
 */
import { fileURLToPath } from 'node:url';
import type { Vault } from './vault.js';
import type { ImportReport } from './importer.js';
import { importAsOperator } from './operator-import.js';

/** src/app and dist/app sit at the same depth below the package root. */
export const DEMO_DIR = fileURLToPath(new URL('../../demo/synthea-10-patients/', import.meta.url));

/** Loads the demo set when the vault holds no resources; returns undefined when it was not empty. */
export async function loadDemoDataIfEmpty(vault: Vault): Promise<ImportReport | undefined> {
  if ((await vault.store.countResources()) > 0) return undefined;
  return importAsOperator(vault, [DEMO_DIR], undefined, 'import-demo');
}
