/**
 * create and update do what does not depend on the store before their transaction takes
 * the write lock (fhir/rest/write-interactions.ts): the new patient's data key is durable
 * before the transaction begins, which then need not wait for the key store's flush while
 * it holds the lock that also holds back every audited read. Real vault and store; the
 * store is only watched. A caller who may not write the version gets no key made for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResourceStore, ResourceWriter, Visibility } from '../../src/fhir/index.js';
import type { FhirContext } from '../../src/fhir/rest/fhir-context.js';
import { SEE_ALL } from '../../src/fhir/index.js';
import { conditionalUpdate, createResource, updateResource } from '../../src/fhir/rest/write-interactions.js';
import { writeAccessOf } from '../../src/fhir/rest/write-access.js';
import { parseBundleRequest } from '../../src/fhir/rest/bundle-request.js';
import { processTransaction } from '../../src/fhir/rest/transaction-bundle.js';
import type { RequestOptions } from '../../src/fhir/rest/fhir-interaction.js';
import { startTestVault, type TestVault } from '../helpers/test-vault.js';

let tv: TestVault;
beforeAll(async () => {
  tv = await startTestVault('sqlite');
});
afterAll(async () => {
  await tv?.close();
});

/** The vault's store, recording when each `prepareKeys` has resolved (its keys durable) and when each transaction body runs. */
function watchedStore(): { store: ResourceStore; calls: string[] } {
  const real = tv.vault.fhir.store;
  const calls: string[] = [];
  const store = Object.create(real) as ResourceStore;
  Object.defineProperty(store, 'prepareKeys', {
    value: async (writes: Parameters<ResourceStore['prepareKeys']>[0]) => {
      await real.prepareKeys(writes);
      calls.push(`keys ${writes.map((w) => `${w.type}/${w.id}`).join()}`);
    },
  });
  Object.defineProperty(store, 'transaction', {
    value: <T>(fn: (tx: ResourceWriter) => Promise<T>) =>
      real.transaction((tx) => {
        calls.push('transaction body');
        return fn(tx);
      }),
  });
  return { store, calls };
}

/**
 * Runs `fn` on the watched store while `others` other requests are in flight: the vault
 * then flushes off the event loop, so a key left to the transaction would be flushed inside it.
 */
async function whileOthersInFlight(others: number, fn: (ctx: FhirContext, calls: string[]) => Promise<void>): Promise<void> {
  const leave = Array.from({ length: others }, () => tv.vault.inFlight.enter());
  try {
    const { store, calls } = watchedStore();
    await fn({ ...tv.vault.fhir, store }, calls);
  } finally {
    for (const l of leave) l();
  }
}

describe('writes, before the write lock', () => {
  it('a new patient’s key is durable before the transaction begins, while other requests are in flight', async () => {
    await whileOthersInFlight(3, async (ctx, calls) => {
      const created = await createResource(ctx, 'Patient', { resourceType: 'Patient', name: [{ family: 'Early' }] }, undefined, writeAccessOf({ visibility: SEE_ALL }));
      expect(created.status).toBe(201);
      const id = String(created.location).split('/')[1];
      expect(calls).toEqual([`keys Patient/${id}`, 'transaction body']);

      calls.length = 0;
      const put = await updateResource(ctx, 'Patient', 'client-chosen', { resourceType: 'Patient', id: 'client-chosen' }, undefined, writeAccessOf({ visibility: SEE_ALL }));
      expect(put.status).toBe(201);
      expect(calls).toEqual(['keys Patient/client-chosen', 'transaction body']);
      expect((await tv.request('GET', '/fhir/Patient/client-chosen')).status).toBe(200);
    });
  });

  it('makes no key for a version the caller may not write, and the transaction refuses it as before', async () => {
    const { store, calls } = watchedStore();
    const ctx = { ...tv.vault.fhir, store };
    // Only what is in Patient/other's record is visible to this caller.
    const visibility: Visibility = { kind: 'in-compartment', compartment: 'Patient', ids: ['other'] };
    await expect(createResource(ctx, 'Patient', { resourceType: 'Patient' }, undefined, writeAccessOf({ visibility }))).rejects.toMatchObject({ code: 'forbidden' });
    // No key was asked for: only the transaction ran, and refused the version.
    expect(calls).toEqual(['transaction body']);
  });

  it('a conditional create makes its key ahead only while nothing matches it; criteria the transaction refuses make none', async () => {
    await whileOthersInFlight(2, async (ctx, calls) => {
      const body = { resourceType: 'Patient', identifier: [{ system: 'urn:test', value: 'once' }] };
      const first = await createResource(ctx, 'Patient', body, 'identifier=urn:test|once', writeAccessOf({ visibility: SEE_ALL }));
      expect(first.status).toBe(201);
      const id = String(first.location).split('/')[1];
      expect(calls).toEqual([`keys Patient/${id}`, 'transaction body']);

      calls.length = 0;
      const again = await createResource(ctx, 'Patient', body, 'identifier=urn:test|once', writeAccessOf({ visibility: SEE_ALL }));
      expect(again.status).toBe(200);
      expect(String(again.location).split('/')[1]).toBe(id);
      expect(calls).toEqual(['transaction body']);

      // Nothing it may see matches, but the caller may not create this patient: no key, and the transaction refuses as before.
      calls.length = 0;
      const hidden: Visibility = { kind: 'in-compartment', compartment: 'Patient', ids: ['someone-else'] };
      await expect(createResource(ctx, 'Patient', body, 'identifier=urn:test|once', writeAccessOf({ visibility: hidden }))).rejects.toMatchObject({ code: 'forbidden' });
      expect(calls).toEqual(['transaction body']);

      calls.length = 0;
      await expect(createResource(ctx, 'Patient', body, 'no-such-parameter=1', writeAccessOf({ visibility: SEE_ALL }))).rejects.toMatchObject({ code: 'search-unsupported' });
      expect(calls).toEqual(['transaction body']);
    });
  });

  it('a conditional update that will create a patient makes the key ahead, under the id it then creates; one that matches makes none', async () => {
    await whileOthersInFlight(2, async (ctx, calls) => {
      const body = { resourceType: 'Patient', identifier: [{ system: 'urn:test', value: 'upsert' }] };
      const made = await conditionalUpdate(ctx, 'Patient', 'identifier=urn:test|upsert', body, undefined, writeAccessOf({ visibility: SEE_ALL }));
      expect(made.status).toBe(201);
      const id = String(made.location).split('/')[1];
      expect(calls).toEqual([`keys Patient/${id}`, 'transaction body']);

      calls.length = 0;
      const updated = await conditionalUpdate(ctx, 'Patient', 'identifier=urn:test|upsert', { ...body, gender: 'other' }, undefined, writeAccessOf({ visibility: SEE_ALL }));
      expect(updated.status).toBe(200);
      expect(String(updated.location).split('/')[1]).toBe(id);
      expect(calls).toEqual(['transaction body']);

      // With the id in the body: the key under that id.
      calls.length = 0;
      const withId = await conditionalUpdate(ctx, 'Patient', 'identifier=urn:test|upsert-by-id', { resourceType: 'Patient', id: 'upsert-by-id', identifier: [{ system: 'urn:test', value: 'upsert-by-id' }] }, undefined, writeAccessOf({ visibility: SEE_ALL }));
      expect(withId.status).toBe(201);
      expect(calls).toEqual(['keys Patient/upsert-by-id', 'transaction body']);

      // A caller who may not create by id: nothing ahead, and the transaction decides as before.
      calls.length = 0;
      const own: Visibility = { kind: 'in-compartment', compartment: 'Patient', ids: ['upsert-own'] };
      await expect(conditionalUpdate(ctx, 'Patient', 'identifier=urn:test|upsert-own', { resourceType: 'Patient', id: 'upsert-own' }, undefined, writeAccessOf({ visibility: own }))).rejects.toBeDefined();
      expect(calls).toEqual(['transaction body']);
    });
  });

  it('makes no key ahead for an update-as-create the caller may not make', async () => {
    const { store, calls } = watchedStore();
    const ctx = { ...tv.vault.fhir, store };
    const visibility: Visibility = { kind: 'in-compartment', compartment: 'Patient', ids: ['not-yet'] };
    await expect(updateResource(ctx, 'Patient', 'not-yet', { resourceType: 'Patient', id: 'not-yet' }, undefined, writeAccessOf({ visibility }))).rejects.toMatchObject({ code: 'resource-not-found' });
    expect(calls).toEqual(['transaction body']);
  });

  it('a transaction Bundle makes the keys of the patients it creates before its transaction, and creates them under the ids it made them for', async () => {
    await whileOthersInFlight(2, async (ctx, calls) => {
      const options = (visibility: Visibility): RequestOptions => ({ returnPreference: 'minimal', handling: 'strict', owner: 'test', visibility });
      const bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { fullUrl: 'urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a', resource: { resourceType: 'Patient', name: [{ family: 'Bundled' }] }, request: { method: 'POST', url: 'Patient' } },
          {
            fullUrl: 'urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059',
            resource: { resourceType: 'Observation', status: 'final', code: { text: 'pulse' }, subject: { reference: 'urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a' } },
            request: { method: 'POST', url: 'Observation' },
          },
          { resource: { resourceType: 'Patient', id: 'bundled-by-id' }, request: { method: 'PUT', url: 'Patient/bundled-by-id' } },
          { resource: { resourceType: 'Patient', identifier: [{ system: 'urn:test', value: 'cond' }] }, request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn:test|cond' } },
          { resource: { resourceType: 'Patient', identifier: [{ system: 'urn:test', value: 'cond-put' }] }, request: { method: 'PUT', url: 'Patient?identifier=urn:test|cond-put' } },
        ],
      };
      const result = await processTransaction(ctx, parseBundleRequest(ctx, bundle).entries, options(SEE_ALL));
      expect(result.status).toBe(200);
      const locations = (JSON.parse(String(result.body)) as { entry: { response: { location: string } }[] }).entry.map((e) => e.response.location.split('/_history')[0]);
      // Keys for the creates (POSTs first, in entry order) and the PUT, under the ids the transaction then used.
      expect(calls).toEqual([`keys ${locations[0]},${locations[3]},Patient/bundled-by-id,${locations[4]}`, 'transaction body']);
      // The Observation's reference was rewritten to the id the key was made for.
      const observation = (await tv.request('GET', `/fhir/${locations[1]}`)).body as { subject: { reference: string } };
      expect(observation.subject.reference).toBe(locations[0]);

      // The conditional create again: it matches now, so no key is made for it.
      calls.length = 0;
      const conditional = { resourceType: 'Bundle', type: 'transaction', entry: [bundle.entry[3], bundle.entry[4]] };
      const matched = await processTransaction(ctx, parseBundleRequest(ctx, conditional).entries, options(SEE_ALL));
      const responses = (JSON.parse(String(matched.body)) as { entry: { response: { location: string; status: string } }[] }).entry.map((e) => e.response);
      expect(responses[0]).toMatchObject({ status: '200 OK', location: expect.stringContaining(locations[3]!) });
      expect(responses[1]).toMatchObject({ status: '200 OK', location: expect.stringContaining(locations[4]!) });
      expect(calls).toEqual(['transaction body']);

      // A caller restricted to one patient's record gets no key ahead, and the transaction refuses as before.
      calls.length = 0;
      const restricted: Visibility = { kind: 'in-compartment', compartment: 'Patient', ids: ['other'] };
      const one = { resourceType: 'Bundle', type: 'transaction', entry: [bundle.entry[0]] };
      await expect(processTransaction(ctx, parseBundleRequest(ctx, one).entries, options(restricted))).rejects.toBeDefined();
      expect(calls).toEqual(['transaction body']);

      // Nor for a PUT that would create a patient the caller may see but not create by id.
      calls.length = 0;
      const own: Visibility = { kind: 'in-compartment', compartment: 'Patient', ids: ['bundled-not-yet'] };
      const put = { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Patient', id: 'bundled-not-yet' }, request: { method: 'PUT', url: 'Patient/bundled-not-yet' } }] };
      await expect(processTransaction(ctx, parseBundleRequest(ctx, put).entries, options(own))).rejects.toBeDefined();
      expect(calls).toEqual(['transaction body']);
      // Nor for a conditional update that would create it.
      calls.length = 0;
      const upsert = { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Patient', id: 'bundled-not-yet' }, request: { method: 'PUT', url: 'Patient?identifier=urn:test|bundled-not-yet' } }] };
      await expect(processTransaction(ctx, parseBundleRequest(ctx, upsert).entries, options(own))).rejects.toBeDefined();
      expect(calls).toEqual(['transaction body']);

      // A Bundle of many new patients makes all their keys ahead, in one call (each entry is charged as a request).
      calls.length = 0;
      const many = { resourceType: 'Bundle', type: 'transaction', entry: Array.from({ length: 40 }, () => bundle.entry[0]!).map((e, i) => ({ ...e, fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}` })) };
      const made = await processTransaction(ctx, parseBundleRequest(ctx, many).entries, options(SEE_ALL));
      expect(made.status).toBe(200);
      const created = (JSON.parse(String(made.body)) as { entry: { response: { location: string } }[] }).entry.map((e) => e.response.location.split('/_history')[0]);
      expect(calls).toEqual([`keys ${created.join()}`, 'transaction body']);
    });
  });
});
