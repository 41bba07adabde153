import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('../../', import.meta.url));
const script = join(packageDir, 'scripts', 'generate-search-tables.mjs');
const out = mkdtempSync(join(tmpdir(), 'custodia-search-tables-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('generated search tables', () => {
  it('are what scripts/generate-search-tables.mjs writes from the definitions, byte for byte', () => {
    execFileSync(process.execPath, [script, out], { stdio: 'pipe' });
    for (const file of ['search-parameters.json', 'compartments.json']) {
      const committed = readFileSync(join(packageDir, 'generated', file));
      const regenerated = readFileSync(join(out, file));
      expect(regenerated.equals(committed), `generated/${file} is stale: run node scripts/generate-search-tables.mjs`).toBe(true);
    }
  });
});
