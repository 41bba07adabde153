/**
 * The device directory (app/device-directory.ts) over a real store: a Device is linked by
 * MAC and by the IP literal of its url, and callers that come while the directory is
 * loading wait for the load instead of finding nothing (the two scorers of a shared bus
 * ask at once; the first load of all is the one they both need).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLEAR_AT_REST, openStore } from '../../src/store/index.js';
import type { ResourceStore } from '../../src/fhir/index.js';
import { DeviceDirectory, ETHERNET_ADDRESS_SYSTEM } from '../../src/app/device-directory.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { create, rows } from '../store/store-fixtures.js';

describe('device directory', () => {
  let db: TestDatabase;
  let store: ResourceStore;
  const clock = { now: () => 1_800_000_000_000 };

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    store = await openStore({ ...db.options, atRest: CLEAR_AT_REST });
    const device = (id: string, resource: object) => ({ ...create('Device', id, rows({})), json: JSON.stringify({ resourceType: 'Device', id, status: 'active', ...resource }) });
    await store.transaction((tx) =>
      tx.writeVersions([
        device('monitor-1', { identifier: [{ system: ETHERNET_ADDRESS_SYSTEM, value: '02-00-00-00-04-17' }], url: 'http://10.0.4.17/' }),
        device('pump-2', { url: '10.0.4.18', type: { coding: [{ display: 'no system or code' }, { system: 'http://snomed.info/sct', code: '69805005' }] } }),
        device('bed-3', { url: '10.0.4.21', patient: { reference: 'Patient/p9' } }),
        device('bed-4', { url: '10.0.4.22', patient: { reference: 'Group/ward-4' } }),
        device('gone', { status: 'entered-in-error', url: '10.0.4.20', type: { coding: [{ system: 'http://snomed.info/sct', code: '69805005' }] } }),
      ]),
    );
  });
  afterAll(async () => {
    await store.close();
    await db.cleanup();
  });

  it('links by MAC before IP, and by the IP literal of the url', async () => {
    const directory = new DeviceDirectory(store, clock);
    expect(await directory.deviceOf({ origMac: '02:00:00:00:04:17', origAddr: '10.0.4.99' })).toBe('Device/monitor-1');
    expect(await directory.deviceOf({ origAddr: '10.0.4.18' })).toBe('Device/pump-2');
    expect(await directory.deviceOf({ origAddr: '10.0.4.19' })).toBeUndefined();
  });

  it('knows each Device that is not entered-in-error, and its class by Device.type', async () => {
    const directory = new DeviceDirectory(store, clock);
    expect(await directory.known('Device/pump-2')).toBe(true);
    expect(await directory.known('Device/gone')).toBe(false);
    expect(await directory.deviceOf({ origAddr: '10.0.4.20' })).toBeUndefined();
    expect(await directory.classOf('Device/pump-2')).toBe('http://snomed.info/sct|69805005');
    expect(await directory.classOf('Device/monitor-1')).toBeUndefined();
    expect(await directory.classOf('Device/gone')).toBeUndefined();
  });

  it('knows the patient each Device is attached to, by a Patient reference only', async () => {
    const directory = new DeviceDirectory(store, clock);
    expect(await directory.patientOf('Device/bed-3')).toBe('Patient/p9');
    expect(await directory.patientOf('Device/bed-4')).toBeUndefined();
    expect(await directory.patientOf('Device/pump-2')).toBeUndefined();
    expect(await directory.devicesOf('Patient/p9')).toEqual(['Device/bed-3']);
    expect(await directory.devicesOf('Patient/nobody')).toEqual([]);
  });

  it('makes callers that come during a load wait for it', async () => {
    const directory = new DeviceDirectory(store, clock);
    const asked = await Promise.all([directory.deviceOf({ origAddr: '10.0.4.17' }), directory.deviceOf({ origAddr: '10.0.4.18' }), directory.deviceOf({ origMac: '02:00:00:00:04:17' })]);
    expect(asked).toEqual(['Device/monitor-1', 'Device/pump-2', 'Device/monitor-1']);
  });
});
