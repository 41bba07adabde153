/**
 * Where an import goes: straight into a vault's store (offline, `--data-dir`), or to a
 * running server over its FHIR API (`--server` with `--token`). Both take batches of
 * resources that keep their ids, and whole Bundles.
 */
import { CustodiaError, isCustodiaError } from '../kernel/index.js';
import { executeInteraction, importBatch, isJsonObject, SEE_ALL, type FhirContext, type ImportItem } from '../fhir/index.js';

export interface ImportOutcome {
  readonly written: number;
  readonly failures: readonly { readonly source: string; readonly reason: string }[];
}

export interface ImportTarget {
  importResources(items: readonly ImportItem[]): Promise<ImportOutcome>;
  importBundle(bundle: unknown, source: string): Promise<ImportOutcome>;
  /** Runs a whole import (the local target tunes the store for bulk loading). */
  run<T>(fn: () => Promise<T>): Promise<T>;
}

export function reasonOf(e: CustodiaError): string {
  const first = e.issues[0];
  if (first === undefined) return e.message;
  return first.expression !== undefined && first.expression.length > 0 ? `${first.expression[0]}: ${first.diagnostics}` : first.diagnostics;
}

/** Entries of a collection-like Bundle, imported as resources that keep their ids. */
export function bundleItems(bundle: Record<string, unknown>, source: string): ImportItem[] {
  const entries = Array.isArray(bundle['entry']) ? (bundle['entry'] as unknown[]) : [];
  return entries.map((e, i) => ({ value: isJsonObject(e) ? e['resource'] : undefined, source: `${source}#entry[${i}]` }));
}

/** Imports into the vault behind `ctx`, as the operator (offline import is an operator act). */
export function localImportTarget(ctx: FhirContext): ImportTarget {
  return {
    async importResources(items) {
      const r = await importBatch(ctx, items);
      return { written: r.written, failures: r.failures.map((f) => ({ source: f.source, reason: reasonOf(f.error) })) };
    },
    async importBundle(bundle, source) {
      if (!isJsonObject(bundle)) return { written: 0, failures: [{ source, reason: 'not a Bundle' }] };
      const type = bundle['type'];
      if (type !== 'transaction' && type !== 'batch') return this.importResources(bundleItems(bundle, source));
      const entries = Array.isArray(bundle['entry']) ? bundle['entry'].length : 0;
      try {
        const r = await executeInteraction(ctx, { kind: 'bundle', body: bundle }, { returnPreference: 'minimal', handling: 'strict', owner: 'import', visibility: SEE_ALL }, () => undefined);
        if (type === 'transaction') return { written: entries, failures: [] };
        return batchOutcome(typeof r.body === 'string' ? (JSON.parse(r.body) as unknown) : r.body, source);
      } catch (e) {
        if (!isCustodiaError(e)) throw e;
        return { written: 0, failures: [{ source, reason: reasonOf(e) }] };
      }
    },
    // Afterwards the store refreshes its statistics: without them PostgreSQL plans joins
    // as if the tables were still empty.
    run: (fn) => ctx.store.bulkLoad(fn),
  };
}

/** Counts written entries and failures in a batch-response Bundle. */
export function batchOutcome(response: unknown, source: string, sources?: readonly string[]): ImportOutcome {
  const entries = isJsonObject(response) && Array.isArray(response['entry']) ? (response['entry'] as unknown[]) : [];
  let written = 0;
  const failures: { source: string; reason: string }[] = [];
  entries.forEach((e, i) => {
    const res = isJsonObject(e) && isJsonObject(e['response']) ? e['response'] : undefined;
    const status = typeof res?.['status'] === 'string' ? res['status'] : '';
    if (/^2\d\d/.test(status)) {
      written++;
      return;
    }
    const outcome = res?.['outcome'];
    const issue = isJsonObject(outcome) && Array.isArray(outcome['issue']) && isJsonObject(outcome['issue'][0]) ? outcome['issue'][0] : undefined;
    const diag = typeof issue?.['diagnostics'] === 'string' ? issue['diagnostics'] : status || 'failed';
    failures.push({ source: sources?.[i] ?? `${source}#entry[${i}]`, reason: diag.replace(/^Bundle\.entry\[\d+\]: /, '') });
  });
  return { written, failures };
}

/** Imports through a running server's FHIR API with a bearer token. */
export function remoteImportTarget(fhirBase: string, token: string, fetchFn: typeof fetch = fetch): ImportTarget {
  const base = fhirBase.replace(/\/+$/, '');
  async function post(bundle: unknown): Promise<unknown> {
    const res = await fetchFn(base, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', accept: 'application/fhir+json', prefer: 'return=minimal' },
      body: JSON.stringify(bundle),
    });
    const body = (await res.json().catch(() => undefined)) as unknown;
    if (!res.ok) {
      const issue = isJsonObject(body) && Array.isArray(body['issue']) && isJsonObject(body['issue'][0]) ? body['issue'][0] : undefined;
      throw new CustodiaError('import-failed', `The server answered ${res.status}: ${typeof issue?.['diagnostics'] === 'string' ? issue['diagnostics'] : res.statusText}`);
    }
    return body;
  }
  return {
    async importResources(items) {
      const failures: { source: string; reason: string }[] = [];
      const entries: unknown[] = [];
      const sources: string[] = [];
      for (const item of items) {
        let v: unknown = item.value;
        if (item.text !== undefined) {
          try {
            v = JSON.parse(item.text) as unknown;
          } catch {
            failures.push({ source: item.source, reason: 'not valid JSON' });
            continue;
          }
        }
        if (!isJsonObject(v) || typeof v['resourceType'] !== 'string') {
          failures.push({ source: item.source, reason: 'not a FHIR resource' });
          continue;
        }
        const url = typeof v['id'] === 'string' ? `${v['resourceType']}/${v['id']}` : v['resourceType'];
        entries.push({ resource: v, request: { method: typeof v['id'] === 'string' ? 'PUT' : 'POST', url } });
        sources.push(item.source);
      }
      if (entries.length === 0) return { written: 0, failures };
      const r = batchOutcome(await post({ resourceType: 'Bundle', type: 'batch', entry: entries }), '', sources);
      return { written: r.written, failures: [...failures, ...r.failures] };
    },
    async importBundle(bundle, source) {
      if (!isJsonObject(bundle)) return { written: 0, failures: [{ source, reason: 'not a Bundle' }] };
      const type = bundle['type'];
      if (type !== 'transaction' && type !== 'batch') return this.importResources(bundleItems(bundle, source));
      try {
        const response = await post(bundle);
        if (type === 'transaction') return { written: Array.isArray(bundle['entry']) ? bundle['entry'].length : 0, failures: [] };
        return batchOutcome(response, source);
      } catch (e) {
        if (!isCustodiaError(e)) throw e;
        return { written: 0, failures: [{ source, reason: e.message }] };
      }
    },
    // The server's database maintenance (autovacuum) is the server's business.
    run: (fn) => fn(),
  };
}
