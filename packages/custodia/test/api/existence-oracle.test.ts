/**
 * No existence oracle: to a caller who may not see a record, every request about it is
 * answered exactly as the same request about an id that was never used — same status,
 * same headers present, same body once ids, times and page tokens are masked. Reads,
 * vreads, history, operations, conditional writes, searches (by id, chain, _has,
 * _include, _revinclude), references in new resources, and batch and transaction
 * entries; records hidden by the patient compartment, by a security label, by the
 * patient's Consent, and deleted records among them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { type TestResponse, type TestVault } from '../helpers/test-vault.js';
import { bearer, blockPractitioner, type Users, seededVault } from './access-fixtures.js';

type Target = readonly [type: string, id: string];
interface Request {
  readonly method: string;
  readonly url: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** A body of `type` in the caller's own reach (`mine`: a patient they may see). */
function bodyOf(type: string, mine: string, id?: string): Record<string, unknown> {
  const base = { resourceType: type, ...(id === undefined ? {} : { id }) };
  if (type === 'Patient') return { ...base, gender: 'male' };
  if (type === 'Observation') return { ...base, status: 'final', code: { text: 'pulse' }, subject: { reference: `Patient/${mine}` } };
  return { ...base, code: { text: 'cough' }, subject: { reference: `Patient/${mine}` } };
}

/** Every request shape asked about a target `[type, id]`. */
const TEMPLATES: ReadonlyArray<(t: Target, mine: string) => Request> = [
  ([t, id]) => ({ method: 'GET', url: `/fhir/${t}/${id}` }),
  ([t, id]) => ({ method: 'HEAD', url: `/fhir/${t}/${id}` }),
  ([t, id]) => ({ method: 'GET', url: `/fhir/${t}/${id}`, headers: { 'if-none-match': '*' } }),
  ([t, id]) => ({ method: 'GET', url: `/fhir/${t}/${id}/_history/1` }),
  ([t, id]) => ({ method: 'GET', url: `/fhir/${t}/${id}/_history/2` }),
  ([t, id]) => ({ method: 'GET', url: `/fhir/${t}/${id}/_history` }),
  ([t, id]) => ({ method: 'GET', url: `/fhir/${t}/${id}/$access-log` }),
  ([t, id]) => ({ method: 'GET', url: `/fhir/${t}/${id}/$disclosures` }),
  ([t, id]) => ({ method: 'GET', url: `/fhir/${t}/${id}/$everything` }),
  ([t, id]) => ({ method: 'GET', url: `/fhir/${t}/${id}?_elements=id` }),
  ([t, id]) => ({ method: 'DELETE', url: `/fhir/${t}/${id}` }),
  ([t, id]) => ({ method: 'PATCH', url: `/fhir/${t}/${id}`, body: JSON.stringify([{ op: 'add', path: '/active', value: true }]), headers: { 'content-type': 'application/json-patch+json' } }),
  ([t, id]) => ({ method: 'PATCH', url: `/fhir/${t}/${id}`, body: { resourceType: 'Parameters', parameter: [{ name: 'operation', part: [{ name: 'type', valueCode: 'delete' }, { name: 'path', valueString: `${t}.text` }] }] } }),
  ([t, id]) => ({ method: 'GET', url: `/fhir/${t}/${id}/$everything?start=2020&end=2030` }),
  ([t, id], mine) => ({ method: 'PUT', url: `/fhir/${t}/${id}`, body: bodyOf(t, mine, id), headers: { 'if-match': 'W/"1"' } }),
  ([t, id], mine) => ({ method: 'PUT', url: `/fhir/${t}?_id=${id}`, body: bodyOf(t, mine) }),
  ([t, id]) => ({ method: 'DELETE', url: `/fhir/${t}?_id=${id}` }),
  ([t, id], mine) => ({ method: 'POST', url: `/fhir/${t}`, body: bodyOf(t, mine), headers: { 'if-none-exist': `_id=${id}` } }),
  ([t, id]) => ({ method: 'GET', url: `/fhir/${t}?_id=${id}&_total=accurate` }),
  ([t, id]) => ({ method: 'GET', url: `/fhir/${t}?_id=${id}&_summary=count` }),
  ([t, id]) => ({ method: 'GET', url: `/fhir/${t}?_id=${id}&_revinclude=Observation:subject&_revinclude=Condition:subject` }),
  ([t, id]) => ({ method: 'GET', url: `/fhir/${t}/_history?_id=${id}` }),
  ([t, id]) => ({ method: 'GET', url: `/fhir/${t}/_history?_cursor=${t}/${id}/1` }),
  ([t, id]) => ({ method: 'GET', url: `/fhir/_history?_count=1&_cursor=${t}/${id}/1` }),
  ([t, id]) => ({ method: 'GET', url: `/fhir?_id=${id}&_type=${t}` }),
  ([t, id]) => ({ method: 'GET', url: `/fhir/Observation?subject=${t}/${id}&_include=Observation:subject&_total=accurate` }),
  ([, id]) => ({ method: 'GET', url: `/fhir/Observation?subject:Patient._id=${id}&_total=accurate` }),
  ([, id]) => ({ method: 'GET', url: `/fhir/Patient?_has:Observation:subject:_id=${id}&_total=accurate` }),
  ([t, id], mine) => ({ method: 'POST', url: '/fhir/Observation', body: { ...bodyOf('Observation', mine), subject: { reference: `${t}/${id}` } } }),
  ([t, id], mine) => ({ method: 'POST', url: '/fhir/Observation', body: { ...bodyOf('Observation', mine), hasMember: [{ reference: `${t}/${id}` }] } }),
  ([t, id]) => ({
    method: 'POST',
    url: '/fhir',
    body: { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `${t}/${id}` } }, { request: { method: 'GET', url: `${t}/${id}/_history` } }, { request: { method: 'DELETE', url: `${t}/${id}` } }] },
  }),
  ([t, id], mine) => ({
    method: 'POST',
    url: '/fhir',
    body: { resourceType: 'Bundle', type: 'batch', entry: [{ resource: { ...bodyOf('Observation', mine), subject: { reference: `${t}/${id}` } }, request: { method: 'POST', url: 'Observation' } }] },
  }),
  ([t, id]) => ({ method: 'POST', url: '/fhir', body: { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: `${t}/${id}` } }] } }),
  ([t, id], mine) => ({
    method: 'POST',
    url: '/fhir',
    body: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: bodyOf(t, mine), request: { method: 'POST', url: t, ifNoneExist: `_id=${id}` } }] },
  }),
  ([t, id], mine) => ({
    method: 'POST',
    url: '/fhir',
    body: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { ...bodyOf('Observation', mine), subject: { reference: `${t}/${id}` } }, request: { method: 'POST', url: 'Observation' } }] },
  }),
];

/** What may differ between two answers without saying anything about the target. */
function masked(res: TestResponse, id: string): string {
  const text = res.text
    .split(id)
    .join('<id>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
    .replace(/"(lastUpdated|timestamp|lastModified)":"[^"]*"/g, '"$1":"<time>"')
    .replace(/_getpages=[^&"]*/g, '_getpages=<page>');
  const present = ['etag', 'location', 'last-modified', 'content-location'].filter((h) => res.headers[h] !== undefined);
  return `${res.status} [${present.join(',')}] ${text}`;
}

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`no existence oracle on ${dialect}`, () => {
    let t: TestVault;
    let users: Users;
    let fresh = 0;
    beforeAll(async () => {
      // Hundreds of requests by one user in a second or two: above the default per-user limit, which is not what is tested here.
      ({ t, users } = await seededVault(dialect, { rateLimits: { user: { perSecond: 1e6, burst: 1e6 }, token: { perSecond: 1e6, burst: 1e6 } } }));
      // p2 blocks dr2; a record of p2 that was deleted.
      expect((await t.request('PUT', '/fhir/Consent/block-dr2', blockPractitioner('block-dr2', 'p2', 'dr2'))).status).toBeLessThan(300);
      expect((await t.request('PUT', '/fhir/Observation/o-p2-gone', bodyOf('Observation', 'p2', 'o-p2-gone'))).status).toBeLessThan(300);
      expect((await t.request('DELETE', '/fhir/Observation/o-p2-gone')).status).toBe(204);
    }, 120_000);
    afterAll(async () => t?.close());

    /** Every template about `hidden` against the same about a never-used id; returns the ones that differ. */
    async function oracles(headers: Record<string, string>, hidden: Target, mine: string): Promise<string[]> {
      const differ: string[] = [];
      for (const [n, template] of TEMPLATES.entries()) {
        const unused = `never-used-${++fresh}`;
        const a = template(hidden, mine);
        const b = template([hidden[0], unused], mine);
        const ra = await t.request(a.method, a.url, a.body, { ...headers, ...(a.headers ?? {}) });
        const rb = await t.request(b.method, b.url, b.body, { ...headers, ...(b.headers ?? {}) });
        const [ma, mb] = [masked(ra, hidden[1]), masked(rb, unused)];
        if (ma !== mb) differ.push(`#${n} ${a.method} ${a.url}\n  hidden: ${ma.slice(0, 300)}\n  unused: ${mb.slice(0, 300)}`);
      }
      return differ;
    }

    it("a patient learns nothing of another patient's records, live or deleted", async () => {
      const h = bearer(await users.token('patient'));
      for (const hidden of [['Patient', 'p2'], ['Observation', 'o-p2'], ['Condition', 'c-p2'], ['Observation', 'o-p2-gone']] as const) {
        expect(await oracles(h, hidden, 'p1')).toEqual([]);
      }
    });

    it('a clinician without the clearance learns nothing of a labelled record', async () => {
      expect(await oracles(bearer(await users.token('clinician')), ['Condition', 'c-hiv'], 'p1')).toEqual([]);
    });

    it('a restricted caller still writes for the patients it sees, and for a patient its own Bundle creates', async () => {
      const dr = bearer(await users.token('clinician'));
      expect((await t.request('POST', '/fhir/Observation', bodyOf('Observation', 'p1'), dr)).status).toBe(201);
      expect((await t.request('POST', '/fhir/Observation', bodyOf('Observation', 'p1'), bearer(await users.token('patient')))).status).toBe(201);
      const patient = { fullUrl: 'urn:uuid:6f1c1c1e-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', name: [{ family: 'New' }] }, request: { method: 'POST', url: 'Patient' } };
      const observation = { resource: { ...bodyOf('Observation', 'x'), subject: { reference: patient.fullUrl } }, request: { method: 'POST', url: 'Observation' } };
      const res = await t.request('POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [observation, patient] }, dr);
      expect(res.status).toBe(200);
      expect(res.body.entry.map((e: any) => e.response.status)).toEqual(['201 Created', '201 Created']);
      // Its subject is the new patient, not a dangling reference.
      const created = (await t.request('GET', `/fhir/${res.body.entry[0].response.location.split('/_history')[0]}`)).body;
      expect(created.subject.reference).toBe(res.body.entry[1].response.location.split('/_history')[0]);
      // The operator sees everything and may still write ahead of the patient (imports).
      expect((await t.request('POST', '/fhir/Observation', bodyOf('Observation', 'not-yet-imported'))).status).toBe(201);
    });

    it("a clinician the patient's Consent blocks learns nothing of that patient's records", async () => {
      const h = bearer(await users.otherClinician());
      for (const hidden of [['Patient', 'p2'], ['Observation', 'o-p2'], ['Observation', 'o-p2-gone']] as const) {
        expect(await oracles(h, hidden, 'p1')).toEqual([]);
      }
    });
  });
}
