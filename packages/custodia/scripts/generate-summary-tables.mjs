#!/usr/bin/env node
// Generates generated/summary-elements.json from the official R4 StructureDefinitions:
// for each resource type, its top-level elements that are in the summary (isSummary) and
// those that are mandatory (min >= 1). _summary and _elements (R4 search.html §3.1.1.5.8)
// keep these. Usage: node scripts/generate-summary-tables.mjs [outDir]
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const outDir = process.argv[2] ?? join(root, 'generated');
const bundle = JSON.parse(gunzipSync(readFileSync(join(root, 'definitions/fhir-r4/profiles-resources.json.gz'))).toString('utf8'));
const out = {};
for (const { resource: sd } of bundle.entry) {
  if (sd.resourceType !== 'StructureDefinition' || sd.kind !== 'resource' || sd.abstract || sd.derivation !== 'specialization') continue;
  const summary = [];
  const mandatory = [];
  for (const el of sd.snapshot.element) {
    const parts = el.path.split('.');
    if (parts.length !== 2) continue;
    const name = parts[1];
    if (el.isSummary) summary.push(name);
    if ((el.min ?? 0) >= 1) mandatory.push(name);
  }
  out[sd.type] = { summary, mandatory };
}
const sorted = Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]]));
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'summary-elements.json'), JSON.stringify(sorted) + '\n');
