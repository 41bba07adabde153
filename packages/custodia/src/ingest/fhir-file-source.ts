/**
 * Reads FHIR files for import: NDJSON (FHIR Bulk Data, one resource per line) and JSON
 * (a resource or a Bundle), each optionally gzipped; directories are walked in name
 * order. File contents are attacker-controlled: every line is parsed on its own, a bad
 * line is reported with its file:line and never stops the rest, and one line or file
 * is bounded in size.
 */
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip, gunzipSync } from 'node:zlib';

export type FhirFileItem =
  /** One NDJSON line, unparsed: whoever imports it parses it (possibly in another thread). */
  | { readonly kind: 'line'; readonly text: string; readonly source: string }
  | { readonly kind: 'resource'; readonly value: unknown; readonly source: string }
  | { readonly kind: 'bundle'; readonly value: unknown; readonly source: string }
  | { readonly kind: 'error'; readonly reason: string; readonly source: string };

const IMPORTABLE = /\.(ndjson|json)(\.gz)?$/i;
const MAX_JSON_FILE_BYTES = 512 * 1024 * 1024;
const MAX_LINE_CHARS = 64 * 1024 * 1024;

/** Expands files and directories into the importable files they hold, in a stable order. */
export function listImportFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const st = statSync(p);
    if (st.isDirectory()) {
      const children = readdirSync(p).sort().map((c) => join(p, c));
      out.push(...listImportFiles(children.filter((c) => statSync(c).isDirectory() || IMPORTABLE.test(c))));
    } else {
      out.push(p);
    }
  }
  return out;
}

/** Total bytes of the files, for progress. */
export function totalBytes(files: readonly string[]): number {
  return files.reduce((n, f) => n + statSync(f).size, 0);
}

function isNdjson(file: string): boolean {
  return /\.ndjson(\.gz)?$/i.test(file);
}

async function* readNdjson(file: string, onBytes: (n: number) => void): AsyncGenerator<FhirFileItem> {
  const raw = createReadStream(file);
  raw.on('data', (chunk) => onBytes(chunk.length));
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  const name = basename(file);
  try {
    for await (const line of lines) {
      n++;
      const source = `${name}:${n}`;
      if (line.trim() === '') continue;
      if (line.length > MAX_LINE_CHARS) {
        yield { kind: 'error', reason: 'line too long', source };
        continue;
      }
      yield { kind: 'line', text: line, source };
    }
  } catch {
    yield { kind: 'error', reason: 'the file cannot be read (corrupt gzip?)', source: `${name}:${n + 1}` };
  }
}

async function* readJson(file: string, onBytes: (n: number) => void): AsyncGenerator<FhirFileItem> {
  const source = basename(file);
  const size = statSync(file).size;
  if (size > MAX_JSON_FILE_BYTES) {
    yield { kind: 'error', reason: 'file too large for a single JSON document; use NDJSON', source };
    return;
  }
  let value: unknown;
  try {
    const bytes = await readFile(file);
    onBytes(bytes.length);
    const text = (file.endsWith('.gz') ? gunzipSync(bytes, { maxOutputLength: MAX_JSON_FILE_BYTES }) : bytes).toString('utf8');
    value = JSON.parse(text) as unknown;
  } catch {
    yield { kind: 'error', reason: 'not valid JSON (or not valid gzip)', source };
    return;
  }
  const isBundle = typeof value === 'object' && value !== null && (value as { resourceType?: unknown }).resourceType === 'Bundle';
  yield { kind: isBundle ? 'bundle' : 'resource', value, source };
}

/** Items of one file. `onBytes` reports bytes read from disk, for progress bars. */
export function readFhirFile(file: string, onBytes: (n: number) => void = () => undefined): AsyncGenerator<FhirFileItem> {
  return isNdjson(file) ? readNdjson(file, onBytes) : readJson(file, onBytes);
}
