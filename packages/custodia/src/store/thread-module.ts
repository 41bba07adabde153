/**
 * Where a worker thread's module is (of the store, or of the application layer). Under
 * vitest the code runs from its TypeScript source, which a worker thread cannot load: the
 * build of the same module is used (`npm test` builds first), and without a build there
 * is none (the caller then does the work in-process).
 */
import { existsSync } from 'node:fs';

/** The module `file` (no extension) of `layer`'s directory, as built; undefined when only the source exists. */
export function threadModule(file: string, layer: 'store' | 'app' = 'store'): URL | undefined {
  if (!import.meta.url.endsWith('.ts')) return new URL(`../${layer}/${file}.js`, import.meta.url);
  const built = new URL(`../../dist/${layer}/${file}.js`, import.meta.url);
  return existsSync(built) ? built : undefined;
}
