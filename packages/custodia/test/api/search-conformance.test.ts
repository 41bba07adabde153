/**
 * Search answers checked against counts computed independently from the raw data,
 * on every database; and the same questions answered identically by both.
 * Data: 1,144 Synthea patients and the 10-patient Synthea demo set (7,160 resources).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFiles, localImportTarget, DEMO_DIR } from '../../src/app/index.js';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { fixtureResources } from '../helpers/fixture-files.js';
import { BASE, startTestVault, type TestVault } from '../helpers/test-vault.js';

type R = Record<string, any>;
const patients = fixtureResources('test/fixtures/synthea-1000-patients').map((f) => f.resource as R);
const demo = fixtureResources('demo/synthea-10-patients').map((f) => f.resource as R);
const all = [...patients, ...demo];
/** Both sets hold some of the same patients (same ids): the later import is the current version. */
const allPatients = [...new Map(all.filter((r) => r.resourceType === 'Patient').map((p) => [p.id as string, p])).values()];
const encounters = demo.filter((r) => r.resourceType === 'Encounter');

/** The oracle's own normalisation: no code shared with the vault. */
const norm = (s: string): string => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
const byteOrder = (a: string, b: string): number => (Buffer.compare(Buffer.from(a), Buffer.from(b)));
const families = (p: R): string[] => (p.name ?? []).map((n: R) => n.family).filter((f: unknown): f is string => typeof f === 'string');
const subjectId = (r: R): string | undefined => (r.subject?.reference as string | undefined)?.replace(/^Patient\//, '');

/** Answers per database, compared at the end. */
const answers = new Map<string, Map<string, unknown>>();

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`search conformance on ${dialect}`, () => {
    let t: TestVault;
    const record = (question: string, answer: unknown): void => {
      answers.get(dialect)!.set(question, answer);
    };
    const search = async (q: string): Promise<R> => {
      const res = await t.request('GET', `/fhir/${q}`);
      expect(res.status, q).toBe(200);
      return res.body as R;
    };
    const total = async (q: string): Promise<number> => {
      const n = (await search(`${q}${q.includes('?') ? '&' : '?'}_summary=count`)).total as number;
      record(q, n);
      return n;
    };
    const allIds = async (q: string): Promise<string[]> => {
      const ids: string[] = [];
      let body = await search(q);
      for (let guard = 0; guard < 500; guard++) {
        ids.push(...(body.entry ?? []).filter((e: R) => e.search.mode === 'match').map((e: R) => e.resource.id as string));
        const next = (body.link as R[]).find((l) => l.relation === 'next');
        if (next === undefined) break;
        body = (await t.request('GET', (next.url as string).replace(BASE, '/fhir'))).body as R;
      }
      record(`ids ${q}`, ids);
      return ids;
    };

    beforeAll(async () => {
      answers.set(dialect, new Map());
      t = await startTestVault(dialect);
      const report = await importFiles(localImportTarget(t.vault.fhir), [new URL('../fixtures/synthea-1000-patients', import.meta.url).pathname, DEMO_DIR]);
      expect(report.failures).toEqual([]);
      expect(report.resources).toBe(all.length);
      expect(await total('Patient')).toBe(allPatients.length);
    }, 300_000);
    afterAll(async () => t?.close());

    it('gender', async () => {
      for (const g of ['female', 'male']) expect(await total(`Patient?gender=${g}`)).toBe(allPatients.filter((p) => p.gender === g).length);
      expect(await total('Patient?gender:not=female')).toBe(allPatients.filter((p) => p.gender !== 'female').length);
    });

    it('birthdate ranges with prefixes and precision', async () => {
      const born = (pred: (d: string) => boolean) => allPatients.filter((p) => typeof p.birthDate === 'string' && pred(p.birthDate)).length;
      expect(await total('Patient?birthdate=ge1980-01-01&birthdate=lt1990-01-01')).toBe(born((d) => d >= '1980-01-01' && d < '1990-01-01'));
      expect(await total('Patient?birthdate=1985')).toBe(born((d) => d.startsWith('1985')));
      expect(await total('Patient?birthdate=1985-03')).toBe(born((d) => d.startsWith('1985-03')));
      expect(await total('Patient?birthdate=sa2000-12-31')).toBe(born((d) => d > '2000-12-31'));
      expect(await total('Patient?birthdate=le1950')).toBe(born((d) => d < '1951'));
      expect(await total('Patient?birthdate=gt1950&birthdate=eb1960')).toBe(born((d) => d >= '1951' && d < '1960'));
    });

    it('family prefix, :exact and :contains', async () => {
      const fam = (pred: (f: string) => boolean) => allPatients.filter((p) => families(p).some(pred)).length;
      for (const prefix of ['Sm', 'o', 'Mc', 'Rey']) expect(await total(`Patient?family=${prefix}`)).toBe(fam((f) => norm(f).startsWith(norm(prefix))));
      const someFamily = families(allPatients[7]!)[0]!;
      expect(await total(`Patient?family:exact=${encodeURIComponent(someFamily)}`)).toBe(fam((f) => f === someFamily));
      expect(await total(`Patient?family:exact=${encodeURIComponent(someFamily.toUpperCase())}`)).toBe(fam((f) => f === someFamily.toUpperCase()));
      // Names are stored as blind indexes of their prefixes: substrings cannot be searched (issue 4, docs/threat-model.md).
      const contains = await t.request('GET', '/fhir/Patient?family:contains=son');
      expect(contains.status).toBe(400);
      expect(contains.body.issue[0].diagnostics).toMatch(/blind index/);
    });

    it('name and address match any of their parts (sealed: looked up across the parts blinded once each)', async () => {
      const strings = (v: unknown): string[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string');
      const nameParts = (p: R): string[] => (p.name ?? []).flatMap((n: R) => ['family', 'given', 'prefix', 'suffix', 'text'].flatMap((k) => strings(n[k])));
      const addressParts = (p: R): string[] => (p.address ?? []).flatMap((a: R) => ['line', 'city', 'district', 'state', 'postalCode', 'country', 'text'].flatMap((k) => strings(a[k])));
      const some = allPatients[11]!;
      const terms = [...new Set([nameParts(some)[0]!.slice(0, 3), 'Mr', 'Mrs', families(allPatients[3]!)[0]!])];
      for (const term of terms) {
        expect(await total(`Patient?name=${encodeURIComponent(term)}`), term).toBe(allPatients.filter((p) => nameParts(p).some((x) => norm(x).startsWith(norm(term)))).length);
        expect(await total(`Patient?name:exact=${encodeURIComponent(term)}`), term).toBe(allPatients.filter((p) => nameParts(p).some((x) => x === term)).length);
      }
      const line = addressParts(some)[0]!;
      const city = (some.address as R[])[0]!.city as string;
      for (const term of [line.slice(0, 5), city, 'US', '0']) {
        expect(await total(`Patient?address=${encodeURIComponent(term)}`), term).toBe(allPatients.filter((p) => addressParts(p).some((x) => norm(x).startsWith(norm(term)))).length);
      }
      expect(await total(`Patient?address-city=${encodeURIComponent(city)}`)).toBe(allPatients.filter((p) => (p.address ?? []).some((a: R) => norm(a.city ?? '').startsWith(norm(city)))).length);
      expect(await total('Patient?name:missing=true')).toBe(allPatients.filter((p) => nameParts(p).length === 0).length);
      // Several alternatives at once (looked up together in the index since 2026-12-01), prefixes of one to seven characters, and :exact.
      const many = [...terms, 'Sm', 'o', 'Rey', 'zz-none', families(allPatients[40]!)[0]!, nameParts(allPatients[60]!)[1] ?? 'Ann'];
      const list = many.map(encodeURIComponent).join(',');
      expect(await total(`Patient?name=${list}`)).toBe(allPatients.filter((p) => nameParts(p).some((x) => many.some((m) => norm(x).startsWith(norm(m))))).length);
      expect(await total(`Patient?family:exact=${list}`)).toBe(allPatients.filter((p) => families(p).some((x) => many.includes(x))).length);
    });

    it('address-state', async () => {
      const states = new Set(allPatients.flatMap((p) => (p.address ?? []).map((a: R) => a.state as string)));
      for (const s of states) {
        expect(await total(`Patient?address-state=${encodeURIComponent(s)}`)).toBe(allPatients.filter((p) => (p.address ?? []).some((a: R) => norm(a.state ?? '').startsWith(norm(s)))).length);
      }
    });

    it('deceased', async () => {
      const dead = allPatients.filter((p) => p.deceasedDateTime !== undefined || p.deceasedBoolean === true).length;
      expect(dead).toBeGreaterThanOrEqual(144);
      expect(await total('Patient?deceased=true')).toBe(dead);
      expect(await total('Patient?deceased=false')).toBe(allPatients.length - dead);
    });

    it('identifier, with and without system', async () => {
      const p = allPatients[42]!;
      for (const ident of p.identifier as R[]) {
        const expected = allPatients.filter((q) => (q.identifier ?? []).some((i: R) => i.system === ident.system && i.value === ident.value)).length;
        expect(await total(`Patient?identifier=${encodeURIComponent(`${ident.system}|${ident.value}`)}`)).toBe(expected);
      }
      const mrn = (p.identifier as R[]).find((i) => i.type?.coding?.[0]?.code === 'MR')!;
      expect(await total(`Patient?identifier=${encodeURIComponent(mrn.value)}`)).toBe(allPatients.filter((q) => (q.identifier ?? []).some((i: R) => i.value === mrn.value)).length);
      expect(await total('Patient?identifier=urn:nobody|x')).toBe(0);
    });

    it('_include follows the page to its subjects', async () => {
      const body = await search('Encounter?_count=40&_include=Encounter:subject&_sort=_id');
      const matches = (body.entry as R[]).filter((e) => e.search.mode === 'match').map((e) => e.resource as R);
      const included = (body.entry as R[]).filter((e) => e.search.mode === 'include').map((e) => `${e.resource.resourceType}/${e.resource.id}`);
      const expected = [...new Set(matches.map((m) => m.subject.reference as string))].sort();
      expect(included.sort()).toEqual(expected);
      record('include', included);
      expect(body.total).toBe(encounters.length);
    });

    it('_revinclude brings every Encounter of the patient', async () => {
      const p = demo.find((r) => r.resourceType === 'Patient')!;
      const body = await search(`Patient?_id=${p.id}&_revinclude=Encounter:subject`);
      const included = (body.entry as R[]).filter((e) => e.search.mode === 'include').map((e) => e.resource.id as string);
      expect(included.sort(byteOrder)).toEqual(encounters.filter((e) => subjectId(e) === p.id).map((e) => e.id as string).sort(byteOrder));
      record('revinclude', included.length);
    });

    it('chains and _has', async () => {
      const p = demo.find((r) => r.resourceType === 'Patient')!;
      const fam = families(p)[0]!;
      const patientIds = new Set(allPatients.filter((q) => families(q).some((f) => norm(f).startsWith(norm(fam)))).map((q) => q.id));
      const expected = encounters.filter((e) => patientIds.has(subjectId(e))).length;
      expect(await total(`Encounter?subject:Patient.family=${encodeURIComponent(fam)}`)).toBe(expected);
      expect(await total(`Encounter?patient.family=${encodeURIComponent(fam)}`)).toBe(expected);
      const withEncounters = new Set(encounters.map(subjectId));
      expect(await total('Patient?_has:Encounter:subject:status=finished')).toBe(
        allPatients.filter((q) => encounters.some((e) => subjectId(e) === q.id && e.status === 'finished')).length,
      );
      expect(withEncounters.size).toBeGreaterThan(0);
    });

    it('pages through everything with no gap and no repeat', async () => {
      const ids = await allIds('Patient?_count=97');
      expect(ids).toHaveLength(allPatients.length);
      expect(new Set(ids).size).toBe(allPatients.length);
      expect([...ids].sort(byteOrder)).toEqual(allPatients.map((p) => p.id as string).sort(byteOrder));
    });

    it('paging is stable while data changes', async () => {
      const first = await search('Patient?gender=female&_count=10&_sort=_id');
      const expectedIds = allPatients.filter((p) => p.gender === 'female').map((p) => p.id as string).sort(byteOrder);
      // A new matching patient that sorts first arrives after the first page was served.
      await t.request('PUT', '/fhir/Patient/000-newcomer', { resourceType: 'Patient', id: '000-newcomer', gender: 'female' });
      const ids = (first.entry as R[]).map((e) => e.resource.id as string);
      let body = first;
      for (;;) {
        const next = (body.link as R[]).find((l) => l.relation === 'next');
        if (next === undefined) break;
        body = (await t.request('GET', (next.url as string).replace(BASE, '/fhir'))).body as R;
        ids.push(...(body.entry as R[]).map((e) => e.resource.id as string));
      }
      expect(ids).toEqual(expectedIds);
      await t.request('DELETE', '/fhir/Patient/000-newcomer');
    });

    it('sorts by several keys, ascending and descending', async () => {
      // Death dates stay in clear (they are clinical dates); names and birth dates are blind indexes and cannot be sorted on.
      const cmpDate = (a: R, b: R) => byteOrder(a.deceasedDateTime === undefined ? '\u{10ffff}' : new Date(a.deceasedDateTime).toISOString(), b.deceasedDateTime === undefined ? '\u{10ffff}' : new Date(b.deceasedDateTime).toISOString());
      const asc = [...allPatients].sort((a, b) => cmpDate(a, b) || byteOrder(a.id, b.id)).map((p) => p.id);
      expect(await allIds('Patient?_sort=death-date,_id&_count=500')).toEqual(asc);
      const byGender = [...allPatients].sort((a, b) => -byteOrder(a.gender ?? '', b.gender ?? '') || byteOrder(a.id, b.id)).map((p) => p.id);
      expect(await allIds('Patient?_sort=-gender,_id&_count=500')).toEqual(byGender);
      for (const key of ['family', '-birthdate']) {
        const res = await t.request('GET', `/fhir/Patient?_sort=${key}`);
        expect(res.status).toBe(400);
        expect(res.body.issue[0].code).toBe('not-supported');
      }
    });

    it('_total, _summary=count, _elements and _count=0', async () => {
      const body = await search('Patient?_count=5&_total=accurate');
      expect(body.total).toBe(allPatients.length);
      expect(body.entry).toHaveLength(5);
      const zero = await search('Patient?_count=0');
      expect(zero.total).toBe(allPatients.length);
      expect(zero.entry).toBeUndefined();
      const elements = await search('Patient?_count=3&_elements=gender');
      for (const e of elements.entry as R[]) {
        expect(Object.keys(e.resource).sort()).toEqual(expect.arrayContaining(['gender', 'id', 'meta', 'resourceType']));
        expect(e.resource.name).toBeUndefined();
        expect(e.resource.meta.tag.some((tag: R) => tag.code === 'SUBSETTED')).toBe(true);
      }
    });

    it('POST _search answers like GET', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/fhir/Patient/_search',
        headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'gender=female&birthdate=ge1980',
      });
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(res.body).total).toBe(allPatients.filter((p) => p.gender === 'female' && p.birthDate >= '1980').length);
    });
  });
}

describe.skipIf(!isAvailable('postgres'))('both databases', () => {
  it('gave the same answer to every question', () => {
    const sqlite = answers.get('sqlite');
    const postgres = answers.get('postgres');
    expect(sqlite?.size).toBeGreaterThan(20);
    expect(postgres).toEqual(sqlite);
  });
});
