/**
 * A search's own statements look at their deadline on a search thread (store/search-sql.ts
 * `inTimeAnd`, store/search-runner.ts `deadlineTerm`): a costly search on a SQLite file
 * fails `search-too-costly` at the deadline, and its statement stops there too instead of
 * running on to its end. The search here spends its time reading the token index inside
 * the subquery that drives it, so only the look in that subquery can stop it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/index.js';
import type { ResourceStore } from '../../src/fhir/index.js';
import { isCustodiaError } from '../../src/kernel/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { create, query, rows, tok } from './store-fixtures.js';

const built = existsSync(fileURLToPath(new URL('../../dist/store/search-thread.js', import.meta.url)));
const PROCEDURES = 6_000;
const CODINGS = 8;
const DEADLINE_MS = 100;
/**
 * A `code:text` search of 100 alternatives that match nothing: no index serves a token's
 * text, so each alternative reads every `code` row of every Procedure.
 */
const costly = query(['Procedure'], [{ kind: 'token-text', param: 'code', values: Array.from({ length: 100 }, (_, i) => `${'jqxz'[i % 4]}${'abcdefghijklmnopqrstuvwxyz'[Math.floor(i / 4)]}`) }]);
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

describe.skipIf(!built)('search statements stop at their deadline (SQLite file)', () => {
  let db: TestDatabase;
  let store: ResourceStore;
  let patient: ResourceStore;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    store = await openStore({ ...db.options, searchTimeoutMs: DEADLINE_MS });
    patient = await openStore({ ...db.options, searchTimeoutMs: 60_000 });
    for (let from = 0; from < PROCEDURES; from += 1_000) {
      // Eight codings each: the rows the costly search reads grow eightfold, the resources to write do not.
      const codings = (n: number) => Array.from({ length: CODINGS }, (_, k) => tok('code', 'http://snomed.info/sct', `${100_000 + n * CODINGS + k}`, `procedure ${n} coding ${k} of the deadline test`));
      const writes = Array.from({ length: 1_000 }, (_, i) => create('Procedure', `p${from + i}`, rows({ token: codings(from + i) })));
      await store.transaction((tx) => tx.writeVersions(writes));
    }
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await patient?.close();
    await db?.cleanup();
  });

  it('fails search-too-costly at the deadline and leaves no statement running after it', async () => {
    // Run to its end with a deadline far away: long enough that a statement left running would show.
    const started = performance.now();
    expect((await patient.search(costly, 10)).keys).toEqual([]);
    const full = performance.now() - started;
    expect(full).toBeGreaterThan(5 * DEADLINE_MS);

    const before = performance.now();
    const failure = await store.search(costly, 10).then(
      () => 'finished',
      (e: unknown) => e,
    );
    expect(isCustodiaError(failure) && failure.code).toBe('search-too-costly');
    expect(performance.now() - before).toBeLessThan(full);
    // What this process (its search threads included) spends while nothing is asked of it:
    // a statement that ran on would spend most of the window on a core.
    const window = Math.min(500, full - DEADLINE_MS);
    const cpuBefore = cpuMs();
    await new Promise((r) => setTimeout(r, window));
    expect(cpuMs() - cpuBefore).toBeLessThan(window / 4);
    // And the store goes on answering searches.
    expect((await store.search(query(['Procedure'], [{ kind: 'token', param: 'code', not: false, values: [{ system: 'http://snomed.info/sct', code: '100077' }] }]), 10)).keys).toHaveLength(1);
  }, 60_000);
});
