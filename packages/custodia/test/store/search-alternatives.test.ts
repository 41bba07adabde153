/**
 * A search value list is an OR (R4 search.html §3.1.1.4: "a comma is OR"): on every
 * database, a condition with several alternatives finds exactly the union of what each
 * alternative finds alone, for every kind whose alternatives are ranges the store reads one
 * index seek each (strings by prefix and `:exact`, token text, dates, numbers, quantities,
 * URIs `:below`), whether the condition drives the search or filters another's rows.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { indexedPrefix, normalizeString, type Condition, type RangeValue, type ResourceStore } from '../../src/fhir/index.js';
import { ALL_DATABASES, createTestDatabase, isAvailable, type TestDatabase } from '../helpers/databases.js';
import { create, query, rows, tok } from './store-fixtures.js';

const WORDS = ['Ab', 'abe', 'Abé', 'ABEL', 'b', 'ba', 'Bé', 'c', 'cab', 'Ca', 'd'];
const URIS = ['http://a.example/x', 'http://a.example/x/y', 'http://a.example/z', 'http://b.example/x', 'urn:c'];
const N = 60;

const at = (i: number, k: number): number => (i * 7 + k * 3) % 11;
const words = (i: number): string[] => [WORDS[at(i, 0)]!, WORDS[at(i, 1)]!];

function rowsOf(i: number) {
  const d = 1_000 * at(i, 2);
  return rows({
    string: words(i).map((w, grp) => ({ param: 'name', grp, value: indexedPrefix(normalizeString(w)), exact: w })),
    token: [tok('type', 'urn:t', `t${i % 3}`, normalizeString(WORDS[at(i, 3)]!))],
    date: [{ param: 'date', grp: 0, lo: d, hi: d + 999 }],
    number: [{ param: 'count', grp: 0, lo: at(i, 4), hi: at(i, 4) }],
    quantity: [{ param: 'weight', grp: 0, system: 'http://unitsofmeasure.org', code: 'kg', unit: 'kg', lo: at(i, 5), hi: at(i, 5) }],
    uri: [{ param: 'url', grp: 0, value: URIS[i % URIS.length]! }],
  });
}

const range = (lo: number, hi: number, prefix: RangeValue['prefix'] = 'eq'): RangeValue => ({ prefix, range: { lo, hi } });

/** One random condition of each kind, with 2–5 alternatives. */
const condition: fc.Arbitrary<Condition> = fc.oneof(
  fc.tuple(fc.constantFrom<'prefix' | 'exact'>('prefix', 'exact'), fc.uniqueArray(fc.constantFrom(...WORDS), { minLength: 2, maxLength: 5 })).map(
    ([match, values]): Condition => ({ kind: 'string', param: 'name', match, values: match === 'exact' ? values : values.map((v) => normalizeString(v)) }),
  ),
  fc.uniqueArray(fc.constantFrom(...WORDS.map((w) => normalizeString(w))), { minLength: 2, maxLength: 5 }).map((values): Condition => ({ kind: 'token-text', param: 'type', values })),
  fc.uniqueArray(fc.integer({ min: 0, max: 11 }), { minLength: 2, maxLength: 5 }).map((days): Condition => ({ kind: 'date', param: 'date', values: days.map((d) => range(d * 1_000, d * 1_000 + 999)) })),
  fc.array(fc.tuple(fc.integer({ min: 0, max: 11 }), fc.constantFrom<RangeValue['prefix']>('eq', 'gt', 'lt', 'ge', 'le')), { minLength: 2, maxLength: 5 }).map(
    (vs): Condition => ({ kind: 'number', param: 'count', values: vs.map(([n, p]) => range(n, n, p)) }),
  ),
  fc.uniqueArray(fc.integer({ min: 0, max: 11 }), { minLength: 2, maxLength: 5 }).map((ns): Condition => ({ kind: 'quantity', param: 'weight', values: ns.map((n) => ({ ...range(n, n), system: 'http://unitsofmeasure.org', code: 'kg' })) })),
  fc.uniqueArray(fc.constantFrom('http://a.example/x', 'http://a.example', 'http://b.example', 'urn:c', 'http://none.example'), { minLength: 2, maxLength: 4 }).map(
    (values): Condition => ({ kind: 'uri', param: 'url', match: 'below', values }),
  ),
);

function single(c: Condition, i: number): Condition {
  return { ...c, values: [(c as { values: readonly unknown[] }).values[i]] } as Condition;
}

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`search alternatives on ${name}`, () => {
    let db: TestDatabase;
    let store: ResourceStore;
    beforeAll(async () => {
      db = await createTestDatabase(name);
      store = await openStore(db.options);
      await store.transaction((tx) => tx.writeVersions(Array.from({ length: N }, (_, i) => create('Organization', `o${i}`, rowsOf(i)))));
    });
    afterAll(async () => {
      await store?.close();
      await db?.cleanup();
    });

    const ids = async (conditions: Condition[]): Promise<string[]> => {
      const r = await store.search(query(['Organization'], conditions, { count: 1000 }), 1000);
      return (await store.loadByKeys(r.keys)).map((v) => v.id).sort();
    };

    it('finds the union of its alternatives, driving the search or filtering beside another condition', async () => {
      await fc.assert(
        fc.asyncProperty(condition, async (c) => {
          const n = (c as { values: readonly unknown[] }).values.length;
          const union = new Set<string>();
          for (let i = 0; i < n; i++) for (const id of await ids([single(c, i)])) union.add(id);
          expect(await ids([c])).toEqual([...union].sort());
          // Beside an equality on a token, which the planner may pick to drive instead.
          const t0: Condition = { kind: 'token', param: 'type', not: false, values: [{ system: 'urn:t', code: 't0' }] };
          const withT0 = new Set(await ids([t0]));
          expect(await ids([c, t0])).toEqual([...union].filter((id) => withT0.has(id)).sort());
        }),
        { numRuns: 80, seed: 5 },
      );
    });

    it(':exact matches the text as written, not its normalised form', async () => {
      const exact = async (values: string[]): Promise<string[]> => ids([{ kind: 'string', param: 'name', match: 'exact', values }]);
      const abe = Array.from({ length: N }, (_, i) => i).filter((i) => words(i).includes('abe')).map((i) => `o${i}`).sort();
      const accented = Array.from({ length: N }, (_, i) => i).filter((i) => words(i).includes('Abé')).map((i) => `o${i}`).sort();
      expect(abe.length).toBeGreaterThan(0);
      expect(accented.length).toBeGreaterThan(0);
      // 'abe' and 'Abé' share a normalised value; :exact tells them apart.
      expect(await exact(['abe'])).toEqual(abe);
      expect(await exact(['Abé'])).toEqual(accented);
      expect(await exact(['ABE'])).toEqual([]);
      expect(await exact(['abe', 'Abé'])).toEqual([...new Set([...abe, ...accented])].sort());
    });
  });
}
