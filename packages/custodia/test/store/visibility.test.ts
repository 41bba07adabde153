/**
 * The store's SQL for a caller's Visibility agrees with the in-memory evaluator on every
 * query shape it is used in (search, count, load, includes, history), on every
 * database: random resources with random compartments and labels, random predicates.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { isVisible, type ResourceStore, type Visibility, type VisibilityFacts } from '../../src/fhir/index.js';
import { ALL_DATABASES, createTestDatabase, isAvailable, type TestDatabase } from '../helpers/databases.js';
import { create, query, refTo, rows, tok } from './store-fixtures.js';

const TYPES = ['Patient', 'Observation', 'Condition', 'Organization'];
const PATIENTS = ['p0', 'p4', 'p8', 'p12'];
const LABELS = [
  { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIV' },
  { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'ETH' },
  { system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' },
];

/** Token values of another parameter, for `has-token` (SMART scope restrictions); one code in two systems. */
const CATEGORIES = [
  { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' },
  { system: 'http://example.org/local-categories', code: 'laboratory' },
  { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'imaging' },
];

const facts: VisibilityFacts[] = [];
for (let i = 0; i < 60; i++) {
  const type = TYPES[i % TYPES.length]!;
  const id = `${type === 'Patient' ? 'p' : 'r'}${i}`;
  // Patients are p0, p4, p8…; every other resource belongs to one of the first three.
  const owner = `p${4 * ((i >> 2) % 3)}`;
  const compartments = type === 'Organization' ? [] : type === 'Patient' ? [{ compartment: 'Patient', id }] : [{ compartment: 'Patient', id: owner }, ...(i % 7 === 0 ? [{ compartment: 'Patient', id: 'p12' }] : [])];
  const labels = LABELS.filter((_, j) => (i >> j) % 3 === 0);
  const categories = CATEGORIES.filter((_, j) => (i + j) % 4 === 0);
  const tokens = [...labels.map((l) => ({ param: '_security', system: l.system, code: l.code })), ...categories.map((c) => ({ param: 'category', ...c }))];
  facts.push({ type, id, compartments, labels, tokens });
}

const visibility: fc.Arbitrary<Visibility> = fc.letrec<{ v: Visibility }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constant<Visibility>({ kind: 'all' }),
    fc.constant<Visibility>({ kind: 'none' }),
    fc.subarray(TYPES, { minLength: 1 }).map((types): Visibility => ({ kind: 'type-in', types })),
    fc.subarray([...PATIENTS, 'p5', 'p16'], { minLength: 1 }).map((ids): Visibility => ({ kind: 'in-compartment', compartment: 'Patient', ids })),
    fc.constantFrom(...LABELS).map((l): Visibility => ({ kind: 'has-label', ...l })),
    fc.constantFrom(...CATEGORIES).map((c): Visibility => ({ kind: 'has-token', param: 'category', ...c })),
    fc.constantFrom('laboratory', 'imaging', 'HIV').map((code): Visibility => ({ kind: 'has-token', param: 'category', code })),
    fc.constantFrom(...LABELS).map((l): Visibility => ({ kind: 'has-token', param: '_security', code: l.code })),
    fc.subarray(facts.map((f) => `${f.type}/${f.id}`), { minLength: 1, maxLength: 5 }).map((refs): Visibility => ({ kind: 'ref-in', refs })),
    fc.array(tie('v'), { minLength: 1, maxLength: 3 }).map((items): Visibility => ({ kind: 'and', items })),
    fc.array(tie('v'), { minLength: 1, maxLength: 3 }).map((items): Visibility => ({ kind: 'or', items })),
    tie('v').map((item): Visibility => ({ kind: 'not', item })),
  ),
})).v;

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`Visibility SQL on ${name}`, () => {
    let db: TestDatabase;
    let store: ResourceStore;
    beforeAll(async () => {
      db = await createTestDatabase(name);
      store = await openStore(db.options);
      await store.transaction((tx) =>
        tx.writeVersions(
          facts.map((f) =>
            create(
              f.type,
              f.id,
              rows({
                token: f.tokens!.map((t) => tok(t.param, t.system!, t.code!)),
                reference: f.type === 'Patient' || f.type === 'Organization' ? [refTo('organization', 'Organization', 'r3')] : [refTo('subject', 'Patient', f.compartments[0]!.id)],
              }),
              1_700_000_000_000,
              f.compartments,
            ),
          ),
        ),
      );
    });
    afterAll(async () => {
      await store?.close();
      await db?.cleanup();
    });

    it('search, count, load and history return exactly what isVisible allows', async () => {
      await fc.assert(
        fc.asyncProperty(visibility, async (v) => {
          const expected = facts.filter((f) => isVisible(v, f)).map((f) => `${f.type}/${f.id}`).sort();
          const r = await store.search(query([]), 1000, v);
          const found = (await store.loadByKeys(r.keys, v)).map((x) => `${x.type}/${x.id}`).sort();
          expect(found).toEqual(expected);
          expect(r.total).toBe(expected.length);
          expect(await store.countHistory({}, v)).toBe(expected.length);
          const one = facts[7]!;
          expect((await store.readCurrent(one.type, one.id, v)) !== undefined).toBe(isVisible(v, one));
        }),
        { numRuns: 60, seed: 11 },
      );
    });

    it('history pages by cursor: every visible version once, in order, at any page size; a cursor the caller may not see ends it', async () => {
      // Every version here has the same lastUpdated (one transaction), so the order within a page and across pages rests on the tie-break alone.
      const all = (await store.history({}, 1000, undefined))!.map((x) => `${x.type}/${x.id}`);
      expect(all).toHaveLength(facts.length);
      await fc.assert(
        fc.asyncProperty(visibility, fc.integer({ min: 1, max: 9 }), async (v, size) => {
          const expected = all.filter((ref) => isVisible(v, facts.find((f) => `${f.type}/${f.id}` === ref)!));
          const paged: string[] = [];
          let cursor: { type: string; id: string; versionId: number } | undefined;
          for (let page = 0; page <= facts.length; page++) {
            const versions = (await store.history({}, size, cursor, v))!;
            paged.push(...versions.map((x) => `${x.type}/${x.id}`));
            if (versions.length < size) break;
            const last = versions[size - 1]!;
            cursor = { type: last.type, id: last.id, versionId: last.versionId };
          }
          expect(paged).toEqual(expected);
          const hidden = facts.find((f) => !isVisible(v, f));
          if (hidden !== undefined) expect(await store.history({}, size, { type: hidden.type, id: hidden.id, versionId: 1 }, v)).toBeUndefined();
          expect(await store.history({}, size, { type: 'Patient', id: 'never-written', versionId: 1 }, v)).toBeUndefined();
        }),
        { numRuns: 40, seed: 12 },
      );
    });

    it('includes and chains only go through visible resources', async () => {
      const onlyP0: Visibility = { kind: 'or', items: [{ kind: 'in-compartment', compartment: 'Patient', ids: ['p0'] }, { kind: 'type-in', types: ['Organization'] }] };
      const all = await store.search(query(['Observation']), 1000);
      const patients = await store.loadByKeys(await store.includeKeys(all.keys, [{ sourceType: 'Observation', param: 'subject', iterate: false }], 100, onlyP0), onlyP0);
      expect(patients.map((p) => p.id)).toEqual(['p0']);
      const chained = await store.search(
        query(['Observation'], [{ kind: 'chain', param: 'subject', targetTypes: ['Patient'], condition: { kind: 'id', values: ['p4'] } }]),
        1000,
        { kind: 'type-in', types: ['Observation'] },
      );
      // Observations of p4 are visible, but p4 itself is not: the chain may not look through it.
      expect(chained.keys).toEqual([]);
      const seeingP4 = await store.search(
        query(['Observation'], [{ kind: 'chain', param: 'subject', targetTypes: ['Patient'], condition: { kind: 'id', values: ['p4'] } }]),
        1000,
        { kind: 'type-in', types: ['Observation', 'Patient'] },
      );
      expect(seeingP4.keys.length).toBeGreaterThan(0);
      const has = await store.search(query(['Patient'], [{ kind: 'has', sourceType: 'Observation', param: 'subject', condition: { kind: 'id', values: facts.filter((f) => f.type === 'Observation').map((f) => f.id) } }]), 1000, { kind: 'type-in', types: ['Patient'] });
      // Without sight of the Observations, _has cannot use them.
      expect(has.keys).toEqual([]);
    });
  });
}
