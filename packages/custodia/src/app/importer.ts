/**
 * `custodia import`: streams files into an ImportTarget in batches, reporting progress
 * and every failure with its file:line. One bad line never stops the rest.
 *
 * Batches are prepared and written on this thread. Worker threads that prepared batches
 * for this thread to write were measured slower on a 2-core machine (moving the prepared
 * rows between threads cost more than preparing them), and workers with their own
 * SQLite connections slower still (each write empties the other connections' page cache).
 */
import { listImportFiles, readFhirFile, totalBytes } from '../ingest/index.js';
import type { ImportItem } from '../fhir/index.js';
import type { ImportOutcome, ImportTarget } from './import-target.js';

export interface ImportProgress {
  readonly bytesRead: number;
  readonly bytesTotal: number;
  readonly resources: number;
  readonly failures: number;
}

export interface ImportReport {
  readonly files: number;
  readonly resources: number;
  readonly bundles: number;
  readonly failures: readonly { readonly source: string; readonly reason: string }[];
}

const BATCH = 1000;

export function importFiles(target: ImportTarget, paths: readonly string[], onProgress: (p: ImportProgress) => void = () => undefined): Promise<ImportReport> {
  const files = listImportFiles(paths);
  return target.run(() => importAll(target, files, onProgress));
}

async function importAll(target: ImportTarget, files: readonly string[], onProgress: (p: ImportProgress) => void): Promise<ImportReport> {
  const bytesTotal = totalBytes(files);
  let bytesRead = 0;
  let resources = 0;
  let bundles = 0;
  const failures: { source: string; reason: string }[] = [];
  const record = (r: ImportOutcome): void => {
    resources += r.written;
    failures.push(...r.failures);
    onProgress({ bytesRead, bytesTotal, resources, failures: failures.length });
  };
  let batch: ImportItem[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    record(await target.importResources(items));
  };
  for (const file of files) {
    for await (const item of readFhirFile(file, (n) => (bytesRead += n))) {
      if (item.kind === 'error') {
        failures.push({ source: item.source, reason: item.reason });
      } else if (item.kind === 'bundle') {
        await flush();
        record(await target.importBundle(item.value, item.source));
        bundles++;
      } else {
        batch.push(item.kind === 'line' ? { text: item.text, source: item.source } : { value: item.value, source: item.source });
        if (batch.length >= BATCH) await flush();
      }
    }
    await flush();
  }
  record({ written: 0, failures: [] });
  return { files: files.length, resources, bundles, failures };
}
