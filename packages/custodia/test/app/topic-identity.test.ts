/**
 * Topics bound to devices (app/topic-identity.ts) over a real store, without a broker:
 * which level names the Device, and what is admitted, refused, or refused as an
 * impersonation of another sender.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLEAR_AT_REST, openStore } from '../../src/store/index.js';
import type { ResourceStore } from '../../src/fhir/index.js';
import type { TelemetryRecord } from '../../src/detect/index.js';
import { DeviceDirectory, ETHERNET_ADDRESS_SYSTEM } from '../../src/app/device-directory.js';
import { impersonationFinding, topicDevice, TopicIdentity } from '../../src/app/topic-identity.js';
import { parseTelemetryMessage } from '../../src/ingest/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { encode, jitter, normalMessage } from '../helpers/telemetry.js';
import { create, rows } from '../store/store-fixtures.js';

const record = (sender: { mac?: string; addr?: string }): TelemetryRecord => {
  const m = normalMessage({ mac: sender.mac ?? '', addr: sender.addr ?? '' }, jitter(1));
  if (sender.mac === undefined) delete m['SrcMac'];
  if (sender.addr === undefined) delete m['SrcAddr'];
  return parseTelemetryMessage(encode(m), { position: { topic: 't', sequence: 1 }, fallbackId: 'f-1', receivedMs: 0 });
};

describe('topic identity', () => {
  let db: TestDatabase;
  let store: ResourceStore;
  let identity: TopicIdentity;
  const clock = { now: () => 1_800_000_000_000 };

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    store = await openStore({ ...db.options, atRest: CLEAR_AT_REST });
    const device = (id: string, resource: object) => ({ ...create('Device', id, rows({})), json: JSON.stringify({ resourceType: 'Device', id, status: 'active', ...resource }) });
    await store.transaction((tx) =>
      tx.writeVersions([
        device('monitor-1', { identifier: [{ system: ETHERNET_ADDRESS_SYSTEM, value: '02-00-00-00-04-17' }] }),
        device('pump.2', { url: 'http://10.0.4.18/' }),
        device('retired', { status: 'entered-in-error', url: 'http://10.0.4.19/' }),
        device('no-address', {}),
      ]),
    );
    identity = new TopicIdentity(new DeviceDirectory(store, clock), 3);
  });
  afterAll(async () => {
    await store.close();
    await db.cleanup();
  });

  it('reads the Device id at the level, and nothing that is not a FHIR id', () => {
    expect(topicDevice('custodia/telemetry/monitor-1', 3)).toBe('Device/monitor-1');
    expect(topicDevice('hospital/pump.2/telemetry', 2)).toBe('Device/pump.2');
    for (const bad of ['custodia/telemetry', 'custodia/telemetry/', 'custodia/telemetry/a b', 'custodia/telemetry/Device_1', `custodia/telemetry/${'a'.repeat(65)}`, 'custodia/telemetry/é']) expect(topicDevice(bad, 3), bad).toBeUndefined();
    expect(topicDevice(`custodia/telemetry/${'a'.repeat(64)}`, 3)).toBe(`Device/${'a'.repeat(64)}`);
  });

  it('admits a record whose sender is its topic’s Device, by MAC or by IP', async () => {
    expect(await identity.admit('custodia/telemetry/monitor-1', record({ mac: '02:00:00:00:04:17', addr: '10.9.9.9' }))).toEqual({ admitted: true, device: 'Device/monitor-1' });
    expect(await identity.admit('custodia/telemetry/pump.2', record({ addr: '10.0.4.18' }))).toEqual({ admitted: true, device: 'Device/pump.2' });
  });

  it('refuses topics that name no registered Device, without calling it an impersonation', async () => {
    expect(await identity.admit('custodia/telemetry/nobody', record({ addr: '10.0.4.18' }))).toEqual({ admitted: false, reason: 'Device/nobody is not a registered Device' });
    expect(await identity.admit('custodia/telemetry/retired', record({ addr: '10.0.4.19' }))).toEqual({ admitted: false, reason: 'Device/retired is not a registered Device' });
    expect(await identity.admit('custodia/telemetry/a+b', record({ addr: '10.0.4.18' }))).toEqual({ admitted: false, reason: 'topic level 3 is not a Device id' });
  });

  it('refuses a record in another sender’s name as an impersonation by the topic’s Device', async () => {
    expect(await identity.admit('custodia/telemetry/monitor-1', record({ addr: '10.0.4.18' }))).toEqual({
      admitted: false,
      reason: 'published as Device/monitor-1 in the name of Device/pump.2',
      impersonation: { device: 'Device/monitor-1', claimed: 'ip:10.0.4.18', claimedDevice: 'Device/pump.2' },
    });
    // A MAC no Device has, with the pump's own address: the directory links it by the address, so it is the pump's.
    const unknownMac = await identity.admit('custodia/telemetry/pump.2', record({ mac: '02:00:00:00:99:99', addr: '10.0.4.18' }));
    expect(unknownMac).toMatchObject({ admitted: true });
    // A Device with no MAC or address can be named by nothing: every record on its topic is someone else's.
    expect(await identity.admit('custodia/telemetry/no-address', record({ addr: '10.0.4.77' }))).toEqual({
      admitted: false,
      reason: 'published as Device/no-address in the name of an unregistered sender',
      impersonation: { device: 'Device/no-address', claimed: 'ip:10.0.4.77' },
    });
  });

  it('raises the impersonation against the publishing Device, at the time of receipt', () => {
    const f = impersonationFinding({ device: 'Device/monitor-1', claimed: 'ip:10.0.4.18', claimedDevice: 'Device/pump.2' }, 1234);
    expect(f).toEqual({
      device: 'Device/monitor-1',
      severity: 'high',
      start: 1234,
      end: 1234,
      summary: "Telemetry published with Device/monitor-1's broker identity named another sender: ip:10.0.4.18 (Device/pump.2)",
      explanation: { detector: 'device-identity', label: 'sender-mismatch', score: 1, threshold: 0, features: [] },
    });
  });
});
