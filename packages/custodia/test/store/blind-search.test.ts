/**
 * Blind search (issue 4): a sealed store, whose identifying search values are stored only
 * as keyed blind indexes (store/blind-search.ts), answers the searches it supports exactly
 * as a clear store (CLEAR_AT_REST) loaded with the same Patients does. The clear store is
 * the oracle: its SQL is the one resource-store.test.ts checks on both databases.
 *
 * The property runs on a fixed seed (override with CUSTODIA_TEST_SEED) so a failure is
 * reproducible; fast-check prints the counterexample and the seed.
 */
import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blindIndexRows } from '../../src/store/blind-search.js';
import { blindPrefixes, blindPrefixRows } from '../../src/crypto/index.js';
import { openRawDatabase } from '../helpers/raw-database.js';
import { CLEAR_AT_REST, openStore } from '../../src/store/index.js';
import { normalizeString, parseDateRange, type Condition, type IndexRows, type Prefix, type ResourceStore, type SearchQuery } from '../../src/fhir/index.js';
import { isCustodiaError } from '../../src/kernel/index.js';
import { ALL_DATABASES, createTestDatabase, isAvailable, type TestDatabase } from '../helpers/databases.js';
import { create, query, rows, tok } from './store-fixtures.js';

const SEED = Number(process.env['CUSTODIA_TEST_SEED'] ?? 20_261_129);
const RUNS = 40;
const PREFIXES: readonly Prefix[] = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'];
const ID_SYSTEMS = ['urn:oid:2.16.840.1.113883.4.1', 'http://hospital.example.org/mrn', null] as const;

/** A string index row as the indexer makes it: `value` normalised (lower case, no accents), `exact` the original. */
const strRow = (param: string, value: string) => ({ param, grp: 0, value: normalizeString(value), exact: value });

interface BirthDate {
  readonly precision: 'year' | 'month' | 'day';
  readonly y: number;
  readonly m: number;
  readonly d: number;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
const dateText = (b: BirthDate): string => (b.precision === 'year' ? pad(b.y, 4) : b.precision === 'month' ? `${pad(b.y, 4)}-${pad(b.m)}` : `${pad(b.y, 4)}-${pad(b.m)}-${pad(b.d)}`);

interface PatientData {
  readonly family: string;
  readonly given: string;
  readonly identifiers: readonly { system: string | null; value: string }[];
  readonly phone?: string;
  readonly email?: string;
  readonly birth?: BirthDate;
}

// Small alphabets, so that names share prefixes and differ only by case or accent often enough to matter.
const letter = fc.constantFrom('a', 'A', 'á', 'Á', 'e', 'é', 'É', 'è', 'o', 'ö', 'Ö', 'n', 'ñ', 'N', 's', 'z', 'ß', 'ç', 'Å', 'ø', 'l', '-', "'");
const name = fc.array(letter, { minLength: 1, maxLength: 8 }).map((a) => a.join(''));
const birth: fc.Arbitrary<BirthDate> = fc
  .record({ precision: fc.constantFrom('year', 'month', 'day'), y: fc.oneof({ arbitrary: fc.integer({ min: 1850, max: 2150 }), weight: 1 }, { arbitrary: fc.constantFrom(1850, 1999, 2000, 2001, 2150), weight: 3 }), m: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 31 }) })
  .map((b) => {
    const days = new Date(Date.UTC(b.y, b.m, 0)).getUTCDate();
    return b.precision === 'year' ? { ...b, m: 1, d: 1 } : b.precision === 'month' ? { ...b, d: 1 } : { ...b, d: Math.min(b.d, days) };
  });
const patient: fc.Arbitrary<PatientData> = fc.record(
  {
    family: name,
    given: name,
    identifiers: fc.array(fc.record({ system: fc.constantFrom(...ID_SYSTEMS), value: fc.constantFrom('MRN-1', 'MRN-2', 'mrn-1', '123-45-6789', 'A7') }), { maxLength: 2 }),
    phone: fc.constantFrom('+1-555-0100', '+1 555 0101', '555-0102'),
    email: fc.constantFrom('ann@example.org', 'Ann@Example.org', 'bob@example.org'),
    birth,
  },
  { requiredKeys: ['family', 'given', 'identifiers'] },
);

function indexRowsOf(p: PatientData): IndexRows {
  const token = [
    ...p.identifiers.map((i) => tok('identifier', i.system, i.value)),
    ...(p.phone === undefined ? [] : [tok('telecom', 'phone', p.phone), tok('phone', 'phone', p.phone)]),
    ...(p.email === undefined ? [] : [tok('telecom', 'email', p.email), tok('email', 'email', p.email)]),
  ];
  const date = [];
  if (p.birth !== undefined) {
    const r = parseDateRange(dateText(p.birth))!;
    date.push({ param: 'birthdate', grp: 0, lo: r.lo, hi: r.hi });
  }
  return rows({
    string: [strRow('family', p.family), strRow('given', p.given), strRow('name', p.family), strRow('name', p.given)],
    token,
    date,
  });
}

/** A query condition, drawn against the Patients of the run so that many queries hit something. */
function conditionArb(ps: readonly PatientData[]): fc.Arbitrary<Condition> {
  const some = fc.constantFrom(...ps);
  const prefixOf = (s: string) => fc.integer({ min: 0, max: [...s].length }).map((n) => [...s].slice(0, n).join(''));
  const familyPrefix = fc.oneof(some.chain((p) => prefixOf(p.family)), name).map((t): Condition => ({ kind: 'string', param: 'family', match: 'prefix', values: [normalizeString(t)] }));
  const namePrefix = fc.oneof(some.chain((p) => prefixOf(p.given)), name).map((t): Condition => ({ kind: 'string', param: 'name', match: 'prefix', values: [normalizeString(t)] }));
  const familyExact = fc
    .oneof(
      some.map((p) => p.family),
      some.map((p) => p.family.toUpperCase()),
      some.map((p) => normalizeString(p.family)),
      name,
    )
    .map((t): Condition => ({ kind: 'string', param: 'family', match: 'exact', values: [t] }));
  const ids = ps.flatMap((p) => p.identifiers);
  const idValue = ids.length === 0 ? fc.constant('MRN-1') : fc.constantFrom(...ids.map((i) => i.value));
  const identifier = fc
    .tuple(fc.constantFrom('system|code', 'code', '|code', 'system|'), fc.constantFrom(...ID_SYSTEMS.filter((s) => s !== null)), idValue, fc.boolean())
    .map(([form, system, code, not]): Condition => {
      const value = form === 'system|code' ? { system, code } : form === 'code' ? { code } : form === '|code' ? { system: null, code } : { system };
      return { kind: 'token', param: 'identifier', not, values: [value] };
    });
  const phones = ps.flatMap((p) => (p.phone === undefined ? [] : [p.phone]));
  const emails = ps.flatMap((p) => (p.email === undefined ? [] : [p.email]));
  const telecom = fc
    .tuple(
      fc.constantFrom('telecom', 'phone', 'email'),
      fc.oneof(fc.constantFrom('+1-555-0100', 'ann@example.org', 'nobody@example.org'), ...(phones.length > 0 ? [fc.constantFrom(...phones)] : []), ...(emails.length > 0 ? [fc.constantFrom(...emails)] : [])),
      fc.constantFrom<'none' | 'phone' | 'email'>('none', 'phone', 'email'),
    )
    .map(([param, code, system]): Condition => ({ kind: 'token', param, not: false, values: [system === 'none' ? { code } : { system, code }] }));
  const dates = ps.flatMap((p) => (p.birth === undefined ? [] : [p.birth]));
  const searchDate = fc.oneof(birth, ...(dates.length > 0 ? [fc.constantFrom(...dates)] : []), fc.constantFrom<BirthDate>({ precision: 'year', y: 1840, m: 1, d: 1 }, { precision: 'year', y: 2160, m: 1, d: 1 }));
  const birthdate = fc
    .tuple(fc.constantFrom(...PREFIXES), searchDate, fc.constantFrom<BirthDate['precision'] | 'own'>('own', 'year', 'month', 'day'))
    .map(([prefix, b, precision]): Condition => {
      const at: BirthDate = precision === 'own' ? b : { ...b, precision, ...(precision === 'year' ? { m: 1, d: 1 } : precision === 'month' ? { d: 1 } : {}) };
      const r = parseDateRange(dateText(at))!;
      return { kind: 'date', param: 'birthdate', values: [{ prefix, range: { lo: r.lo, hi: r.hi } }] };
    });
  return fc.oneof(familyPrefix, namePrefix, familyExact, identifier, telecom, { arbitrary: birthdate, weight: 5 });
}

for (const dbName of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dbName))(`blind search on ${dbName}`, () => {
    let sealedDb: TestDatabase;
    let clearDb: TestDatabase;
    let sealed: ResourceStore;
    let clear: ResourceStore;
    let run = 0;

    const idsOf = async (store: ResourceStore, q: SearchQuery): Promise<string[]> => {
      const r = await store.search(q, 1000);
      return (await store.loadByKeys(r.keys)).map((v) => v.id).sort();
    };

    beforeAll(async () => {
      sealedDb = await createTestDatabase(dbName);
      clearDb = await createTestDatabase(dbName);
      sealed = await openStore(sealedDb.options);
      clear = await openStore({ ...clearDb.options, atRest: CLEAR_AT_REST });
      expect(sealedDb.options.atRest.sealed).toBe(true);
    });

    afterAll(async () => {
      await sealed?.close();
      await clear?.close();
      await sealedDb?.cleanup();
      await clearDb?.cleanup();
    });

    it('answers family, :exact, identifier, telecom and every birthdate prefix as the clear store does (property)', async () => {
      let queries = 0;
      let hits = 0;
      let partial = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(patient, { minLength: 1, maxLength: 8 }).chain((ps) => fc.tuple(fc.constant(ps), fc.array(conditionArb(ps), { minLength: 1, maxLength: 12 }))),
          async ([ps, conditions]) => {
            const r = run++;
            const ids = ps.map((_, i) => `r${r}p${i}`);
            const writes = ps.map((p, i) => create('Patient', ids[i]!, indexRowsOf(p)));
            await sealed.transaction((tx) => tx.writeVersions(writes));
            await clear.transaction((tx) => tx.writeVersions(writes));
            // Each run's Patients only: earlier runs' rows stay in the tables.
            const only: Condition = { kind: 'id', values: ids };
            for (const c of conditions) {
              const q = query(['Patient'], [only, c]);
              const expected = await idsOf(clear, q);
              expect(await idsOf(sealed, q), JSON.stringify(c)).toEqual(expected);
              queries++;
              if (expected.length > 0) hits++;
              if (expected.length > 0 && expected.length < ids.length) partial++;
            }
          },
        ),
        { numRuns: RUNS, seed: SEED },
      );
      // The comparison is not vacuous: many queries matched some, but not all, of the run's Patients.
      expect(hits).toBeGreaterThan(queries / 5);
      expect(partial).toBeGreaterThan(queries / 10);
    });

    it('the sealed store stores no identifying plaintext in its index for the same Patients', async () => {
      const p: PatientData = { family: 'Ångström-Zyx', given: 'Renée', identifiers: [{ system: ID_SYSTEMS[0], value: 'MRN-8QZ7X4K2' }], phone: '+1-555-0199-7731', email: 'renee@example.org', birth: { precision: 'day', y: 1987, m: 3, d: 5 } };
      await sealed.transaction((tx) => tx.writeVersions([create('Patient', 'plain-check', indexRowsOf(p))]));
      await clear.transaction((tx) => tx.writeVersions([create('Patient', 'plain-check', indexRowsOf(p))]));
      const q = (c: Condition) => query(['Patient'], [c]);
      for (const c of [
        { kind: 'string', param: 'family', match: 'exact', values: ['Ångström-Zyx'] },
        { kind: 'string', param: 'family', match: 'prefix', values: ['angstrom-z'] },
        { kind: 'token', param: 'identifier', not: false, values: [{ system: ID_SYSTEMS[0], code: 'MRN-8QZ7X4K2' }] },
        { kind: 'token', param: 'phone', not: false, values: [{ code: '+1-555-0199-7731' }] },
        { kind: 'date', param: 'birthdate', values: [{ prefix: 'eq', range: parseDateRange('1987-03-05')! }] },
      ] as Condition[]) {
        expect(await idsOf(sealed, q(c))).toEqual(['plain-check']);
        expect(await idsOf(clear, q(c))).toEqual(['plain-check']);
      }
    });

    it('still finds a name stored before prefix tails (one row per prefix, migration 0015), and nothing longer', async () => {
      const p: PatientData = { family: 'Vandermeulen', given: 'Ann', identifiers: [] };
      await sealed.transaction((tx) => tx.writeVersions([create('Patient', 'legacy-rows', indexRowsOf(p))]));
      const raw = await openRawDatabase(sealedDb);
      try {
        const [{ pk }] = (await raw.query<{ pk: number }>("SELECT pk FROM resources WHERE res_type = 'Patient' AND res_id = 'legacy-rows'")) as [{ pk: number }];
        const [{ exact }] = (await raw.query<{ exact: string }>("SELECT exact FROM sp_string WHERE res_pk = ? AND param = 'family'", [pk])) as [{ exact: string }];
        await raw.query("DELETE FROM sp_string WHERE res_pk = ? AND param = 'family'", [pk]);
        // The layout before tails: every prefix a row of its own (family is blinded in the `name` domain).
        for (const value of blindPrefixes(sealedDb.keys.indexKey(), 'name', 'vandermeulen')) {
          await raw.query("INSERT INTO sp_string (res_pk, res_type, param, grp, value, exact) VALUES (?, 'Patient', 'family', 0, ?, ?)", [pk, value, exact]);
        }
      } finally {
        await raw.close();
      }
      const family = (term: string) => idsOf(sealed, query(['Patient'], [{ kind: 'string', param: 'family', match: 'prefix', values: [term] }]));
      for (const term of ['v', 'vand', 'vande', 'vandermeule', 'vandermeulen']) expect(await family(term), term).toContain('legacy-rows');
      expect(await family('vandermeulenx')).not.toContain('legacy-rows');
      expect(await family('vandy')).not.toContain('legacy-rows');
      const exact = (text: string) => idsOf(sealed, query(['Patient'], [{ kind: 'string', param: 'family', match: 'exact', values: [text] }]));
      expect(await exact('Vandermeulen')).toContain('legacy-rows');
      expect(await exact('vandermeulen')).not.toContain('legacy-rows');
    });

    it('still finds a name stored with four head rows and a tail (the layout before three)', async () => {
      const p: PatientData = { family: 'Oosterhuisen', given: 'Bea', identifiers: [] };
      await sealed.transaction((tx) => tx.writeVersions([create('Patient', 'four-heads', indexRowsOf(p))]));
      const raw = await openRawDatabase(sealedDb);
      try {
        const [{ pk }] = (await raw.query<{ pk: number }>("SELECT pk FROM resources WHERE res_type = 'Patient' AND res_id = 'four-heads'")) as [{ pk: number }];
        const [{ exact }] = (await raw.query<{ exact: string }>("SELECT exact FROM sp_string WHERE res_pk = ? AND param = 'family'", [pk])) as [{ exact: string }];
        await raw.query("DELETE FROM sp_string WHERE res_pk = ? AND param = 'family'", [pk]);
        const { heads, tail } = blindPrefixRows(sealedDb.keys.indexKey(), 'name', 'oosterhuisen', 4);
        for (const [i, value] of heads.entries()) {
          await raw.query("INSERT INTO sp_string (res_pk, res_type, param, grp, value, exact, tail) VALUES (?, 'Patient', 'family', 0, ?, ?, ?)", [pk, value, exact, i === heads.length - 1 ? tail : null]);
        }
      } finally {
        await raw.close();
      }
      const family = (term: string) => idsOf(sealed, query(['Patient'], [{ kind: 'string', param: 'family', match: 'prefix', values: [term] }]));
      for (const term of ['o', 'oos', 'oost', 'ooste', 'oosterhuisen']) expect(await family(term), term).toContain('four-heads');
      expect(await family('oosterhuisenx')).not.toContain('four-heads');
      expect(await family('oostx')).not.toContain('four-heads');
      const exact = (text: string) => idsOf(sealed, query(['Patient'], [{ kind: 'string', param: 'family', match: 'exact', values: [text] }]));
      expect(await exact('Oosterhuisen')).toContain('four-heads');
      expect(await exact('Oosterhuisen ')).not.toContain('four-heads');
    });

    it('refuses :contains and _sort on blinded parameters with search-unsupported; the clear store answers them', async () => {
      const contains = query(['Patient'], [{ kind: 'string', param: 'family', match: 'contains', values: ['ab'] }]);
      await expect(sealed.search(contains, 10)).rejects.toSatisfy((e) => isCustodiaError(e, 'search-unsupported'));
      await expect(clear.search(contains, 10)).resolves.toBeDefined();
      for (const sort of [
        { param: 'family', table: 'string', descending: false },
        { param: 'birthdate', table: 'date', descending: true },
        { param: 'name', table: 'string', descending: false },
      ] as const) {
        const q = query(['Patient'], [], { sort: [sort] });
        await expect(sealed.search(q, 10)).rejects.toSatisfy((e) => isCustodiaError(e, 'search-unsupported'));
        await expect(clear.search(q, 10)).resolves.toBeDefined();
      }
      // Sorting on what stays in clear still works on the sealed store.
      await expect(sealed.search(query(['Patient'], [], { sort: [{ param: '_id', table: 'meta', descending: false }] }), 10)).resolves.toBeDefined();
    });

    it('refuses one search mixing a person type with another type on a blinded parameter', async () => {
      const mixed = query(['Patient', 'Organization'], [{ kind: 'string', param: 'name', match: 'prefix', values: ['acme'] }]);
      await expect(sealed.search(mixed, 10)).rejects.toSatisfy((e) => isCustodiaError(e, 'search-unsupported'));
      // Each type alone is fine: Patient names are blinded, Organization names are not.
      await expect(sealed.search(query(['Patient'], mixed.conditions), 10)).resolves.toBeDefined();
      await expect(sealed.search(query(['Organization'], mixed.conditions), 10)).resolves.toBeDefined();
      await expect(sealed.search(query(['Patient', 'Practitioner'], mixed.conditions), 10)).resolves.toBeDefined();
    });
  });
}

describe('blindIndexRows', () => {
  const KEY = Buffer.alloc(32, 0x5a);
  /** Every text a stored row holds. */
  const texts = (r: IndexRows): string[] => [
    ...r.string.flatMap((s) => [s.value, s.exact, s.tail ?? '']),
    ...r.token.flatMap((t) => [t.system, t.code, t.text]),
    ...r.reference.flatMap((x) => [x.identifierValue, x.identifierSystem, x.url]),
  ].filter((s): s is string => s !== null);

  // At least 6 characters: a shorter needle could turn up by chance inside a 22-character base64url index.
  const word = fc.array(fc.constantFrom('a', 'Z', 'é', 'Ö', 'k', 'q', 'x', 'w', 'ø', 'ñ'), { minLength: 6, maxLength: 14 }).map((a) => a.join(''));
  test.prop(
    [
      fc.record({
        family: word,
        given: word,
        identifier: fc.stringMatching(/^[A-Z]{3}-[0-9A-Z]{6,10}$/),
        phone: fc.stringMatching(/^\+[1-9]-[0-9]{3}-[0-9]{4}-[0-9]{4}$/),
        email: word.map((w) => `${w}@example.org`),
        birth: birth.filter((b) => b.precision !== 'year'),
      }),
    ],
    { numRuns: 100, seed: SEED },
  )('leaves no identifying plaintext in the rows', (p) => {
    const input = indexRowsOf({ family: p.family, given: p.given, identifiers: [{ system: ID_SYSTEMS[1], value: p.identifier }], phone: p.phone, email: p.email, birth: p.birth });
    input.reference.push({ param: 'subject', grp: 0, targetType: null, targetId: null, url: null, identifierSystem: ID_SYSTEMS[1], identifierValue: p.identifier });
    const out = blindIndexRows(KEY, 'Patient', input);
    const needles = [p.family, p.given, normalizeString(p.family), normalizeString(p.given), p.identifier, p.phone, p.email, dateText(p.birth)];
    for (const t of texts(out)) {
      for (const n of needles) {
        expect(t).not.toBe(n);
        expect(t.toLowerCase()).not.toContain(n.toLowerCase());
      }
    }
    // The birth date left the date table (no range a reader could turn back into the date) and became blind tokens.
    expect(out.date).toEqual([]);
    expect(out.token.filter((t) => t.param === 'birthdate').length).toBe(3);
    // What stays in clear is what does not identify: the systems.
    expect(out.token.filter((t) => t.param === 'identifier').map((t) => t.system)).toEqual([ID_SYSTEMS[1]]);
    // The input rows did hold the plaintext: the check above can fail.
    expect(texts(input)).toContain(p.identifier);
  });

  it('leaves non-person types\' names and dates in clear, but blinds identifiers on every type', () => {
    const input = rows({ string: [strRow('name', 'Acme Clinic')], token: [tok('identifier', 'urn:x', 'ORG-1')], date: [{ param: 'birthdate', grp: 0, lo: 0, hi: 86_399_999 }] });
    const out = blindIndexRows(KEY, 'Organization', input);
    expect(out.string).toEqual(input.string);
    expect(out.date).toEqual(input.date);
    expect(out.token[0]!.code).not.toBe('ORG-1');
  });
});
