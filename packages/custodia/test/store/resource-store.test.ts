/**
 * One store suite, every dialect (architecture guide §3.11). The SQL of each search
 * condition is exercised on SQLite and PostgreSQL with the same data and expectations.
 * It stores in clear, so that names and birth dates can stand in for any string and date
 * parameter; blind-search.test.ts runs the same kinds of query against a sealed store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { CLEAR_AT_REST, openStore } from '../../src/store/index.js';
import type { ResourceStore, SearchQuery } from '../../src/fhir/index.js';
import { isCustodiaError } from '../../src/kernel/index.js';
import { ALL_DATABASES, createTestDatabase, isAvailable, type TestDatabase } from '../helpers/databases.js';
import { create, date, query, refTo, rows, str, tok } from './store-fixtures.js';

const Y2000 = Date.UTC(2000, 0, 1);
const Y2010 = Date.UTC(2010, 0, 1);

for (const name of ALL_DATABASES) {
  describe.skipIf(!isAvailable(name))(`ResourceStore on ${name}`, () => {
    let db: TestDatabase;
    let store: ResourceStore;
    const ids = async (q: SearchQuery): Promise<string[]> => {
      const r = await store.search(q, 100);
      return (await store.loadByKeys(r.keys)).map((v) => v.id);
    };

    beforeAll(async () => {
      db = await createTestDatabase(name);
      store = await openStore({ ...db.options, atRest: CLEAR_AT_REST });
      await store.transaction((tx) =>
        tx.writeVersions([
          create('Patient', 'p1', rows({ string: [str('family', 'Smith'), str('given', 'Ann')], token: [tok('gender', 'http://hl7.org/fhir/administrative-gender', 'female')], date: [date('birthdate', Y2000, Y2000 + 86_399_999)] })),
          create('Patient', 'p2', rows({ string: [str('family', 'Smithers')], token: [tok('gender', 'http://hl7.org/fhir/administrative-gender', 'male')], date: [date('birthdate', Y2010, Y2010 + 86_399_999)] })),
          create('Patient', 'p3', rows({ string: [str('family', 'Jones')] })),
          create('Observation', 'o1', rows({ reference: [refTo('subject', 'Patient', 'p1')], token: [tok('code', 'http://loinc.org', '8480-6', 'systolic')] })),
          create('Observation', 'o2', rows({ reference: [refTo('subject', 'Patient', 'p2')], token: [tok('code', 'http://loinc.org', '8462-4')] })),
        ]),
      );
    });

    afterAll(async () => {
      await store?.close();
      await db?.cleanup();
    });

    it('reads the current version back', async () => {
      const v = await store.readCurrent('Patient', 'p1');
      expect(v).toMatchObject({ type: 'Patient', id: 'p1', versionId: 1, deleted: false, method: 'POST' });
      expect(JSON.parse(v!.json!)).toMatchObject({ resourceType: 'Patient', id: 'p1' });
      expect(await store.readCurrent('Patient', 'nope')).toBeUndefined();
    });

    it('string prefix, exact and contains', async () => {
      expect(await ids(query(['Patient'], [{ kind: 'string', param: 'family', match: 'prefix', values: ['smith'] }]))).toEqual(['p1', 'p2']);
      expect(await ids(query(['Patient'], [{ kind: 'string', param: 'family', match: 'exact', values: ['Smith'] }]))).toEqual(['p1']);
      expect(await ids(query(['Patient'], [{ kind: 'string', param: 'family', match: 'contains', values: ['ith'] }]))).toEqual(['p1', 'p2']);
      expect(await ids(query(['Patient'], [{ kind: 'string', param: 'family', match: 'contains', values: ['%'] }]))).toEqual([]);
    });

    it('tokens with and without system, :not and :missing', async () => {
      const g = 'http://hl7.org/fhir/administrative-gender';
      expect(await ids(query(['Patient'], [{ kind: 'token', param: 'gender', not: false, values: [{ code: 'female' }] }]))).toEqual(['p1']);
      expect(await ids(query(['Patient'], [{ kind: 'token', param: 'gender', not: false, values: [{ system: g, code: 'male' }] }]))).toEqual(['p2']);
      expect(await ids(query(['Patient'], [{ kind: 'token', param: 'gender', not: false, values: [{ system: null, code: 'male' }] }]))).toEqual([]);
      expect(await ids(query(['Patient'], [{ kind: 'token', param: 'gender', not: true, values: [{ code: 'female' }] }]))).toEqual(['p2', 'p3']);
      expect(await ids(query(['Patient'], [{ kind: 'missing', param: 'gender', table: 'token', missing: true }]))).toEqual(['p3']);
      expect(await ids(query(['Observation'], [{ kind: 'token-text', param: 'code', values: ['syst'] }]))).toEqual(['o1']);
    });

    it('date prefixes follow the precision ranges', async () => {
      const in2000 = { lo: Y2000, hi: Date.UTC(2001, 0, 1) - 1 };
      const q = (prefix: 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap') =>
        ids(query(['Patient'], [{ kind: 'date', param: 'birthdate', values: [{ prefix, range: in2000 }] }]));
      expect(await q('eq')).toEqual(['p1']);
      expect(await q('ne')).toEqual(['p2']);
      expect(await q('gt')).toEqual(['p2']);
      expect(await q('ge')).toEqual(['p1', 'p2']);
      expect(await q('lt')).toEqual([]);
      expect(await q('le')).toEqual(['p1']);
      expect(await q('sa')).toEqual(['p2']);
      expect(await q('eb')).toEqual([]);
      expect(await q('ap')).toEqual(['p1']);
    });

    it('references, chains and _has', async () => {
      expect(await ids(query(['Observation'], [{ kind: 'reference', param: 'subject', values: [{ kind: 'local', types: ['Patient'], id: 'p2' }] }]))).toEqual(['o2']);
      expect(
        await ids(query(['Observation'], [{ kind: 'chain', param: 'subject', targetTypes: ['Patient'], condition: { kind: 'string', param: 'family', match: 'exact', values: ['Smith'] } }])),
      ).toEqual(['o1']);
      expect(
        await ids(query(['Patient'], [{ kind: 'has', sourceType: 'Observation', param: 'subject', condition: { kind: 'token', param: 'code', not: false, values: [{ code: '8462-4' }] } }])),
      ).toEqual(['p2']);
    });

    it('sorts by several keys with missing values last, and counts', async () => {
      const sorted = await ids(query(['Patient'], [], { sort: [{ param: 'birthdate', table: 'date', descending: true }, { param: '_id', table: 'meta', descending: false }] }));
      expect(sorted).toEqual(['p2', 'p1', 'p3']);
      const r = await store.search(query(['Patient']), 1);
      expect(r).toMatchObject({ truncated: true, total: 3 });
      expect(r.keys).toHaveLength(1);
    });

    it('includes and reverse-includes', async () => {
      const obs = await store.search(query(['Observation']), 10);
      const inc = await store.loadByKeys(await store.includeKeys(obs.keys, [{ sourceType: 'Observation', param: 'subject', iterate: false }], 100));
      expect(inc.map((v) => v.id).sort()).toEqual(['p1', 'p2']);
      const pats = await store.search(query(['Patient'], [{ kind: 'id', values: ['p1'] }]), 10);
      const rev = await store.loadByKeys(await store.revincludeKeys(pats.keys, [{ sourceType: 'Observation', param: 'subject', iterate: false }], 100));
      expect(rev.map((v) => v.id)).toEqual(['o1']);
    });

    it('updates move the current pointer and replace index rows; stale writers conflict', async () => {
      await store.transaction((tx) =>
        tx.writeVersions([{ ...create('Patient', 'p3', rows({ string: [str('family', 'Jonas')] }), 1_800_000_000_000), versionId: 2, method: 'PUT', expected: { versionId: 1, deleted: false } }]),
      );
      expect((await store.readCurrent('Patient', 'p3'))?.versionId).toBe(2);
      expect(await ids(query(['Patient'], [{ kind: 'string', param: 'family', match: 'exact', values: ['Jones'] }]))).toEqual([]);
      expect(await ids(query(['Patient'], [{ kind: 'string', param: 'family', match: 'exact', values: ['Jonas'] }]))).toEqual(['p3']);
      const stale = store.transaction((tx) =>
        tx.writeVersions([{ ...create('Patient', 'p3', rows({}), 1_800_000_000_001), versionId: 2, method: 'PUT', expected: { versionId: 1, deleted: false } }]),
      );
      await expect(stale).rejects.toSatisfy((e) => isCustodiaError(e, 'version-conflict'));
      const dup = store.transaction((tx) => tx.writeVersions([create('Patient', 'p1', rows({}))]));
      await expect(dup).rejects.toSatisfy((e) => isCustodiaError(e, 'version-conflict'));
      expect((await store.readVersion('Patient', 'p3', 1))?.versionId).toBe(1);
      const hist = (await store.history({ type: 'Patient', id: 'p3' }, 10, undefined))!;
      expect(hist.map((v) => v.versionId)).toEqual([2, 1]);
    });

    it('rolls a failed transaction back completely', async () => {
      const before = await store.countResources();
      const failing = store.transaction(async (tx) => {
        await tx.writeVersions([create('Patient', 'rollback-me', rows({ string: [str('family', 'Ghost')] }))]);
        throw new Error('boom');
      });
      await expect(failing).rejects.toThrow();
      expect(await store.countResources()).toBe(before);
      expect(await store.readCurrent('Patient', 'rollback-me')).toBeUndefined();
      expect(await ids(query(['Patient'], [{ kind: 'string', param: 'family', match: 'exact', values: ['Ghost'] }]))).toEqual([]);
    });

    it('group commit: concurrent transactions share a commit but fail alone', async () => {
      const before = await store.countResources('Basic');
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) =>
          store.transaction(async (tx) => {
            await tx.writeVersions([create('Basic', `g${i}`, rows({}))]);
            if (i % 4 === 3) throw new Error(`job ${i} fails after writing`);
            // A later job sees what earlier jobs of the same batch wrote, as if run serially.
            return (await tx.currentStates([{ type: 'Basic', id: 'g0' }])).has('Basic/g0');
          }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(Array.from({ length: 12 }, (_, i) => (i % 4 === 3 ? 'rejected' : 'fulfilled')));
      expect(results.filter((r) => r.status === 'fulfilled').every((r) => (r as PromiseFulfilledResult<boolean>).value)).toBe(true);
      expect(await store.countResources('Basic')).toBe(before + 9);
      expect(await store.readCurrent('Basic', 'g3')).toBeUndefined();
      expect(await store.readCurrent('Basic', 'g4')).toBeDefined();
      // A duplicate create fails alone too (a database constraint error inside the batch).
      const dup = await Promise.allSettled([
        store.transaction((tx) => tx.writeVersions([create('Basic', 'g0', rows({}))])),
        store.transaction((tx) => tx.writeVersions([create('Basic', 'g-new', rows({}))])),
      ]);
      expect(dup.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
      expect((dup[0] as PromiseRejectedResult).reason).toSatisfy((e: unknown) => isCustodiaError(e, 'version-conflict'));
    });

    it('refuses to change or remove a stored version, even with direct SQL', async () => {
      if (name === 'sqlite') {
        const raw = new BetterSqlite3(db.options.database);
        try {
          expect(() => raw.prepare('UPDATE resource_versions SET content = NULL').run()).toThrow(/immutable/);
          expect(() => raw.prepare('DELETE FROM resource_versions').run()).toThrow(/immutable/);
        } finally {
          raw.close();
        }
      } else {
        const client = new pg.Client({ connectionString: db.options.database, options: `-c search_path=${db.options.schema}` });
        await client.connect();
        try {
          await expect(client.query('UPDATE resource_versions SET content = NULL')).rejects.toThrow(/immutable/);
          await expect(client.query('DELETE FROM resource_versions')).rejects.toThrow(/immutable/);
        } finally {
          await client.end();
        }
      }
    });
  });
}
