/** Reads the gzipped test fixtures (official R4 examples, Synthea) relative to this folder. */
import { readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

const packageRoot = new URL('../../', import.meta.url);

function readGzip(relative: string): string {
  return gunzipSync(readFileSync(new URL(relative, packageRoot))).toString('utf8');
}

export interface OfficialExample {
  readonly file: string;
  /** The original JSON text of the example. */
  readonly text: string;
}

/** The 642 official R4 examples. */
export function officialExamples(): OfficialExample[] {
  return readGzip('test/fixtures/fhir-r4-examples.ndjson.gz')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as OfficialExample);
}

export interface FixtureResource {
  /** `file` or `file:line` */
  readonly source: string;
  readonly resource: unknown;
}

/** Every resource of the `*.json.gz` (one each) and `*.ndjson.gz` files of a package folder. */
export function fixtureResources(folder: string): FixtureResource[] {
  const files = readdirSync(new URL(folder, packageRoot)).filter((file) => file.endsWith('.json.gz') || file.endsWith('.ndjson.gz'));
  return files.sort().flatMap((file) => {
    const text = readGzip(`${folder}/${file}`);
    if (file.endsWith('.json.gz')) return [{ source: file, resource: JSON.parse(text) as unknown }];
    return text
      .split('\n')
      .map((line, index) => ({ line, index }))
      .filter(({ line }) => line.trim() !== '')
      .map(({ line, index }) => ({ source: `${file}:${index + 1}`, resource: JSON.parse(line) as unknown }));
  });
}
