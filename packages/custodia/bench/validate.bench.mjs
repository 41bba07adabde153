#!/usr/bin/env node
/**
 * Throughput of the structural validator on the Synthea demo set (valid R4).
 *
 * Build first (npx tsc -p packages/custodia/tsconfig.build.json), then:
 *   node packages/custodia/bench/validate.bench.mjs [rounds]
 *
 * Prints the cold-start cost (loading the table and compiling the first types) and
 * resources/s over `rounds` passes (default 20) after a warm-up.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

const packageRoot = new URL('../', import.meta.url);
const rounds = Number(process.argv[2] ?? 20);

const importStart = performance.now();
const { validateResource } = await import(new URL('dist/fhir/validation/index.js', packageRoot).href);
const importMs = performance.now() - importStart;

const demo = new URL('demo/synthea-10-patients/', packageRoot);
const resources = readdirSync(demo)
  .filter((file) => file.endsWith('.ndjson.gz'))
  .sort()
  .flatMap((file) => gunzipSync(readFileSync(new URL(file, demo))).toString('utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line)));
const bytes = resources.reduce((sum, resource) => sum + JSON.stringify(resource).length, 0);

const firstStart = performance.now();
validateResource(resources[0]);
const firstMs = performance.now() - firstStart;

for (let round = 0; round < 3; round++) for (const resource of resources) validateResource(resource);

const start = performance.now();
let issues = 0;
for (let round = 0; round < rounds; round++) for (const resource of resources) issues += validateResource(resource).length;
const seconds = (performance.now() - start) / 1000;
if (issues !== 0) throw new Error(`the demo set should be valid, found ${issues} issues`);

const count = resources.length * rounds;
console.log(`validator cold start: import ${importMs.toFixed(1)} ms, first resource ${firstMs.toFixed(1)} ms`);
console.log(
  `validated ${resources.length} Synthea resources x ${rounds}: ${Math.round(count / seconds).toLocaleString('en')} resources/s, ` +
    `${((bytes * rounds) / seconds / 1e6).toFixed(0)} MB/s of JSON, ${((seconds / count) * 1e6).toFixed(1)} µs/resource`,
);
