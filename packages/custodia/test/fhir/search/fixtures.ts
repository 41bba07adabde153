/** Test fixtures for the search module: the official R4 examples and Synthea data. */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { FhirResource } from '../../../src/fhir/resource.js';

const fixtures = new URL('../../fixtures/', import.meta.url);
const demo = new URL('../../../demo/synthea-10-patients/', import.meta.url);

export interface Example {
  readonly file: string;
  readonly resource: FhirResource;
}

/** The 642 official R4 examples. */
export function officialExamples(): Example[] {
  const text = gunzipSync(readFileSync(new URL('fhir-r4-examples.ndjson.gz', fixtures))).toString('utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const { file, text: json } = JSON.parse(l) as { file: string; text: string };
      return { file, resource: JSON.parse(json) as FhirResource };
    });
}

/** The examples plus every resource inside the example Bundles (entry.resource), labelled by file. */
export function officialExamplesWithEntries(): Example[] {
  const out: Example[] = [];
  for (const ex of officialExamples()) {
    out.push(ex);
    const entries = ex.resource.resourceType === 'Bundle' ? (ex.resource['entry'] as { resource?: FhirResource }[] | undefined) : undefined;
    (entries ?? []).forEach((e, i) => {
      if (e.resource?.resourceType !== undefined) out.push({ file: `${ex.file}#entry[${i}]`, resource: e.resource });
    });
  }
  return out;
}

function readNdjson(url: URL): FhirResource[] {
  return gunzipSync(readFileSync(url))
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as FhirResource);
}

/** The ~7,000 resources of the Synthea 10-patient demo set. */
export function syntheaDemo(): FhirResource[] {
  const dir = fileURLToPath(demo);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ndjson.gz'))
    .sort()
    .flatMap((f) => readNdjson(new URL(f, demo)));
}

/** 1,144 Synthea patients. */
export function synthea1000Patients(): FhirResource[] {
  return readNdjson(new URL('synthea-1000-patients/Patient.000.ndjson.gz', fixtures));
}

/** The resources of the Synthea HIV transaction Bundles. */
export function syntheaHivResources(): FhirResource[] {
  const dir = new URL('synthea-hiv-bundles/', fixtures);
  return readdirSync(fileURLToPath(dir))
    .filter((f) => f.endsWith('.json.gz'))
    .sort()
    .flatMap((f) => {
      const bundle = JSON.parse(gunzipSync(readFileSync(new URL(f, dir))).toString('utf8')) as { resourceType?: string; entry?: { resource?: FhirResource }[] };
      if (bundle.resourceType !== 'Bundle') return [];
      return (bundle.entry ?? []).flatMap((e) => (e.resource === undefined ? [] : [e.resource]));
    });
}
