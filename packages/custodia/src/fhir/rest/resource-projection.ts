/**
 * `_summary` and `_elements` (R4 search.html §3.1.1.5.8–9): return part of each resource,
 * marked with the SUBSETTED tag so that no client mistakes it for the whole.
 */
import { readFileSync } from 'node:fs';
import type { FhirResource } from '../resource.js';
import type { SummaryMode } from '../search/query.js';

interface SummaryTable {
  readonly [type: string]: { readonly summary: readonly string[]; readonly mandatory: readonly string[] };
}

let table: SummaryTable | undefined;
function summaryTable(): SummaryTable {
  // src/fhir/rest and dist/fhir/rest sit at the same depth below the package root.
  table ??= JSON.parse(readFileSync(new URL('../../../generated/summary-elements.json', import.meta.url), 'utf8')) as SummaryTable;
  return table;
}

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'subsetted' };

/** Does element `key` of a resource belong to the definition name `def` (`value[x]` covers `valueString`)? */
function matches(def: string, key: string): boolean {
  if (def === key) return true;
  if (!def.endsWith('[x]')) return false;
  const stem = def.slice(0, -3);
  return key.length > stem.length && key.startsWith(stem) && /[A-Z]/.test(key.charAt(stem.length));
}

function keep(resource: FhirResource, names: readonly string[]): FhirResource {
  const out: Record<string, unknown> = { resourceType: resource.resourceType };
  for (const [key, value] of Object.entries(resource)) {
    const base = key.startsWith('_') ? key.slice(1) : key;
    if (names.some((n) => matches(n, base))) out[key] = value;
  }
  return tagSubsetted(out as FhirResource);
}

function tagSubsetted(r: FhirResource): FhirResource {
  const meta = { ...(r.meta ?? {}) };
  meta.tag = [...(meta.tag ?? []), SUBSETTED];
  return { ...r, meta };
}

/** Applies `_summary` / `_elements`; returns the resource unchanged when neither is asked for. */
export function projectResource(resource: FhirResource, summary: SummaryMode | undefined, elements: readonly string[] | undefined): FhirResource {
  const def = summaryTable()[resource.resourceType];
  const mandatory = ['id', 'meta', ...(def?.mandatory ?? [])];
  if (summary === 'true') return keep(resource, [...(def?.summary ?? []), ...mandatory]);
  if (summary === 'text') return keep(resource, ['text', ...mandatory]);
  if (summary === 'data') {
    const { text: _text, ...rest } = resource;
    return tagSubsetted(rest as FhirResource);
  }
  if (elements !== undefined && elements.length > 0) return keep(resource, [...elements, ...mandatory]);
  return resource;
}

export function needsProjection(summary: SummaryMode | undefined, elements: readonly string[] | undefined): boolean {
  return summary === 'true' || summary === 'text' || summary === 'data' || (elements !== undefined && elements.length > 0);
}
