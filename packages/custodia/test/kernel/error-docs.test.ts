import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from '../../src/kernel/index.js';

const DOC = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');

describe('docs/errors.md', () => {
  it('lists every error code with its status and issue code, and nothing else', () => {
    const rows = [...DOC.matchAll(/^\| `([a-z-]+)` \| (\d{3}) \| `([a-z-]+)` \|/gm)].map((m) => [m[1], Number(m[2]), m[3]]);
    const expected = Object.entries(ERROR_CATALOG).map(([code, e]) => [code, e.status, e.issueCode]);
    expect(rows.sort()).toEqual(expected.sort());
  });
});
