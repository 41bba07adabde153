/**
 * A deleted resource keeps the visibility facts of its last live version — its
 * compartments and `_security` labels — so that vread and history of its earlier
 * versions stay under the same rule as before the delete (one set of facts per
 * resource). Every other index row goes, and the kept rows never make a deleted
 * resource match, count or be included. On every database, fast path and SQL alike.
 */
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import type { ResourceStore, VersionWrite, Visibility } from '../../src/fhir/index.js';
import { ALL_DATABASES, createTestDatabase, isAvailable, type TestDatabase } from '../helpers/databases.js';
import { create, query, refTo, rows, str, tok } from './store-fixtures.js';

const HIV = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIV' };
const T0 = 1_700_000_000_000;

/** Sees everything but HIV-labelled data (a clinician without the clearance). */
const NO_HIV: Visibility = { kind: 'not', item: { kind: 'has-label', ...HIV } };
/** Sees only patient p1's compartment (a patient-bound token, or consent's view). */
const ONLY_P1: Visibility = { kind: 'in-compartment', compartment: 'Patient', ids: ['p1'] };

const labelled = (id: string, patient: string) =>
  rows({
    token: [tok('_security', HIV.system, HIV.code), tok('code', 'http://snomed.info/sct', '86406008')],
    string: [str('note', 'secret')],
    reference: [refTo('subject', 'Patient', patient)],
  });

function update(type: string, id: string, versionId: number, index: ReturnType<typeof rows>, compartments: VersionWrite['compartments']): VersionWrite {
  return { ...create(type, id, index, T0 + versionId, compartments), versionId, method: 'PUT', expected: { versionId: versionId - 1, deleted: false } };
}

function deletion(type: string, id: string, versionId: number, wasDeleted = false): VersionWrite {
  return { type, id, versionId, lastUpdated: T0 + versionId, method: 'DELETE', json: null, index: null, compartments: null, expected: { versionId: versionId - 1, deleted: wasDeleted } };
}

/** Index rows per table for one resource, read with direct SQL. */
async function indexRowCounts(db: TestDatabase, type: string, id: string): Promise<Record<string, number>> {
  const tables = ['sp_string', 'sp_token', 'sp_reference', 'sp_date', 'sp_number', 'sp_quantity', 'sp_uri', 'sp_compartment'];
  const statement = (t: string) => `SELECT COUNT(*) AS n FROM ${t} WHERE res_pk = (SELECT pk FROM resources WHERE res_type = $1 AND res_id = $2)`;
  const out: Record<string, number> = {};
  if (db.name === 'sqlite') {
    const raw = new BetterSqlite3(db.options.database, { readonly: true });
    try {
      for (const t of tables) out[t] = Number((raw.prepare(statement(t).replace('$1', '?').replace('$2', '?')).get(type, id) as { n: number }).n);
      out['_security'] = Number((raw.prepare("SELECT COUNT(*) AS n FROM sp_token WHERE param = '_security' AND res_pk = (SELECT pk FROM resources WHERE res_type = ? AND res_id = ?)").get(type, id) as { n: number }).n);
    } finally {
      raw.close();
    }
    return out;
  }
  const client = new pg.Client({ connectionString: db.options.database, options: `-c search_path=${db.options.schema}` });
  await client.connect();
  try {
    for (const t of tables) out[t] = Number((await client.query(statement(t), [type, id])).rows[0].n);
    out['_security'] = Number((await client.query("SELECT COUNT(*) AS n FROM sp_token WHERE param = '_security' AND res_pk = (SELECT pk FROM resources WHERE res_type = $1 AND res_id = $2)", [type, id])).rows[0].n);
  } finally {
    await client.end();
  }
  return out;
}

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`deleted resources keep their visibility facts on ${name}`, () => {
    let db: TestDatabase;
    let store: ResourceStore;
    beforeAll(async () => {
      db = await createTestDatabase(name);
      store = await openStore(db.options);
      await store.transaction((tx) =>
        tx.writeVersions([
          create('Patient', 'p1', rows({}), T0, [{ compartment: 'Patient', id: 'p1' }]),
          create('Patient', 'p2', rows({}), T0, [{ compartment: 'Patient', id: 'p2' }]),
          create('Condition', 'c-hiv', labelled('c-hiv', 'p1'), T0, [{ compartment: 'Patient', id: 'p1' }]),
          create('Condition', 'c-p2', rows({ reference: [refTo('subject', 'Patient', 'p2')], string: [str('note', 'secret')] }), T0, [{ compartment: 'Patient', id: 'p2' }]),
          create('Condition', 'c-live', labelled('c-live', 'p1'), T0, [{ compartment: 'Patient', id: 'p1' }]),
        ]),
      );
      await store.transaction((tx) => tx.writeVersions([update('Condition', 'c-hiv', 2, labelled('c-hiv', 'p1'), [{ compartment: 'Patient', id: 'p1' }])]));
      await store.transaction((tx) => tx.writeVersions([deletion('Condition', 'c-hiv', 3), deletion('Condition', 'c-p2', 2)]));
    });
    afterAll(async () => {
      await store?.close();
      await db?.cleanup();
    });

    it('keeps only the compartment and _security rows of a deleted resource', async () => {
      expect(await indexRowCounts(db, 'Condition', 'c-hiv')).toEqual({
        sp_string: 0,
        sp_token: 1,
        sp_reference: 0,
        sp_date: 0,
        sp_number: 0,
        sp_quantity: 0,
        sp_uri: 0,
        sp_compartment: 1,
        _security: 1,
      });
    });

    it('judges read, vread and history of a deleted resource by the facts of its last live version', async () => {
      // Without the clearance: exactly as if it never existed.
      expect(await store.readCurrent('Condition', 'c-hiv', NO_HIV)).toBeUndefined();
      expect(await store.readVersion('Condition', 'c-hiv', 1, NO_HIV)).toBeUndefined();
      expect(await store.readVersion('Condition', 'c-hiv', 3, NO_HIV)).toBeUndefined();
      expect(await store.history({ type: 'Condition', id: 'c-hiv' }, 10, undefined, NO_HIV)).toEqual([]);
      expect(await store.countHistory({ type: 'Condition', id: 'c-hiv' }, NO_HIV)).toBe(0);
      expect((await store.history({ type: 'Condition' }, 50, undefined, NO_HIV))!.map((v) => v.id)).not.toContain('c-hiv');
      expect((await store.history({}, 50, undefined, NO_HIV))!.map((v) => v.id)).not.toContain('c-hiv');
      // With it (here: a predicate that lets the label through): the deletion and the old versions.
      const cleared: Visibility = { kind: 'has-label', ...HIV };
      expect(await store.readCurrent('Condition', 'c-hiv', cleared)).toMatchObject({ deleted: true, versionId: 3 });
      expect(await store.readVersion('Condition', 'c-hiv', 1, cleared)).toMatchObject({ deleted: false, versionId: 1 });
      expect(await store.countHistory({ type: 'Condition', id: 'c-hiv' }, cleared)).toBe(3);
    });

    it('keeps a deleted resource in its patient compartment for compartment-bound callers', async () => {
      expect(await store.readCurrent('Condition', 'c-p2', ONLY_P1)).toBeUndefined();
      expect(await store.readVersion('Condition', 'c-p2', 1, ONLY_P1)).toBeUndefined();
      expect(await store.countHistory({ type: 'Condition', id: 'c-p2' }, ONLY_P1)).toBe(0);
      const onlyP2: Visibility = { kind: 'in-compartment', compartment: 'Patient', ids: ['p2'] };
      expect(await store.readCurrent('Condition', 'c-p2', onlyP2)).toMatchObject({ deleted: true });
      expect(await store.readVersion('Condition', 'c-p2', 1, onlyP2)).toMatchObject({ versionId: 1 });
      // Consent's form: "not in p2's compartment, or permitted" — a deny for p2 hides the deleted record too.
      const p2Denied: Visibility = { kind: 'not', item: onlyP2 };
      expect(await store.readVersion('Condition', 'c-p2', 1, p2Denied)).toBeUndefined();
      expect(await store.countHistory({ type: 'Condition' }, p2Denied)).toBe(3 + 1);
    });

    it('never lets the kept rows make a deleted resource match, count or be included', async () => {
      const all: Visibility = { kind: 'all' };
      const cleared: Visibility = { kind: 'has-label', ...HIV };
      for (const [v, patientsWithHiv] of [[all, ['p1']], [cleared, []], [ONLY_P1, ['p1']]] as const) {
        const bySecurity = await store.search(query(['Condition'], [{ kind: 'token', param: '_security', values: [HIV], not: false }]), 100, v);
        expect((await store.loadByKeys(bySecurity.keys, v)).map((x) => x.id)).toEqual(['c-live']);
        expect(bySecurity.total).toBe(1);
        const systemWide = await store.search(query([], [{ kind: 'token', param: '_security', values: [HIV], not: false }], { total: 'accurate' }), 0, v);
        expect(systemWide.total).toBe(1);
        const present = await store.search(query(['Condition'], [{ kind: 'missing', table: 'token', param: '_security', missing: false }]), 100, v);
        expect(present.keys).toHaveLength(1);
        const absent = await store.search(query(['Condition'], [{ kind: 'missing', table: 'token', param: '_security', missing: true }]), 100, v);
        expect((await store.loadByKeys(absent.keys, v)).map((x) => x.id)).toEqual([]);
        // _has and chains that test the label.
        const has = await store.search(query(['Patient'], [{ kind: 'has', sourceType: 'Condition', param: 'subject', condition: { kind: 'token', param: '_security', values: [HIV], not: false } }]), 100, v);
        expect((await store.loadByKeys(has.keys, v)).map((x) => x.id)).toEqual(patientsWithHiv);
      }
      const patients = await store.search(query(['Patient']), 100);
      expect(await store.revincludeKeys(patients.keys, [{ sourceType: 'Condition', param: '*', iterate: false }], 100)).toHaveLength(1);
      const live = await store.search(query(['Condition']), 100);
      expect((await store.loadByKeys(live.keys)).map((x) => x.id)).toEqual(['c-live']);
      expect(await store.countResources('Condition')).toBe(1);
      expect(await store.visibilityFacts('Condition', 'c-hiv')).toBeUndefined();
    });

    it('re-indexes a resource brought back after deletion from its new version only', async () => {
      await store.transaction((tx) => tx.writeVersions([{ ...update('Condition', 'c-p2', 3, rows({ reference: [refTo('subject', 'Patient', 'p1')] }), [{ compartment: 'Patient', id: 'p1' }]), expected: { versionId: 2, deleted: true } }]));
      expect(await indexRowCounts(db, 'Condition', 'c-p2')).toMatchObject({ sp_string: 0, sp_reference: 1, sp_compartment: 1, _security: 0 });
      expect(await store.readCurrent('Condition', 'c-p2', ONLY_P1)).toMatchObject({ versionId: 3, deleted: false });
      expect(await store.readCurrent('Condition', 'c-p2', { kind: 'in-compartment', compartment: 'Patient', ids: ['p2'] })).toBeUndefined();
      const search = await store.search(query(['Condition'], [{ kind: 'reference', param: 'subject', values: [{ kind: 'local', types: ['Patient'], id: 'p1' }] }]), 100, ONLY_P1);
      expect((await store.loadByKeys(search.keys, ONLY_P1)).map((x) => x.id).sort()).toEqual(['c-live', 'c-p2']);
      // Deleted again: it keeps the facts of the version it was brought back as.
      await store.transaction((tx) => tx.writeVersions([deletion('Condition', 'c-p2', 4)]));
      expect(await indexRowCounts(db, 'Condition', 'c-p2')).toMatchObject({ sp_reference: 0, sp_compartment: 1, _security: 0 });
      expect(await store.readCurrent('Condition', 'c-p2', ONLY_P1)).toMatchObject({ versionId: 4, deleted: true });
      expect(await store.readCurrent('Condition', 'c-p2', { kind: 'in-compartment', compartment: 'Patient', ids: ['p2'] })).toBeUndefined();
    });
  });
}
