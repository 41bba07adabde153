/**
 * The server counts every request in flight (kernel/in-flight.ts), from its arrival until
 * its response has ended or its connection has closed — the store decides from this
 * whether an fsync may block the event loop (store/group-commit.ts). A request still
 * sending its body counts; an abandoned one stops counting; answered ones leave nothing.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startListeningVault, type ListeningVault } from '../helpers/listening-vault.js';
import { until } from '../helpers/until.js';

let lv: ListeningVault;
beforeAll(async () => {
  lv = await startListeningVault('sqlite');
});
afterAll(async () => {
  await lv?.close();
});

describe('requests in flight', () => {
  it('counts a request whose body is still arriving, and stops when its client goes away', async () => {
    expect(lv.vault.inFlight.count).toBe(0);
    const url = new URL(`${lv.origin}/fhir/Patient`);
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/fhir+json', 'content-length': '1000' } });
    req.on('error', () => undefined);
    req.write('{"resourceType":');
    await until('the request to count', () => lv.vault.inFlight.count === 1, 5000);
    req.destroy();
    await until('no request in flight', () => lv.vault.inFlight.count === 0, 5000);
  });

  it('leaves nothing behind after concurrent reads, creates and refusals', async () => {
    const created = await lv.http('POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family: 'Inflight' }] });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 4 === 0
          ? lv.http('POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family: `Inflight${i}` }] })
          : i % 4 === 1
            ? fetch(`${lv.origin}/fhir/Patient/${id}`).then((r) => ({ status: r.status }))
            : lv.http('GET', `/fhir/Patient/${id}`),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([...Array(10).fill(201), ...Array(20).fill(200), ...Array(10).fill(401)].sort());
    await until('no request in flight', () => lv.vault.inFlight.count === 0, 5000);
  });
});
