/**
 * `custodia import`: streams files into an ImportTarget in batches, reporting progress
 * and every failure with its file:line. One bad line never stops the rest.
 */
import { listImportFiles, readFhirFile, totalBytes } from '../ingest/index.js';
import type { ImportItem } from '../fhir/index.js';
import type { ImportTarget } from './import-target.js';

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

export async function importFiles(target: ImportTarget, paths: readonly string[], onProgress: (p: ImportProgress) => void = () => undefined): Promise<ImportReport> {
  const files = listImportFiles(paths);
  const bytesTotal = totalBytes(files);
  let bytesRead = 0;
  let resources = 0;
  let bundles = 0;
  const failures: { source: string; reason: string }[] = [];
  const report = (): void => onProgress({ bytesRead, bytesTotal, resources, failures: failures.length });
  let batch: ImportItem[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const r = await target.importResources(batch);
    resources += r.written;
    failures.push(...r.failures);
    batch = [];
    report();
  };
  for (const file of files) {
    for await (const item of readFhirFile(file, (n) => (bytesRead += n))) {
      if (item.kind === 'error') {
        failures.push({ source: item.source, reason: item.reason });
      } else if (item.kind === 'bundle') {
        await flush();
        const r = await target.importBundle(item.value, item.source);
        bundles++;
        resources += r.written;
        failures.push(...r.failures);
        report();
      } else {
        batch.push({ value: item.value, source: item.source });
        if (batch.length >= BATCH) await flush();
      }
    }
    await flush();
  }
  await target.finish();
  report();
  return { files: files.length, resources, bundles, failures };
}
