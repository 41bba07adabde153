/**
 * Where a worker thread's module of this directory is. Under vitest the store runs from
 * its TypeScript source, which a worker thread cannot load: the build of the same module
 * is used (`npm test` builds first), and without a build there is none (the caller then
 * does the work in-process).
 */
import { existsSync } from 'node:fs';

/** The module `file` (no extension) of this directory, as built; undefined when only the source exists. */
export function threadModule(file: string): URL | undefined {
  if (!import.meta.url.endsWith('.ts')) return new URL(`./${file}.js`, import.meta.url);
  const built = new URL(`../../dist/store/${file}.js`, import.meta.url);
  return existsSync(built) ? built : undefined;
}
