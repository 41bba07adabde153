/**
 * No patient data in logs: a real `custodia serve` at the most verbose log level, driven
 * through a session that puts a patient's name, identifier, phone number and birth date
 * into bodies, URLs, search parameters, conditional headers and error paths. Every line
 * the server writes (stdout and stderr) is then searched for each of them, in the
 * encodings they could take (as typed, URL-encoded, lower case, JSON-escaped).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../oauth/oauth-harness.js';

const BIN = fileURLToPath(new URL('../../bin/custodia.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'custodia-logs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FAMILY = 'Zqxvortanu';
const GIVEN = 'Ilsabeth';
const MRN = 'MRN-7Q4-99871';
const PHONE = '+1 555 0199 4321';
const BIRTH = '1937-02-17';
const SECRETS = [FAMILY, GIVEN, MRN, PHONE, BIRTH];

describe('server logs', () => {
  it('hold none of a patient’s identifiers after a full session, at log level debug', async () => {
    const port = await freePort();
    let output = '';
    const server: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--data-dir', dir, '--port', String(port), '--log-level', 'debug'], { env: { ...process.env, CUSTODIA_DATABASE_URL: '' } });
    server.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    server.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    try {
      const base = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = /listening at (http:\/\/127\.0\.0\.1:\d+\/fhir)/.exec(output);
          if (m) {
            clearInterval(timer);
            resolve(m[1]!);
          }
        }, 50);
        server.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
      });
      const token = spawnSync(process.execPath, [BIN, 'token', '--data-dir', dir], { encoding: 'utf8', env: { ...process.env, CUSTODIA_DATABASE_URL: '' } }).stdout.trim();
      const auth = { authorization: `Bearer ${token}` };
      const json = { ...auth, 'content-type': 'application/fhir+json' };
      const patient = {
        resourceType: 'Patient',
        name: [{ family: FAMILY, given: [GIVEN] }],
        identifier: [{ system: 'urn:example:mrn', value: MRN }],
        telecom: [{ system: 'phone', value: PHONE }],
        birthDate: BIRTH,
      };
      const created = await fetch(`${base}/Patient`, { method: 'POST', headers: { ...json, 'if-none-exist': `identifier=urn:example:mrn|${MRN}` }, body: JSON.stringify(patient) });
      expect(created.status).toBe(201);
      const id = ((await created.json()) as { id: string }).id;
      const calls: [string, RequestInit][] = [
        [`/Patient/${id}`, { headers: auth }],
        [`/Patient?family=${FAMILY}&given=${GIVEN}&birthdate=${BIRTH}`, { headers: auth }],
        [`/Patient?identifier=${encodeURIComponent(`urn:example:mrn|${MRN}`)}&phone=${encodeURIComponent(PHONE)}`, { headers: auth }],
        [`/Patient/_search`, { method: 'POST', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: `family=${FAMILY}&birthdate=${BIRTH}` }],
        // Error paths: a bad search value, an invalid resource, an unknown parameter in strict mode, a bad token.
        [`/Patient?birthdate=${FAMILY}`, { headers: auth }],
        [`/Patient`, { method: 'POST', headers: json, body: JSON.stringify({ ...patient, birthDate: `${FAMILY}-${BIRTH}` }) }],
        [`/Patient?${FAMILY}=${MRN}`, { headers: { ...auth, prefer: 'handling=strict' } }],
        [`/Patient?family=${FAMILY}`, { headers: { authorization: `Bearer ${FAMILY}.${MRN}.x` } }],
        [`/Patient/${id}`, { method: 'PUT', headers: json, body: JSON.stringify({ ...patient, id, name: [{ family: FAMILY, given: [GIVEN, 'Second'] }] }) }],
        ['/', { method: 'POST', headers: json, body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [{ resource: patient, request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${MRN}` } }] }) }],
        [`/Patient/${id}/_history`, { headers: auth }],
      ];
      for (const [path, init] of calls) {
        const r = await fetch(`${base}${path === '/' ? '' : path}`, init);
        expect(r.status, path).toBeLessThan(500);
        await r.arrayBuffer();
      }
      // The server did log the session (so the search below looks at something). Its log
      // is written asynchronously: wait for the lines to arrive.
      const logged = () => output.split('\n').filter((l) => l.includes('"msg":"request"')).length;
      for (let i = 0; i < 100 && logged() < calls.length + 1; i++) await new Promise((r) => setTimeout(r, 50));
      expect(logged()).toBeGreaterThanOrEqual(calls.length + 1);
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.on('exit', r));
    }
    for (const s of SECRETS) {
      for (const form of new Set([s, encodeURIComponent(s), s.toLowerCase(), JSON.stringify(s).slice(1, -1), s.replace(/ /g, '+')])) {
        expect(output.includes(form), `"${form}" in the server log`).toBe(false);
      }
    }
  }, 120_000);
});
