/**
 * batch and transaction Bundles (R4 http.html §3.1.0.11): atomicity, urn:uuid and
 * conditional reference resolution, processing order, and Synthea transaction bundles.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { fixtureResources } from '../helpers/fixture-files.js';
import { startTestVault, type TestVault } from '../helpers/test-vault.js';

const tx = (entry: unknown[], type = 'transaction') => ({ resourceType: 'Bundle', type, entry });
const post = (fullUrl: string, resource: object) => ({ fullUrl, resource, request: { method: 'POST', url: (resource as { resourceType: string }).resourceType } });

function references(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => references(x, out));
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'reference' && typeof x === 'string') out.push(x);
      else references(x, out);
    }
  }
  return out;
}

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`Bundles on ${dialect}`, () => {
    let t: TestVault;
    const count = async (type: string): Promise<number> => (await t.request('GET', `/fhir/${type}?_summary=count`)).body.total as number;
    beforeAll(async () => {
      t = await startTestVault(dialect);
    });
    afterAll(async () => t?.close());

    it('resolves urn:uuid references between entries, in any direction', async () => {
      const res = await t.request(
        'POST',
        '/fhir',
        tx([
          post('urn:uuid:00000000-0000-4000-8000-000000000002', { resourceType: 'Observation', status: 'final', code: { text: 'pulse' }, subject: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000001' } }),
          post('urn:uuid:00000000-0000-4000-8000-000000000001', { resourceType: 'Patient', name: [{ family: 'Urn' }] }),
        ]),
      );
      expect(res.status).toBe(200);
      expect(res.body.type).toBe('transaction-response');
      const [obsLoc, patLoc] = res.body.entry.map((e: any) => e.response.location as string);
      expect(res.body.entry.map((e: any) => e.response.status)).toEqual(['201 Created', '201 Created']);
      const obs = await t.request('GET', `/fhir/${obsLoc.split('/_history')[0]}`);
      expect(obs.body.subject.reference).toBe(patLoc.split('/_history')[0]);
    });

    it('leaves no trace when one entry is invalid', async () => {
      const before = await count('Patient');
      const res = await t.request(
        'POST',
        '/fhir',
        tx([post('urn:uuid:a', { resourceType: 'Patient', name: [{ family: 'Ok' }] }), post('urn:uuid:b', { resourceType: 'Observation', code: { text: 'no status' } })]),
      );
      expect(res.status).toBe(422);
      expect(res.body.issue[0].expression[0]).toBe('Bundle.entry[1].resource.status');
      expect(await count('Patient')).toBe(before);
    });

    it('rolls back everything when a later entry fails at write time (stale If-Match)', async () => {
      const existing = (await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family: 'Existing' }] })).body;
      const before = await count('Patient');
      const res = await t.request(
        'POST',
        '/fhir',
        tx([
          post('urn:uuid:c', { resourceType: 'Patient', name: [{ family: 'RolledBack' }] }),
          { resource: { ...existing, active: true }, request: { method: 'PUT', url: `Patient/${existing.id}`, ifMatch: 'W/"7"' } },
        ]),
      );
      expect(res.status).toBe(412);
      expect(await count('Patient')).toBe(before);
      expect((await t.request('GET', '/fhir/Patient?family=RolledBack')).body.total).toBe(0);
      expect((await t.request('GET', `/fhir/Patient/${existing.id}`)).body.meta.versionId).toBe('1');
    });

    it('resolves conditional references and refuses unresolvable ones', async () => {
      await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', identifier: [{ system: 'urn:mrn', value: 'cond-1' }] });
      const ok = await t.request('POST', '/fhir', tx([post('urn:uuid:d', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient?identifier=urn:mrn|cond-1' } })]));
      expect(ok.status).toBe(200);
      const obs = await t.request('GET', `/fhir/${ok.body.entry[0].response.location.split('/_history')[0]}`);
      expect(obs.body.subject.reference).toMatch(/^Patient\/[0-9a-f-]{36}$/);
      const none = await t.request('POST', '/fhir', tx([post('urn:uuid:e', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient?identifier=urn:mrn|nobody' } })]));
      expect(none.status).toBe(400);
      const dangling = await t.request('POST', '/fhir', tx([post('urn:uuid:f', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'urn:uuid:missing' } })]));
      expect(dangling.status).toBe(400);
      expect(dangling.body.issue[0].details.coding[0].code).toBe('reference-unresolved');
      // Conditional references compare at most MAX_CONDITIONAL_VALUES values in all: two of 1,000 alternatives resolve, a third is refused.
      const id = (await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family: 'Conditional' }] })).body.id as string;
      const costly = (n: number) => `Patient?${Array.from({ length: 10 }, (_, p) => `_id=${[id, ...Array.from({ length: 99 }, (_, i) => `x${n}-${p}-${i}`)].join(',')}`).join('&')}`;
      const performers = (n: number) => Array.from({ length: n }, (_, i) => ({ reference: costly(i) }));
      const two = await t.request('POST', '/fhir', tx([post('urn:uuid:g', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, performer: performers(2) })]));
      expect(two.status, two.text.slice(0, 300)).toBe(200);
      const three = await t.request('POST', '/fhir', tx([post('urn:uuid:h', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, performer: performers(3) })]));
      expect(three.status).toBe(400);
      expect(three.body.issue[0].details.coding[0].code).toBe('search-too-costly');
      const batch = await t.request('POST', '/fhir', tx([post('urn:uuid:i', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, performer: performers(3) })], 'batch'));
      expect(batch.body.entry[0].response.status).toBe('400 Bad Request');
    });

    it('takes PATCH entries (a Binary holding a JSON Patch, or a FHIRPath Patch) in batches and in transactions, atomically', async () => {
      const binary = (ops: unknown) => ({ resourceType: 'Binary', contentType: 'application/json-patch+json', data: Buffer.from(JSON.stringify(ops)).toString('base64') });
      const a = (await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family: 'PatchA' }] })).body.id as string;
      const b = (await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family: 'PatchB' }] })).body.id as string;
      const batch = await t.request('POST', '/fhir', tx([{ resource: binary([{ op: 'add', path: '/active', value: true }]), request: { method: 'PATCH', url: `Patient/${a}` } }], 'batch'));
      expect(batch.status).toBe(200);
      expect(batch.body.entry[0].response.status).toBe('200 OK');
      expect((await t.request('GET', `/fhir/Patient/${a}`)).body.active).toBe(true);
      // A transaction: a new Observation about b, and b patched; one failing test undoes both.
      const obs = { fullUrl: 'urn:uuid:p-obs', resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${b}` } }, request: { method: 'POST', url: 'Observation' } };
      const before = await count('Observation');
      const failing = await t.request('POST', '/fhir', tx([obs, { resource: binary([{ op: 'test', path: '/active', value: true }]), request: { method: 'PATCH', url: `Patient/${b}` } }]));
      expect(failing.status).toBe(422);
      expect(failing.body.issue[0].details.coding[0].code).toBe('patch-failed');
      expect(await count('Observation')).toBe(before);
      const ok = await t.request('POST', '/fhir', tx([obs, { resource: binary([{ op: 'add', path: '/gender', value: 'other' }]), request: { method: 'PATCH', url: `Patient/${b}`, ifMatch: 'W/"1"' } }]));
      expect(ok.status, ok.text).toBe(200);
      expect((await t.request('GET', `/fhir/Patient/${b}`)).body).toMatchObject({ gender: 'other', meta: { versionId: '2' } });
      expect(await count('Observation')).toBe(before + 1);
      // A FHIRPath Patch comes as the Parameters itself.
      const parameters = { resourceType: 'Parameters', parameter: [{ name: 'operation', part: [{ name: 'type', valueCode: 'replace' }, { name: 'path', valueString: 'Patient.gender' }, { name: 'value', valueCode: 'female' }] }] };
      const fp = await t.request('POST', '/fhir', tx([{ resource: parameters, request: { method: 'PATCH', url: `Patient/${b}` } }]));
      expect(fp.status, fp.text).toBe(200);
      expect((await t.request('GET', `/fhir/Patient/${b}`)).body).toMatchObject({ gender: 'female', meta: { versionId: '3' } });
      // The patch must come as that Binary, or a Parameters.
      for (const resource of [{ resourceType: 'Binary', contentType: 'application/json', data: 'W10=' }, { resourceType: 'Binary', contentType: 'application/json-patch+json', data: 'not base64!' }, [{ op: 'add', path: '/active', value: false }], { resourceType: 'Parameters' }]) {
        const r = await t.request('POST', '/fhir', tx([{ resource, request: { method: 'PATCH', url: `Patient/${a}` } }]));
        expect(r.status).toBe(400);
      }
    });

    it("spends one patch allowance across a transaction's PATCH entries; a batch's entries each have their own", async () => {
      const identifiers = Array.from({ length: 100 }, (_, i) => ({ system: 'urn:s', value: `v${i}` }));
      const ids: string[] = [];
      for (const family of ['Walk1', 'Walk2', 'Walk3']) ids.push((await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family }], identifier: identifiers })).body.id as string);
      // 300 paths of 8 terms (9 walks each) over ≈ 310 nodes: ≈ 0.84 × 10⁶ node walks an entry; three are more than one request's 2 × 10⁶.
      const costly = "Patient.identifier.where(system = 'a' or system = 'b' or system = 'c' or system = 'd' or value = 'e' or value = 'f' or value = 'g' or value = 'h')";
      const parameters = { resourceType: 'Parameters', parameter: Array.from({ length: 300 }, () => ({ name: 'operation', part: [{ name: 'type', valueCode: 'delete' }, { name: 'path', valueString: costly }] })) };
      const entries = ids.map((id) => ({ resource: parameters, request: { method: 'PATCH', url: `Patient/${id}` } }));
      const refused = await t.request('POST', '/fhir', tx(entries));
      expect(refused.status).toBe(422);
      expect(refused.body.issue[0].details.coding[0].code).toBe('patch-failed');
      for (const id of ids) expect((await t.request('GET', `/fhir/Patient/${id}`)).body.meta.versionId).toBe('1');
      const batch = await t.request('POST', '/fhir', tx(entries, 'batch'));
      expect(batch.status).toBe(200);
      expect(batch.body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['200 OK', '200 OK', '200 OK']);
    });

    it('checks the type a reference resolves to against what its element allows', async () => {
      const before = await count('Observation');
      const encounter = post('urn:uuid:enc-1', { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' } });
      const viaEntry = await t.request('POST', '/fhir', tx([post('urn:uuid:g', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'urn:uuid:enc-1' } }), encounter]));
      expect(viaEntry.status).toBe(422);
      expect(viaEntry.body.issue[0].expression).toEqual(['Bundle.entry[0].resource.subject.reference']);
      await t.request('POST', '/fhir/Encounter', { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, identifier: [{ system: 'urn:visit', value: 'v-1' }] });
      const viaSearch = await t.request('POST', '/fhir', tx([post('urn:uuid:h', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Encounter?identifier=urn:visit|v-1' } })]));
      expect(viaSearch.status).toBe(422);
      expect(await count('Observation')).toBe(before);
      // The same references in the element that allows an Encounter are fine.
      const fine = await t.request('POST', '/fhir', tx([post('urn:uuid:i', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, encounter: { reference: 'urn:uuid:enc-2' } }), { ...encounter, fullUrl: 'urn:uuid:enc-2' }]));
      expect(fine.status).toBe(200);
    });

    it('processes DELETE, POST, PUT, then GET; GET sees the writes', async () => {
      const victim = (await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family: 'Victim' }] })).body.id as string;
      const res = await t.request(
        'POST',
        '/fhir',
        tx([
          { request: { method: 'GET', url: 'Patient?family=Ordered' } },
          { resource: { resourceType: 'Patient', id: 'ordered-1', name: [{ family: 'Ordered' }] }, request: { method: 'PUT', url: 'Patient/ordered-1' } },
          { request: { method: 'DELETE', url: `Patient/${victim}` } },
        ]),
      );
      expect(res.status).toBe(200);
      expect(res.body.entry[0].resource.total).toBe(1);
      expect(res.body.entry[1].response.status).toBe('201 Created');
      expect(res.body.entry[2].response.status).toBe('204 No Content');
      expect((await t.request('GET', `/fhir/Patient/${victim}`)).status).toBe(410);
    });

    it('refuses two entries on one resource, and entries of the wrong kind', async () => {
      const dup = await t.request(
        'POST',
        '/fhir',
        tx([
          { resource: { resourceType: 'Patient', id: 'dup-1' }, request: { method: 'PUT', url: 'Patient/dup-1' } },
          { request: { method: 'DELETE', url: 'Patient/dup-1' } },
        ]),
      );
      expect(dup.status).toBe(400);
      expect((await t.request('GET', '/fhir/Patient/dup-1')).status).toBe(404);
      expect((await t.request('POST', '/fhir', { resourceType: 'Bundle', type: 'collection' })).status).toBe(400);
      expect((await t.request('POST', '/fhir', tx([{ request: { method: 'GET', url: 'http://elsewhere.example/fhir/Patient' } }]))).status).toBe(400);
    });

    it('batch: each entry succeeds or fails on its own', async () => {
      const res = await t.request(
        'POST',
        '/fhir',
        tx(
          [
            { resource: { resourceType: 'Patient', name: [{ family: 'BatchOk' }] }, request: { method: 'POST', url: 'Patient' } },
            { resource: { resourceType: 'Patient', birthDate: 'not-a-date' }, request: { method: 'POST', url: 'Patient' } },
            { request: { method: 'GET', url: 'Patient/does-not-exist' } },
            { request: { method: 'GET', url: 'Patient?family=BatchOk' } },
          ],
          'batch',
        ),
      );
      expect(res.status).toBe(200);
      expect(res.body.type).toBe('batch-response');
      expect(res.body.entry.map((e: any) => e.response.status)).toEqual(['201 Created', '422 Unprocessable Entity', '404 Not Found', '200 OK']);
      expect(res.body.entry[1].response.outcome.issue[0].expression[0]).toBe('Bundle.entry[1].resource.birthDate');
      expect(res.body.entry[3].resource.total).toBe(1);
      // A body nested far deeper than a resource may be is that entry's 400, in a batch as in a transaction (it overflowed the copy's stack: 500).
      const nested = `{"resource":{"resourceType":"Patient","x":${'['.repeat(5_000)}1${']'.repeat(5_000)}},"request":{"method":"POST","url":"Patient"}}`;
      const bundle = (type: string, ...more: string[]) => `{"resourceType":"Bundle","type":"${type}","entry":[${[nested, ...more].join(',')}]}`;
      const batch = await t.request('POST', '/fhir', bundle('batch', '{"request":{"method":"GET","url":"Patient?family=BatchOk"}}'));
      expect(batch.status).toBe(200);
      expect(batch.body.entry.map((e: any) => e.response.status)).toEqual(['400 Bad Request', '200 OK']);
      expect((await t.request('POST', '/fhir', bundle('transaction'))).status).toBe(400);
    });

    it('imports the Synthea transaction bundles with every reference resolved', async () => {
      const bundles = fixtureResources('test/fixtures/synthea-hiv-bundles');
      const providers = bundles.find((b) => b.source === 'providers.json.gz')!;
      const first = await t.request('POST', '/fhir', providers.resource);
      expect(first.status).toBe(200);
      // Conditional creates: a second run finds every provider and creates nothing.
      const again = await t.request('POST', '/fhir', providers.resource);
      expect(again.body.entry.every((e: any) => e.response.status === '200 OK')).toBe(true);
      for (const b of bundles.filter((x) => x !== providers)) {
        const entries = (b.resource as { entry: unknown[] }).entry.length;
        const res = await t.request('POST', '/fhir', b.resource);
        expect(res.status, b.source).toBe(200);
        expect(res.body.entry).toHaveLength(entries);
        const patientLoc = res.body.entry[0].response.location.split('/_history')[0] as string;
        const everything = await t.request('GET', `/fhir/Encounter?subject=${patientLoc}&_count=1000`);
        expect(everything.body.total).toBeGreaterThan(0);
        const refs = new Set<string>();
        for (const e of res.body.entry.slice(0, 40)) {
          const stored = await t.request('GET', `/fhir/${e.response.location.split('/_history')[0]}`);
          for (const r of references(stored.body)) refs.add(r);
        }
        for (const r of refs) {
          expect(r).not.toMatch(/^urn:uuid:|\?/);
          if (r.startsWith('#')) continue;
          expect((await t.request('GET', `/fhir/${r}`)).status, r).toBe(200);
        }
      }
    });
  });
}
