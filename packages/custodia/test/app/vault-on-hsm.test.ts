/**
 * A whole vault whose KEKs live in a PKCS#11 HSM (SoftHSM2 in CI): records sealed, read,
 * searched through blind indexes, the KEK rotated inside the HSM with no data rewritten, the
 * vault reopened, and a patient erased. A key store made with the HSM is never opened with
 * the keyring file by mistake. On when CUSTODIA_TEST_SOFTHSM=1 (`.ci/run`), skipped otherwise.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVault, resolveConfig, type Vault } from '../../src/app/index.js';
import { buildServer } from '../../src/server/index.js';
import { systemClock } from '../../src/kernel/index.js';
import { SOFTHSM_ENABLED, testToken, useToken, type TestToken } from '../helpers/softhsm.js';

describe.skipIf(!SOFTHSM_ENABLED)('a vault on a PKCS#11 HSM (SoftHSM2)', () => {
  let dir: string;
  let token: TestToken;
  const config = (provider: 'pkcs11' | 'keyring' = 'pkcs11') =>
    resolveConfig(
      { dataDir: join(dir, 'data'), baseUrl: 'http://127.0.0.1:8080/fhir', logLevel: 'silent', encryption: { keyProvider: provider, pkcs11Module: token.module, pkcs11Token: token.tokenLabel } },
      { CUSTODIA_PKCS11_PIN: token.pin },
    );
  const open = async (): Promise<{ vault: Vault; call: (method: string, url: string, body?: unknown) => Promise<{ status: number; body: any }>; close: () => Promise<void> }> => {
    useToken(token);
    const vault = await createVault(config(), { clock: systemClock, identity: { scrypt: { logN: 4, r: 8, p: 1 } } });
    const app = buildServer(vault);
    await app.ready();
    const bearer = await vault.tokens.issue({ subject: 'test-operator', scope: 'system/*.cruds', ttlSeconds: 600 });
    return {
      vault,
      call: async (method, url, body) => {
        const res = await app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/fhir+json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
        return { status: res.statusCode, body: res.body === '' ? undefined : JSON.parse(res.body) };
      },
      close: async () => {
        await app.close();
        await vault.close();
      },
    };
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'custodia-hsm-vault-'));
    token = testToken(join(dir, 'hsm'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('seals, searches, rotates the KEK in the HSM, reopens and erases', async () => {
    let v = await open();
    try {
      for (const id of ['h1', 'h2']) {
        expect((await v.call('PUT', `/fhir/Patient/${id}`, { resourceType: 'Patient', id, name: [{ family: `Hsmfamily-${id}` }], identifier: [{ system: 'urn:mrn', value: `MRN-${id}` }] })).status).toBe(201);
        expect((await v.call('PUT', `/fhir/Observation/o-${id}`, { resourceType: 'Observation', id: `o-${id}`, status: 'final', code: { text: 'pulse' }, subject: { reference: `Patient/${id}` } })).status).toBe(201);
      }
      // No keyring file: the KEKs are in the HSM.
      expect(existsSync(join(dir, 'data', 'keys', 'keyring.json'))).toBe(false);
      expect((await v.call('GET', '/fhir/Patient?family=hsmfamily-h1')).body.total).toBe(1);
      expect((await v.call('GET', '/fhir/Patient?identifier=urn:mrn|MRN-h2')).body.total).toBe(1);
      const before = await v.vault.keyRotation!.status();
      expect(before.provider).toBe('pkcs11');
      expect(before.keks).toHaveLength(1);
      const rotated = await v.vault.keyRotation!.rotateKek('test');
      const after = await v.vault.keyRotation!.status();
      expect(after.keks.map((k) => k.id)).toEqual([rotated.kek]);
      expect(after.dataKeys.every((c) => c.state === 'erased' || c.kekId === rotated.kek)).toBe(true);
      expect(after.versions.active).toBe(before.versions.active);
    } finally {
      await v.close();
    }
    v = await open();
    try {
      expect((await v.call('GET', '/fhir/Patient/h1')).body.name[0].family).toBe('Hsmfamily-h1');
      expect((await v.vault.erasure!.erasePatient('h1', 'test', 'test')).keys).toBe(1);
      expect((await v.call('GET', '/fhir/Observation/o-h1')).status).toBe(410);
      expect((await v.call('GET', '/fhir/Observation/o-h2')).status).toBe(200);
    } finally {
      await v.close();
    }
  });

  it('refuses to open a key store the HSM made with the keyring file instead', async () => {
    await expect(createVault(config('keyring'))).rejects.toMatchObject({ code: 'config-invalid', message: expect.stringMatching(/pkcs11/) });
    expect(existsSync(join(dir, 'data', 'keys', 'keyring.json'))).toBe(false);
  });
});
