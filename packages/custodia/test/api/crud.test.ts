/**
 * The instance and type interactions of R4 http.html over real HTTP handling
 * (fastify.inject), on every database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { BASE, startTestVault, type TestVault } from '../helpers/test-vault.js';

const patient = (family: string, extra: object = {}) => ({ resourceType: 'Patient', name: [{ family, given: ['Ada'] }], gender: 'female', birthDate: '1970-05-06', ...extra });

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`FHIR CRUD on ${dialect}`, () => {
    let t: TestVault;
    beforeAll(async () => {
      t = await startTestVault(dialect);
    });
    afterAll(async () => t?.close());

    it('creates with a server-assigned id, Location, ETag and Last-Modified (http.html §3.1.0.5)', async () => {
      const res = await t.request('POST', '/fhir/Patient', patient('Lovelace', { id: 'client-chosen' }));
      expect(res.status).toBe(201);
      expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
      expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.body.id).not.toBe('client-chosen');
      expect(res.headers['location']).toBe(`${BASE}/Patient/${res.body.id}/_history/1`);
      expect(res.headers['etag']).toBe('W/"1"');
      expect(new Date(res.headers['last-modified'] as string).getTime()).toBeGreaterThan(0);
      expect(res.body.meta).toMatchObject({ versionId: '1' });
      const read = await t.request('GET', `/fhir/Patient/${res.body.id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(res.body);
      expect(read.headers['etag']).toBe('W/"1"');
      expect(read.headers['cache-control']).toBe('no-store');
    });

    it('updates with If-Match, refuses a stale If-Match with 412, and keeps every version', async () => {
      const created = (await t.request('POST', '/fhir/Patient', patient('Hopper'))).body;
      const id = created.id as string;
      const v2 = await t.request('PUT', `/fhir/Patient/${id}`, { ...patient('Hopper', { id }), active: true }, { 'if-match': 'W/"1"' });
      expect(v2.status).toBe(200);
      expect(v2.body.meta.versionId).toBe('2');
      const stale = await t.request('PUT', `/fhir/Patient/${id}`, { ...patient('Hopper', { id }), active: false }, { 'if-match': 'W/"1"' });
      expect(stale.status).toBe(412);
      expect(stale.body.resourceType).toBe('OperationOutcome');
      const v1 = await t.request('GET', `/fhir/Patient/${id}/_history/1`);
      expect(v1.status).toBe(200);
      expect(v1.body.active).toBeUndefined();
      const history = await t.request('GET', `/fhir/Patient/${id}/_history`);
      expect(history.body.type).toBe('history');
      expect(history.body.total).toBe(2);
      expect(history.body.entry.map((e: any) => e.resource.meta.versionId)).toEqual(['2', '1']);
      expect(history.body.entry[1].request).toEqual({ method: 'POST', url: 'Patient' });
    });

    it('update-as-create keeps the client id and answers 201', async () => {
      const res = await t.request('PUT', '/fhir/Patient/chosen-1', patient('Turing', { id: 'chosen-1' }));
      expect(res.status).toBe(201);
      expect(res.body.id).toBe('chosen-1');
      expect((await t.request('PUT', '/fhir/Patient/chosen-1', patient('Turing', { id: 'chosen-1', active: true }))).status).toBe(200);
    });

    it('deletes as a new version: a later read is 410, vread of the old version still works', async () => {
      const id = (await t.request('POST', '/fhir/Patient', patient('Gone'))).body.id as string;
      const del = await t.request('DELETE', `/fhir/Patient/${id}`);
      expect(del.status).toBe(204);
      const read = await t.request('GET', `/fhir/Patient/${id}`);
      expect(read.status).toBe(410);
      expect(read.body.issue[0].code).toBe('deleted');
      expect((await t.request('GET', `/fhir/Patient/${id}/_history/1`)).status).toBe(200);
      expect((await t.request('GET', `/fhir/Patient/${id}/_history/2`)).status).toBe(410);
      const history = await t.request('GET', `/fhir/Patient/${id}/_history`);
      expect(history.body.entry[0].request).toEqual({ method: 'DELETE', url: `Patient/${id}` });
      expect(history.body.entry[0].resource).toBeUndefined();
      // Deleting what is already gone, or never was, is not an error (http.html §3.1.0.7).
      expect((await t.request('DELETE', `/fhir/Patient/${id}`)).status).toBe(204);
      expect((await t.request('DELETE', '/fhir/Patient/never-was')).status).toBe(204);
      // A deleted resource can be brought back with PUT.
      const back = await t.request('PUT', `/fhir/Patient/${id}`, patient('Gone', { id }));
      expect(back.status).toBe(201);
      expect(back.body.meta.versionId).toBe('3');
    });

    it('honours Prefer: return=minimal and return=OperationOutcome', async () => {
      const minimal = await t.request('POST', '/fhir/Patient', patient('Min'), { prefer: 'return=minimal' });
      expect(minimal.status).toBe(201);
      expect(minimal.text).toBe('');
      expect(minimal.headers['location']).toMatch(/\/Patient\/[0-9a-f-]{36}\/_history\/1$/);
      const oo = await t.request('POST', '/fhir/Patient', patient('Oo'), { prefer: 'return=OperationOutcome' });
      expect(oo.status).toBe(201);
      expect(oo.body.resourceType).toBe('OperationOutcome');
    });

    it('conditional create (If-None-Exist) returns the match instead of creating, and 412 on several', async () => {
      const body = patient('Conditional', { identifier: [{ system: 'urn:test', value: 'cc-1' }] });
      const first = await t.request('POST', '/fhir/Patient', body, { 'if-none-exist': 'identifier=urn:test|cc-1' });
      expect(first.status).toBe(201);
      const again = await t.request('POST', '/fhir/Patient', body, { 'if-none-exist': 'identifier=urn:test|cc-1' });
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(first.body.id);
      await t.request('POST', '/fhir/Patient', body);
      const many = await t.request('POST', '/fhir/Patient', body, { 'if-none-exist': 'identifier=urn:test|cc-1' });
      expect(many.status).toBe(412);
    });

    it('conditional update creates on no match, updates the single match, and refuses several', async () => {
      const body = patient('CondUpd', { identifier: [{ system: 'urn:test', value: 'cu-1' }] });
      const created = await t.request('PUT', '/fhir/Patient?identifier=urn:test|cu-1', body);
      expect(created.status).toBe(201);
      const updated = await t.request('PUT', '/fhir/Patient?identifier=urn:test|cu-1', { ...body, active: true });
      expect(updated.status).toBe(200);
      expect(updated.body.id).toBe(created.body.id);
      expect(updated.body.meta.versionId).toBe('2');
      const unknownParam = await t.request('PUT', '/fhir/Patient?not-a-param=1', body);
      expect(unknownParam.status).toBe(400);
    });

    it('conditional delete removes the single match', async () => {
      const body = patient('CondDel', { identifier: [{ system: 'urn:test', value: 'cd-1' }] });
      const id = (await t.request('POST', '/fhir/Patient', body)).body.id as string;
      expect((await t.request('DELETE', '/fhir/Patient?identifier=urn:test|cd-1')).status).toBe(204);
      expect((await t.request('GET', `/fhir/Patient/${id}`)).status).toBe(410);
    });

    it('serves history at type and system level with _since and _count', async () => {
      const before = new Date(Date.now() - 1000).toISOString();
      const type = await t.request('GET', `/fhir/Patient/_history?_count=2&_since=${encodeURIComponent(before)}`);
      expect(type.status).toBe(200);
      expect(type.body.entry).toHaveLength(2);
      expect(type.body.link.find((l: any) => l.relation === 'next')).toBeDefined();
      const next = type.body.link.find((l: any) => l.relation === 'next').url.replace(BASE, '/fhir');
      const page2 = await t.request('GET', next);
      expect(page2.body.entry[0].fullUrl).not.toBe(type.body.entry[0].fullUrl);
      const system = await t.request('GET', '/fhir/_history?_count=1');
      expect(system.body.total).toBeGreaterThan(5);
      const future = await t.request('GET', `/fhir/_history?_since=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`);
      expect(future.body.total).toBe(0);
      expect((await t.request('GET', '/fhir/_history?_since=yesterday')).status).toBe(400);
    });

    it('pages history by cursor: every version once, in order; writes while paging shift nothing; a bad cursor is 410', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await t.request('POST', '/fhir/Patient', patient(`Paged${i}`))).body.id as string);
      await t.request('PUT', `/fhir/Patient/${ids[0]!}`, { ...patient('Paged0'), id: ids[0]!, active: false });
      const all = await t.request('GET', '/fhir/Patient/_history?_count=1000');
      const expected = (all.body.entry as any[]).map((e) => e.response.location as string);
      expect(all.body.total).toBe(expected.length);
      const first = await t.request('GET', '/fhir/Patient/_history?_count=3');
      expect(first.body.total).toBe(expected.length);
      // A version written after the first page is outside the pinned snapshot: later pages neither show it nor shift.
      await t.request('POST', '/fhir/Patient', patient('PagedLate'));
      const seen = (first.body.entry as any[]).map((e) => e.response.location as string);
      let next = first.body.link.find((l: any) => l.relation === 'next')?.url as string | undefined;
      while (next !== undefined) {
        const page = await t.request('GET', next.replace(BASE, '/fhir'));
        expect(page.status).toBe(200);
        expect(page.body.total).toBeUndefined();
        expect(page.body.link.find((l: any) => l.relation === 'first').url).not.toContain('_cursor');
        seen.push(...(page.body.entry as any[]).map((e) => e.response.location as string));
        next = page.body.link.find((l: any) => l.relation === 'next')?.url;
      }
      expect(seen).toEqual(expected);
      expect((await t.request('GET', '/fhir/Patient/_history?_total=none')).body.total).toBeUndefined();
      for (const cursor of ['Patient/never-written/1', 'Patient/x', 'Nope/x/1', `Patient/${ids[1]!}/0`, `Patient/${ids[1]!}/2`, `Observation/${ids[1]!}/1`]) {
        const bad = await t.request('GET', `/fhir/Patient/_history?_cursor=${encodeURIComponent(cursor)}`);
        expect(bad.status, cursor).toBe(410);
        expect(bad.body.resourceType).toBe('OperationOutcome');
      }
      // A cursor from another history (another type's) is refused, not followed.
      expect((await t.request('GET', `/fhir/Observation/_history?_cursor=Patient/${ids[1]!}/1`)).status).toBe(410);
      expect((await t.request('GET', '/fhir/Patient/_history?_getpagesoffset=3')).status).toBe(400);
    });

    it('returns part of a resource on read and vread with _summary and _elements, tagged SUBSETTED (http.html §3.1.0.1.7)', async () => {
      const full = (await t.request('POST', '/fhir/Patient', patient('Summary', { communication: [{ language: { text: 'English' } }], text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Ada Summary</div>' } }))).body;
      const id = full.id as string;
      const subsetted = [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'subsetted' }];
      const summary = await t.request('GET', `/fhir/Patient/${id}?_summary=true`);
      expect(summary.status).toBe(200);
      expect(summary.headers['etag']).toBe('W/"1"');
      expect(Object.keys(summary.body).sort()).toEqual(['birthDate', 'gender', 'id', 'meta', 'name', 'resourceType']);
      expect(summary.body.meta.tag).toEqual(subsetted);
      const elements = await t.request('GET', `/fhir/Patient/${id}/_history/1?_elements=gender,birthDate`);
      expect(elements.body).toEqual({ resourceType: 'Patient', id, meta: { ...full.meta, tag: subsetted }, gender: 'female', birthDate: '1970-05-06' });
      expect(Object.keys((await t.request('GET', `/fhir/Patient/${id}?_summary=text`)).body).sort()).toEqual(['id', 'meta', 'resourceType', 'text']);
      expect((await t.request('GET', `/fhir/Patient/${id}?_summary=data`)).body.text).toBeUndefined();
      expect((await t.request('GET', `/fhir/Patient/${id}?_summary=false`)).body).toEqual(full);
      // In a batch too.
      const batch = await t.request('POST', '/fhir', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Patient/${id}?_elements=gender` } }] });
      expect(Object.keys(batch.body.entry[0].resource).sort()).toEqual(['gender', 'id', 'meta', 'resourceType']);
      for (const bad of ['_summary=count', '_summary=maybe', '_elements=a.b', '_summary=true&_summary=text']) {
        const r = await t.request('GET', `/fhir/Patient/${id}?${bad}`);
        expect(r.status, bad).toBe(400);
        expect(r.body.resourceType).toBe('OperationOutcome');
      }
    });

    it('patches with JSON Patch: applied to the current version, validated, versioned; failures change nothing (http.html §3.1.0.6)', async () => {
      const id = (await t.request('POST', '/fhir/Patient', patient('Patchy'))).body.id as string;
      const patch = (ops: unknown, headers: Record<string, string> = {}) => t.request('PATCH', `/fhir/Patient/${id}`, JSON.stringify(ops), { 'content-type': 'application/json-patch+json', ...headers });
      const ok = await patch([{ op: 'test', path: '/gender', value: 'female' }, { op: 'replace', path: '/name/0/family', value: 'Patched' }, { op: 'add', path: '/active', value: true }, { op: 'remove', path: '/birthDate' }], { 'if-match': 'W/"1"' });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.headers['etag']).toBe('W/"2"');
      const read = (await t.request('GET', `/fhir/Patient/${id}`)).body;
      expect(read).toMatchObject({ name: [{ family: 'Patched', given: ['Ada'] }], active: true, meta: { versionId: '2' } });
      expect(read.birthDate).toBeUndefined();
      expect((await t.request('GET', `/fhir/Patient/${id}/_history/1`)).body.birthDate).toBe('1970-05-06');
      // Each failure leaves version 2 as it was.
      const failures: [unknown, number, string, Record<string, string>?][] = [
        [[{ op: 'test', path: '/gender', value: 'male' }, { op: 'remove', path: '/name' }], 422, 'patch-failed'],
        [[{ op: 'remove', path: '/nickname' }], 422, 'patch-failed'],
        [[{ op: 'replace', path: '/gender', value: 'hen' }], 422, 'resource-invalid'],
        [[{ op: 'add', path: '/nickname', value: 'x' }], 400, 'resource-structure'],
        [[{ op: 'replace', path: '/id', value: 'other' }], 400, 'id-mismatch'],
        [[{ op: 'add', path: '/__proto__/polluted', value: 1 }], 400, 'patch-invalid'],
        [[{ op: 'add', path: '/name/0/constructor', value: 1 }], 400, 'patch-invalid'],
        [[{ op: 'copy', path: '/a' }], 400, 'patch-invalid'],
        // Each copy doubles the list: 40 of them would ask for 2⁴⁰ names (it ran the server out of memory).
        [Array.from({ length: 40 }, () => ({ op: 'copy', from: '/name', path: '/name/-' })), 422, 'patch-failed'],
        [[{ op: 'frobnicate', path: '/a' }], 400, 'patch-invalid'],
        [{ resourceType: 'Parameters' }, 400, 'patch-invalid'],
        [[], 400, 'patch-invalid'],
        [[{ op: 'add', path: '/active', value: false }], 412, 'precondition-failed', { 'if-match': 'W/"1"' }],
      ];
      for (const [ops, status, code, headers] of failures) {
        const r = await patch(ops, headers);
        expect(r.status, JSON.stringify(ops)).toBe(status);
        expect(r.body.issue[0].details.coding[0].code).toBe(code);
      }
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect((await t.request('GET', `/fhir/Patient/${id}`)).body).toEqual(read);
      expect((await t.request('PATCH', '/fhir/Patient/not-there', JSON.stringify([{ op: 'add', path: '/active', value: true }]), { 'content-type': 'application/json-patch+json' })).status).toBe(404);
      await t.request('DELETE', `/fhir/Patient/${id}`);
      expect((await patch([{ op: 'add', path: '/active', value: true }])).status).toBe(410);
    });

    it('patches with FHIRPath Patch (a Parameters body, fhirpatch.html): validated and versioned as an update; failures change nothing', async () => {
      const id = (await t.request('POST', '/fhir/Patient', patient('Pathy'))).body.id as string;
      const operation = (...part: unknown[]) => ({ name: 'operation', part });
      const fhirPatch = (...parameter: unknown[]) => t.request('PATCH', `/fhir/Patient/${id}`, { resourceType: 'Parameters', parameter });
      const ok = await fhirPatch(
        operation({ name: 'type', valueCode: 'replace' }, { name: 'path', valueString: 'Patient.name[0].family' }, { name: 'value', valueString: 'Patched' }),
        operation({ name: 'type', valueCode: 'add' }, { name: 'path', valueString: 'Patient' }, { name: 'name', valueString: 'telecom' }, { name: 'value', valueContactPoint: { system: 'phone', value: '555' } }),
        operation({ name: 'type', valueCode: 'delete' }, { name: 'path', valueString: 'Patient.birthDate' }),
      );
      expect(ok.status, ok.text).toBe(200);
      expect(ok.headers['etag']).toBe('W/"2"');
      const read = (await t.request('GET', `/fhir/Patient/${id}`)).body;
      expect(read).toMatchObject({ name: [{ family: 'Patched', given: ['Ada'] }], telecom: [{ system: 'phone', value: '555' }], meta: { versionId: '2' } });
      expect(read.birthDate).toBeUndefined();
      const failures: [unknown[], number, string][] = [
        [[operation({ name: 'type', valueCode: 'replace' }, { name: 'path', valueString: 'Patient.birthDate' }, { name: 'value', valueDate: '2000-01-01' })], 422, 'patch-failed'],
        [[operation({ name: 'type', valueCode: 'replace' }, { name: 'path', valueString: 'Patient.gender' }, { name: 'value', valueCode: 'hen' })], 422, 'resource-invalid'],
        [[operation({ name: 'type', valueCode: 'add' }, { name: 'path', valueString: 'Patient' }, { name: 'name', valueString: 'nickname' }, { name: 'value', valueString: 'x' })], 400, 'resource-structure'],
        [[operation({ name: 'type', valueCode: 'replace' }, { name: 'path', valueString: 'Patient.id' }, { name: 'value', valueId: 'other' })], 400, 'id-mismatch'],
        [[operation({ name: 'type', valueCode: 'delete' }, { name: 'path', valueString: 'Patient.descendants()' })], 400, 'patch-invalid'],
        [[operation({ name: 'type', valueCode: 'add' }, { name: 'path', valueString: 'Patient' }, { name: 'name', valueString: '__proto__' }, { name: 'value', valueString: 'x' })], 400, 'patch-invalid'],
        // More walking of the resource than a patch may ask for (MAX_PATH_WORK): its first operation makes it large, 300 paths of 8 terms follow.
        [
          [
            operation({ name: 'type', valueCode: 'add' }, { name: 'path', valueString: 'Patient' }, { name: 'name', valueString: 'identifier' }, { name: 'value', valueIdentifier: { system: 'urn:s', value: 'x', type: { coding: Array.from({ length: 400 }, (_, i) => ({ system: 'urn:c', code: `c${i}` })) } } }),
            ...Array.from({ length: 300 }, () => operation({ name: 'type', valueCode: 'delete' }, { name: 'path', valueString: "Patient.identifier.where(system = 'a' or system = 'b' or system = 'c' or system = 'd' or value = 'e' or value = 'f' or value = 'g' or value = 'h')" })),
          ],
          422,
          'patch-failed',
        ],
      ];
      for (const [ops, status, code] of failures) {
        const r = await fhirPatch(...ops);
        expect(r.status, JSON.stringify(ops)).toBe(status);
        expect(r.body.issue[0].details.coding[0].code).toBe(code);
      }
      expect((await t.request('GET', `/fhir/Patient/${id}`)).body).toEqual(read);
      // A value nested 200,000 deep, in either format: refused before anything copies it (it overflowed the stack: 500).
      const deep = `${'['.repeat(200_000)}1${']'.repeat(200_000)}`;
      const parts = `[{"name":"type","valueCode":"add"},{"name":"path","valueString":"Patient"},{"name":"name","valueString":"extension"},{"name":"value","valueExtension":${deep}}]`;
      for (const [body, type] of [[`[{"op":"add","path":"/extension","value":${deep}}]`, 'application/json-patch+json'], [`{"resourceType":"Parameters","parameter":[{"name":"operation","part":${parts}}]}`, 'application/fhir+json']]) {
        const r = await t.request('PATCH', `/fhir/Patient/${id}`, body, { 'content-type': type! });
        expect(r.status).toBe(400);
        expect(r.body.issue[0].details.coding[0].code).toBe('patch-invalid');
      }
    });

    it('refuses a resource with more search index entries than one version may have (422 resource-too-costly); nothing is written', async () => {
      // 10,000 names of one family and one given name: 60,000 family, given, name and phonetic rows, against the default 50,000.
      const names = Array.from({ length: 10_000 }, (_, i) => ({ family: `Many${i}`, given: [`Name${i}`] }));
      const created = await t.request('POST', '/fhir/Patient', patient('Indexed', { name: names }));
      expect(created.status).toBe(422);
      expect(created.body.issue[0]).toMatchObject({ code: 'too-costly', details: { coding: [{ code: 'resource-too-costly' }] } });
      expect((await t.request('PUT', '/fhir/Patient/too-many-names', patient('Indexed', { id: 'too-many-names', name: names }))).status).toBe(422);
      expect((await t.request('GET', '/fhir/Patient/too-many-names')).status).toBe(404);
      const id = (await t.request('POST', '/fhir/Patient', patient('Indexed'))).body.id as string;
      const patched = await t.request('PATCH', `/fhir/Patient/${id}`, JSON.stringify([{ op: 'replace', path: '/name', value: names }]), { 'content-type': 'application/json-patch+json' });
      expect(patched.status).toBe(422);
      expect((await t.request('GET', `/fhir/Patient/${id}`)).body.meta.versionId).toBe('1');
      expect((await t.request('GET', '/fhir/Patient?family=Many9999')).body.total ?? 0).toBe(0);
    });

    it('answers a conditional read with 304 when the caller holds the current version (If-None-Match, If-Modified-Since)', async () => {
      const id = (await t.request('POST', '/fhir/Patient', patient('Cached'))).body.id as string;
      const read = (headers: Record<string, string>) => t.request('GET', `/fhir/Patient/${id}`, undefined, headers);
      const fresh = await read({ 'if-none-match': 'W/"1"' });
      expect(fresh.status).toBe(304);
      expect(fresh.text).toBe('');
      expect(fresh.headers['etag']).toBe('W/"1"');
      expect((await read({ 'if-none-match': '*' })).status).toBe(304);
      expect((await read({ 'if-none-match': 'W/"7", W/"1"' })).status).toBe(304);
      expect((await read({ 'if-none-match': 'W/"0"' })).status).toBe(200);
      expect((await read({ 'if-none-match': 'garbage' })).status).toBe(200);
      const lastModified = fresh.headers['last-modified'] as string;
      expect((await read({ 'if-modified-since': lastModified })).status).toBe(304);
      expect((await read({ 'if-modified-since': new Date(Date.parse(lastModified) - 1000).toUTCString() })).status).toBe(200);
      expect((await read({ 'if-modified-since': 'not a date' })).status).toBe(200);
      // If-None-Match decides when both are sent (RFC 9110 §13.1.3).
      expect((await read({ 'if-none-match': 'W/"0"', 'if-modified-since': lastModified })).status).toBe(200);
      await t.request('PUT', `/fhir/Patient/${id}`, patient('Cached', { id, active: true }));
      expect((await read({ 'if-none-match': 'W/"1"' })).status).toBe(200);
      expect((await t.request('GET', '/fhir/Patient/not-there', undefined, { 'if-none-match': '*' })).status).toBe(404);
    });

    it('publishes a CapabilityStatement without a token', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/fhir/metadata' });
      expect(res.statusCode).toBe(200);
      const cs = JSON.parse(res.body);
      expect(cs.resourceType).toBe('CapabilityStatement');
      expect(cs.fhirVersion).toBe('4.0.1');
      const pat = cs.rest[0].resource.find((r: any) => r.type === 'Patient');
      expect(pat.interaction.map((i: any) => i.code)).toEqual(expect.arrayContaining(['vread', 'patch']));
      expect(pat.conditionalRead).toBe('full-support');
      expect(pat.operation).toEqual([{ name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' }]);
      expect(pat.searchParam.map((p: any) => p.name)).toEqual(expect.arrayContaining(['family', 'birthdate', 'identifier', '_id', '_lastUpdated']));
      expect(cs.rest[0].resource).toHaveLength(t.vault.fhir.validator.resourceTypes.length);
      // AuditEvent search is the ledger's audit trail: it announces what that search takes.
      const audit = cs.rest[0].resource.find((r: any) => r.type === 'AuditEvent');
      expect(audit.searchParam.map((p: any) => p.name).sort()).toEqual(['_id', 'action', 'address', 'agent', 'date', 'entity', 'outcome', 'patient', 'policy', 'subtype', 'type']);
      expect(audit.searchParam.every((p: any) => p.definition.startsWith('http://hl7.org/fhir/SearchParameter/'))).toBe(true);
    });

    it('answers /healthz', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/healthz' });
      expect(res.statusCode).toBe(200);
    });
  });
}
