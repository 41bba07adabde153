/**
 * Bad input gets an OperationOutcome with the right status, never a 500 and never a
 * crash (R4 http.html §3.1.0.4 status codes; the vault's error catalogue).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { officialExamples } from '../helpers/fixture-files.js';
import { startTestVault, type TestVault } from '../helpers/test-vault.js';

describe('bad input', () => {
  let t: TestVault;
  beforeAll(async () => {
    t = await startTestVault('sqlite', { config: { bodyLimitBytes: 64 * 1024 } });
  });
  afterAll(async () => t?.close());

  const expectOutcome = (res: { status: number; body: any }, status: number, code?: string) => {
    expect(res.status).toBe(status);
    expect(res.body.resourceType).toBe('OperationOutcome');
    if (code !== undefined) expect(res.body.issue[0].details.coding[0].code).toBe(code);
  };

  it('malformed JSON → 400', async () => {
    expectOutcome(await t.request('POST', '/fhir/Patient', '{"resourceType": "Patient",'), 400, 'json-malformed');
  });

  it('a body is read only for a caller whose token verifies: without one, 401 before anything is parsed', async () => {
    const malformed = '{"resourceType": "Patient",';
    // Before 2026-12-01 the body was parsed first: 400 json-malformed to anyone, and up to 32 MiB parsed for them.
    expectOutcome(await t.request('POST', '/fhir/Patient', malformed, { authorization: '' }), 401, 'unauthenticated');
    expectOutcome(await t.request('POST', '/fhir/Patient', malformed, { authorization: 'Bearer not.a.token' }), 401, 'token-invalid');
    expectOutcome(await t.request('POST', '/fhir/Patient/_search', 'a=&'.repeat(500), { authorization: '', 'content-type': 'application/x-www-form-urlencoded' }), 401, 'unauthenticated');
    const admin = await t.app.inject({ method: 'POST', url: '/admin/users', headers: { 'content-type': 'application/json' }, payload: malformed });
    expect(admin.statusCode).toBe(401);
    // With a good token the body is parsed as before.
    expectOutcome(await t.request('POST', '/fhir/Patient', malformed), 400, 'json-malformed');
    expect((await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family: 'Verified' }] })).status).toBe(201);
  });

  it('unknown resource type in the URL → 404, in the body → 400', async () => {
    expectOutcome(await t.request('GET', '/fhir/Spaceship/1'), 404, 'unknown-resource-type');
    expectOutcome(await t.request('POST', '/fhir/Patient', { resourceType: 'Spaceship' }), 400, 'resource-structure');
  });

  it('wrong value types → 400 with the offending path', async () => {
    const res = await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', active: 'yes', name: [{ family: 42 }] });
    expectOutcome(res, 400, 'resource-structure');
    const paths = res.body.issue.flatMap((i: any) => i.expression);
    expect(paths).toEqual(expect.arrayContaining(['Patient.active', 'Patient.name[0].family']));
  });

  it('a missing required element or a bad format → 422 with the path', async () => {
    const res = await t.request('POST', '/fhir/Observation', { resourceType: 'Observation', code: { text: 'x' } });
    expectOutcome(res, 422, 'resource-invalid');
    expect(res.body.issue[0].expression).toEqual(['Observation.status']);
    const date = await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', birthDate: '1970-13-45' });
    expectOutcome(date, 422);
    expect(date.body.issue[0].expression).toEqual(['Patient.birthDate']);
    expect(JSON.stringify(date.body)).not.toContain('1970-13-45');
  });

  it('a reference to a type its element does not allow → 422 at the reference', async () => {
    const res = await t.request('POST', '/fhir/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Encounter/e1' } });
    expectOutcome(res, 422, 'resource-invalid');
    expect(res.body.issue[0].expression).toEqual(['Observation.subject.reference']);
  });

  it('an unknown element → 400', async () => {
    const res = await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', nickname: 'x' });
    expectOutcome(res, 400, 'resource-structure');
    expect(res.body.issue[0].expression).toEqual(['Patient.nickname']);
  });

  it('an id that does not match the URL, or a body of another type → 400', async () => {
    expectOutcome(await t.request('PUT', '/fhir/Patient/a', { resourceType: 'Patient', id: 'b' }), 400, 'id-mismatch');
    expectOutcome(await t.request('PUT', '/fhir/Patient/a', { resourceType: 'Patient' }), 400, 'id-mismatch');
    expectOutcome(await t.request('POST', '/fhir/Patient', { resourceType: 'Observation', status: 'final', code: { text: 'x' } }), 400);
  });

  it('a body over the limit → 413', async () => {
    const big = { resourceType: 'Patient', name: [{ text: 'x'.repeat(100 * 1024) }] };
    expectOutcome(await t.request('POST', '/fhir/Patient', big), 413, 'payload-too-large');
  });

  it('a form body (POST _search) of more than 1,000 pairs or over the limit → 413, counted before it is parsed', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    // A million empty pairs in 3 MB used to be parsed whole; 1,001 in 3 KB are refused now (without a token the body is not read at all: 401).
    expectOutcome(await t.request('POST', '/fhir/Patient/_search', 'a=&'.repeat(1_001), form), 413, 'payload-too-large');
    expectOutcome(await t.request('POST', '/fhir/Patient/_search', 'a=&'.repeat(1_001), { ...form, authorization: '' }), 401, 'unauthenticated');
    expectOutcome(await t.request('POST', '/fhir/Patient/_search', `name=${'x'.repeat(100 * 1024)}`, form), 413, 'payload-too-large');
    // 1,000 pairs are parsed, and the search refuses more than 100 parameters as before.
    expectOutcome(await t.request('POST', '/fhir/Patient/_search', Array.from({ length: 1_000 }, (_, i) => `name=${i}`).join('&'), form), 400, 'search-too-costly');
    expect((await t.request('POST', '/fhir/Patient/_search', 'gender=female&_count=1', form)).status).toBe(200);
  });

  it('no token → 401 with WWW-Authenticate; a bad token → 401; missing scope → 403', async () => {
    const none = await t.app.inject({ method: 'GET', url: '/fhir/Patient' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    const bad = await t.request('GET', '/fhir/Patient', undefined, { authorization: 'Bearer abc.def.ghi' });
    expectOutcome(bad, 401, 'token-invalid');
    const readOnly = await t.tokenFor('system/Patient.rs');
    expectOutcome(await t.request('POST', '/fhir/Patient', { resourceType: 'Patient' }, { authorization: `Bearer ${readOnly}` }), 403, 'forbidden');
    expectOutcome(await t.request('GET', '/fhir/Observation', undefined, { authorization: `Bearer ${readOnly}` }), 403, 'forbidden');
    expect((await t.request('GET', '/fhir/Patient', undefined, { authorization: `Bearer ${readOnly}` })).status).toBe(200);
    const patientScope = await t.tokenFor('patient/*.rs');
    expectOutcome(await t.request('GET', '/fhir/Patient', undefined, { authorization: `Bearer ${patientScope}` }), 403, 'forbidden');
  });

  it('other media types → 415, XML → 406, operations → 501', async () => {
    const xml = await t.app.inject({ method: 'POST', url: '/fhir/Patient', headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/fhir+xml' }, payload: '<Patient/>' });
    expect(xml.statusCode).toBe(415);
    expectOutcome(await t.request('GET', '/fhir/Patient', undefined, { accept: 'application/fhir+xml' }), 406, 'not-acceptable');
    expectOutcome(await t.request('GET', '/fhir/Patient?_format=xml'), 406, 'not-acceptable');
    expectOutcome(await t.request('GET', '/fhir/Patient/$everything'), 501, 'not-supported');
  });

  it('bad search parameters → 400; unknown ones are ignored leniently and refused strictly', async () => {
    const bad = await t.request('GET', '/fhir/Patient?birthdate=Jane-Doe-1970');
    expectOutcome(bad, 400, 'search-invalid');
    // Search values can be names or birth dates: the error names the parameter, not the value.
    expect(bad.text).not.toContain('Jane');
    expect(bad.body.issue[0].expression).toEqual(['birthdate']);
    const lenient = await t.request('GET', '/fhir/Patient?unknown-param=1');
    expect(lenient.status).toBe(200);
    expect(lenient.body.entry?.find((e: any) => e.search?.mode === 'outcome')).toBeDefined();
    expectOutcome(await t.request('GET', '/fhir/Patient?unknown-param=1', undefined, { prefer: 'handling=strict' }), 400);
  });

  it('many alternatives: what SQL can bind is answered, what it cannot is search-too-costly, never a 500', async () => {
    const alternatives = (n: number, f: (i: number, j: number) => string, name: string) => Array.from({ length: n }, (_, i) => `${name}=${Array.from({ length: 100 }, (_, j) => f(i, j)).join(',')}`).join('&');
    // Bare ids of Basic's subject (any of 145 target types): 3 × 100 of them bound 300 × 146 values, past SQLite's 32,766 (a 500).
    const subjects = await t.request('GET', `/fhir/Basic?${alternatives(3, (i, j) => `id${i}-${j}`, 'subject')}`);
    expect(subjects.status).toBe(200);
    expect(subjects.body.total).toBe(0);
    // 1,000 quantities with system and code bind more than a statement may (MAX_SEARCH_PARAMETERS).
    const quantities = await t.app.inject({
      method: 'POST',
      url: '/fhir/Observation/_search',
      headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: alternatives(10, (i, j) => `ge${j}|s${i}|c${j}`, 'value-quantity'),
    });
    expect(quantities.statusCode).toBe(400);
    expect(JSON.parse(quantities.body).issue[0].details.coding[0].code).toBe('search-too-costly');
  });

  it('malformed ids, versions and paths are clean errors', async () => {
    expectOutcome(await t.request('GET', `/fhir/Patient/${'a'.repeat(65)}`), 400, 'request-malformed');
    expectOutcome(await t.request('GET', '/fhir/Patient/x/_history/abc'), 404, 'version-not-found');
    expectOutcome(await t.request('GET', '/fhir/Patient/%E0%A4%A'), 400);
    expectOutcome(await t.request('GET', '/fhir/Patient/x/y/z/w/v'), 404);
    expectOutcome(await t.request('GET', '/fhir/Patient/not-there'), 404, 'resource-not-found');
  });

  it('never answers 500 to arbitrary requests (property)', async () => {
    const methods = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD');
    const segment = fc.oneof(fc.constantFrom('Patient', 'Observation', '_history', '_search', 'metadata', '$x', 'Bundle', '..', '%00'), fc.string({ maxLength: 12 }));
    const path = fc.array(segment, { maxLength: 5 }).map((s) => `/fhir/${s.map(encodeURIComponent).join('/')}`);
    const query = fc.array(fc.tuple(fc.constantFrom('_count', '_sort', 'name', 'birthdate', '_include', '_has:Observation:subject:code', 'subject:Patient.name', '_id', '_since'), fc.string({ maxLength: 20 })), { maxLength: 4 });
    const body = fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)), fc.string({ maxLength: 50 }));
    await fc.assert(
      fc.asyncProperty(methods, path, query, body, async (method, p, q, b) => {
        const qs = new URLSearchParams(q).toString();
        const res = await t.request(method, qs === '' ? p : `${p}?${qs}`, method === 'GET' || method === 'HEAD' ? undefined : b);
        // 501 (operations not implemented) is a deliberate answer; any other 5xx is a bug.
        if (res.status >= 500) expect(res.status).toBe(501);
      }),
      { numRuns: 300, seed: 42 },
    );
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('never answers 500 to mutated official examples, as creates, updates and Bundle entries (property)', async () => {
    const examples = officialExamples().map((e) => JSON.parse(e.text) as Record<string, unknown>);
    const hostile = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom('__proto__', 'constructor', '', 'urn:uuid:x', 'Patient?name=x', '#c', 1e308, -0));
    // One mutation: an element dropped, replaced by hostile JSON, or one level down.
    const mutate = (v: unknown, path: readonly number[], replacement: unknown, depth = 0): unknown => {
      if (v === null || typeof v !== 'object' || depth >= path.length) return replacement;
      const keys = Object.keys(v);
      if (keys.length === 0) return replacement;
      const k = keys[path[depth]! % keys.length]!;
      const copy: Record<string, unknown> = Array.isArray(v) ? ([...v] as unknown as Record<string, unknown>) : { ...(v as Record<string, unknown>) };
      if (path[depth]! % 7 === 0 && depth > 0) delete copy[k];
      else copy[k] = mutate(copy[k], path, replacement, depth + 1);
      return copy;
    };
    const request = fc.record({
      example: fc.nat({ max: examples.length - 1 }),
      path: fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
      replacement: hostile,
      as: fc.constantFrom('create', 'update', 'conditional', 'transaction', 'batch'),
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ example, path, replacement, as }) => {
        const r = mutate(examples[example], path, replacement) as Record<string, unknown>;
        const type = typeof r?.['resourceType'] === 'string' ? (r['resourceType'] as string) : 'Patient';
        const id = typeof r?.['id'] === 'string' ? (r['id'] as string) : 'x';
        const entry = { fullUrl: 'urn:uuid:9b2b8e0e-0000-4000-8000-000000000001', resource: r, request: { method: as === 'batch' ? 'PUT' : 'POST', url: as === 'batch' ? `${type}/${id}` : type } };
        const res =
          as === 'create' ? await t.request('POST', `/fhir/${encodeURIComponent(type)}`, r)
          : as === 'update' ? await t.request('PUT', `/fhir/${encodeURIComponent(type)}/${encodeURIComponent(id)}`, r)
          : as === 'conditional' ? await t.request('PUT', `/fhir/${encodeURIComponent(type)}?identifier=x`, r)
          : await t.request('POST', '/fhir', { resourceType: 'Bundle', type: as, entry: [entry] });
        expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
        if (res.status >= 400) expect(res.body.resourceType).toBe('OperationOutcome');
      }),
      { numRuns: 300, seed: 7 },
    );
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});
