/**
 * The README's access-control walkthrough, as a new user runs it: a vault started with
 * `custodia serve --demo`, users and a client added with the CLI while it runs, sign-ins
 * through `custodia login` with the sign-in pages driven like a browser (password, TOTP
 * enrolment, recovery codes, consent), a patient's Consent taking effect on the next
 * request, break-the-glass, and the privacy officer's review queue. Every command run
 * here is checked to appear verbatim in README.md, so the two cannot drift apart.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base32Decode, totpAt } from '../../src/access/index.js';
import { Browser, freePort, parseForm, type Page } from '../oauth/oauth-harness.js';

const BIN = fileURLToPath(new URL('../../bin/custodia.mjs', import.meta.url));
const README = readFileSync(fileURLToPath(new URL('../../../../README.md', import.meta.url)), 'utf8');

const GLADYS = 'a4a401d1-a46a-eb4a-8a38-760d5d79d6ec';
const STEPS = {
  clinician: 'custodia user add --username dr.ada --role clinician --fhir-user Practitioner/0965e26a-8bc3-395f-b7b0-4620fb6e778c',
  patient: `custodia user add --username gladys --role patient --fhir-user Patient/${GLADYS}`,
  officer: 'custodia user add --username priya --role privacy-officer',
  mfa: 'custodia role require-mfa --role clinician',
  client: 'custodia client add --client-id custodia-cli --name "Custodia CLI" --public --redirect-uri http://127.0.0.1/callback --scope "openid fhirUser user/*.cruds"',
  login: 'custodia login',
  officerToken: 'custodia token --user priya',
} as const;
const BTG_REASON = 'Unconscious in the emergency department; allergies unknown';

/** A README command line as argv (double-quoted arguments kept whole). */
function argv(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!).slice(1);
}

function password(stdout: string): string {
  const m = /Password \(shown once; store it now\): (\S+)/.exec(stdout);
  if (m === null) throw new Error(`no generated password in: ${stdout}`);
  return m[1]!;
}

describe.skipIf(process.platform === 'win32')('the README access-control walkthrough', () => {
  let dataDir: string;
  let server: ChildProcess;
  let base: string;
  const passwords = new Map<string, string>();
  let clinicianToken: string;
  let patientToken: string;

  const cli = (line: string, extra: string[] = []) => {
    expect(README, `README.md shows: ${line}`).toContain(line);
    const r = spawnSync(process.execPath, [BIN, ...argv(line), ...extra, '--data-dir', dataDir], { encoding: 'utf8', env: { ...process.env, CUSTODIA_DATABASE_URL: '' }, timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${line} exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  };
  const fhir = (path: string, token: string, init: RequestInit = {}) =>
    fetch(`${base}/fhir/${path}`, { ...init, headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json', ...(init.headers as Record<string, string>) } });

  /** `custodia login`, with the browser part done by `drive` on the printed address; the token it prints. */
  async function login(drive: (browser: Browser, first: Page) => Promise<Page>): Promise<string> {
    expect(README).toContain(STEPS.login);
    const child = spawn(process.execPath, [BIN, 'login', '--fhir-url', `${base}/fhir`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    // 'close', not 'exit': the output streams are complete then.
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (c) => {
        stderr += c;
        const m = /(http:\/\/\S+\/oauth\/authorize\S+)/.exec(stderr);
        if (m !== null) resolve(m[1]!);
      });
      void exited.then((code) => reject(new Error(`custodia login exited ${code}: ${stderr}`)));
    });
    const browser = new Browser();
    const last = await drive(browser, await browser.get(url));
    expect(last.status).toBe(303);
    // The browser follows the redirect to the loopback address custodia login listens on.
    const landing = await fetch(last.location!);
    expect(await landing.text()).toContain('Signed in');
    const code = await exited;
    expect(code, stderr).toBe(0);
    return stdout.trim();
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'custodia-walkthrough-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [BIN, 'serve', '--data-dir', dataDir, '--demo', '--port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CUSTODIA_DATABASE_URL: '' } });
    for (let i = 0; i < 600; i++) {
      const up = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
      if (up && (await fetch(`${base}/fhir/metadata`).then((r) => r.ok))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // The demo load finishes before the server listens; the users come next.
    passwords.set('dr.ada', password(cli(STEPS.clinician)));
    passwords.set('gladys', password(cli(STEPS.patient)));
    passwords.set('priya', password(cli(STEPS.officer)));
    cli(STEPS.mfa);
    cli(STEPS.client);
  }, 120_000);

  afterAll(async () => {
    server?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('signs the clinician in, enrolling an authenticator on the way, and the token reads the patient', async () => {
    clinicianToken = await login(async (b, first) => {
      let page = await b.submit(first, { username: 'dr.ada', password: passwords.get('dr.ada')! });
      expect(parseForm(page.text).fields['step']).toBe('enrol');
      const key = /Key: <code>([A-Z2-7 ]+)<\/code>/.exec(page.text)![1]!.replace(/ /g, '');
      page = await b.submit(page, { code: totpAt(base32Decode(key)!, Date.now(), { algorithm: 'SHA1', digits: 6, period: 30 }) });
      expect(page.text).toContain('Save your recovery codes');
      page = await b.submit(page, {});
      return b.submit(page, { decision: 'approve' });
    });
    expect(clinicianToken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect((await fhir(`Patient/${GLADYS}`, clinicianToken)).status).toBe(200);
  }, 60_000);

  it('lets the patient sign in and block the clinician with a Consent, which takes effect on the next request', async () => {
    patientToken = await login(async (b, first) => {
      const page = await b.submit(first, { username: 'gladys', password: passwords.get('gladys')! });
      expect(parseForm(page.text).fields['step']).toBe('consent');
      return b.submit(page, { decision: 'approve' });
    });
    const consent = /POST http:\/\/127\.0\.0\.1:8080\/fhir\/Consent -d @- <<'EOF'\n([\s\S]*?)\nEOF/.exec(README);
    expect(consent, 'README.md shows the Consent it posts').not.toBeNull();
    const created = await fhir('Consent', patientToken, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: consent![1]! });
    expect(created.status, await created.clone().text()).toBe(201);
    expect((await fhir(`Patient/${GLADYS}`, clinicianToken)).status).toBe(404);
    const search = (await (await fhir(`Observation?subject=Patient/${GLADYS}&_summary=count`, clinicianToken)).json()) as { total: number };
    expect(search.total).toBe(0);
    // Another patient's record is untouched, and Gladys still sees her own.
    expect((await fhir(`Patient/${GLADYS}`, patientToken)).status).toBe(200);
  }, 60_000);

  it('gives the clinician the record through break-the-glass, and puts the session on the review queue', async () => {
    expect(README).toContain(`-H 'X-Purpose-Of-Use: BTG' -H 'X-Break-Glass-Reason: ${BTG_REASON}'`);
    const btg = await fhir(`Patient/${GLADYS}`, clinicianToken, { headers: { 'x-purpose-of-use': 'BTG', 'x-break-glass-reason': BTG_REASON, 'x-break-glass-patient': GLADYS } });
    expect(btg.status).toBe(200);
    // The session lasts: the next request needs no headers.
    expect((await fhir(`Patient/${GLADYS}`, clinicianToken)).status).toBe(200);
    const officer = cli(STEPS.officerToken).trim();
    const queue = (await (await fetch(`${base}/admin/btg-reviews`, { headers: { authorization: `Bearer ${officer}` } })).json()) as { id: string; patientId: string; reason: string; review: string }[];
    expect(queue).toHaveLength(1);
    expect(queue[0]).toMatchObject({ patientId: GLADYS, reason: BTG_REASON, review: 'pending' });
    const reviewed = await fetch(`${base}/admin/btg-reviews/${queue[0]!.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${officer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ disposition: 'justified', note: 'Emergency admission confirmed' }),
    });
    expect(reviewed.status).toBe(200);
    const why = (await (await fetch(`${base}/admin/explain?user=dr.ada&resource=Patient/${GLADYS}`, { headers: { authorization: `Bearer ${officer}` } })).json()) as { layers: { layer: string; allows: boolean }[] };
    expect(why.layers.find((l) => l.layer === 'consent')?.allows).toBe(false);
    expect(why.layers.find((l) => l.layer === 'break-glass')?.allows).toBe(true);
  }, 60_000);
});
