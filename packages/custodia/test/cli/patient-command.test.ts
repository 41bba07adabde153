/**
 * `custodia patient erase|hold|release-hold` as an operator runs them (the built binary in
 * a child process, SQLite in a temp data directory populated by `custodia import`): a
 * reason is required, a legal hold refuses erasure and says why until it is released, a
 * retention policy file refuses erasure of a recent record naming its legal basis (and a
 * malformed one is a clear configuration error), the erasure prints what it destroyed, a
 * vault opened afterwards answers 410 for the patient and 200 for everyone else (and the
 * kept baseline of the patient's bedside monitor is deleted, another device's not), and an
 * unknown or already erased patient is refused. The operator log records each change.
 */
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, importWithCli, runCustodia } from '../helpers/spawn-cli.js';
import { operatorLogAt, readAt, withoutMeta } from '../helpers/vault-at-data-dir.js';

const PATIENTS = ['pa', 'pb', 'pc'] as const;
const patient = (id: string, i: number) => ({ resourceType: 'Patient', id, name: [{ family: `Löschmann${i}`, given: ['Eva'] }], birthDate: `197${i}-05-0${i + 1}` });
const observations = (id: string, i: number) =>
  [0, 1].map((j) => ({ resourceType: 'Observation', id: `${id}-obs-${j}`, status: 'final', code: { text: 'pulse' }, subject: { reference: `Patient/${id}` }, valueQuantity: { value: 70 + i + j, unit: '/min' } }));
// pa wears a bedside monitor (Device.patient): its kept baseline holds pa's vital signs. R4 keeps
// Device out of the Patient compartment: the Device is the hospital's (tenant key) and stays.
const MONITOR = { resourceType: 'Device', id: 'pa-monitor', status: 'active', patient: { reference: 'Patient/pa' } };
const RESOURCES = [...PATIENTS.flatMap((id, i) => [patient(id, i), ...observations(id, i)]), MONITOR];
const urlsOf = (id: string): string[] => [`/fhir/Patient/${id}`, `/fhir/Observation/${id}-obs-0`, `/fhir/Observation/${id}-obs-1`];
const written = (url: string): unknown => RESOURCES.find((r) => url === `/fhir/${r.resourceType}/${r.id}`);

const HOLD_REASON = 'Litigation hold, case 2026-CV-118 (Landgericht Berlin)';
const ERASE_REASON = 'Art. 17 request of 2026-11-20, ticket 4711';
const BASIS = '§630f(3) BGB: ten years after treatment';

describe('custodia patient', () => {
  let dir: string;
  let dataDir: string;
  const erase = (id: string, ...more: string[]) => runCustodia(['patient', 'erase', id, '--data-dir', dataDir, ...more]);
  const policy = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const expectReadable = async (id: string): Promise<void> => {
    const urls = urlsOf(id);
    const reads = await readAt(dataDir, urls);
    reads.forEach((r, i) => {
      expect(r.status, urls[i]).toBe(200);
      expect(withoutMeta(r.body)).toEqual(written(urls[i]!));
    });
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'custodia-patient-cli-'));
    dataDir = join(dir, 'data');
    importWithCli(dir, dataDir, RESOURCES);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('erase without --reason is a usage error, and erases nothing', async () => {
    const r = erase('pa');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("required option '--reason <text>' not specified");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    await expectReadable('pa');
  });

  it('a legal hold refuses erasure, quoting the hold, until it is released', async () => {
    const hold = runCustodia(['patient', 'hold', 'pa', '--reason', HOLD_REASON, '--data-dir', dataDir]);
    expect(hold.code, hold.stderr).toBe(0);
    expect(hold.stdout).toBe('Legal hold placed on Patient/pa.\n');

    const refused = erase('pa', '--reason', ERASE_REASON);
    expectOneLineError(refused, HOLD_REASON);
    expect(refused.stderr).toContain('custodia patient release-hold');
    await expectReadable('pa');

    const release = runCustodia(['patient', 'release-hold', 'pa', '--data-dir', dataDir]);
    expect(release.code, release.stderr).toBe(0);
    expect(release.stdout).toBe('Legal hold on Patient/pa released.\n');
    // Releasing again: there is nothing to release, and the command says so with exit 1.
    const twice = runCustodia(['patient', 'release-hold', 'pa', '--data-dir', dataDir]);
    expect(twice.code).toBe(1);
    expect(twice.stdout).toBe('Patient/pa had no legal hold.\n');
  }, 60_000);

  it('a retention policy refuses erasure of a record written just now, naming its legal basis', async () => {
    const file = policy('retention-de.json', JSON.stringify({ jurisdiction: 'DE', rules: [{ resourceTypes: ['*'], years: 10, basis: BASIS }] }));
    const r = erase('pb', '--reason', ERASE_REASON, '--retention-policy', file);
    expectOneLineError(r, BASIS);
    expect(r.stderr).toContain('Retention (DE) still applies');
    expect(r.stderr).toMatch(/1 Patient until \d{4}-\d\d-\d\d/);
    expect(r.stderr).toMatch(/2 Observation until \d{4}-\d\d-\d\d/);
    // The same file through the environment, as a service unit would set it.
    expectOneLineError(runCustodia(['patient', 'erase', 'pb', '--reason', ERASE_REASON, '--data-dir', dataDir], { CUSTODIA_RETENTION_POLICY: file }), BASIS);
    await expectReadable('pb');

    // A policy whose rules do not name these types does not stand in the way: pc is erased.
    const claims = policy('retention-claims.json', JSON.stringify({ jurisdiction: 'DE', rules: [{ resourceTypes: ['Claim', 'ExplanationOfBenefit'], years: 10, basis: '§147 AO' }] }));
    const ok = erase('pc', '--reason', ERASE_REASON, '--retention-policy', claims);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('Erased Patient/pc: 1 data keys destroyed, 3 versions of 3 records unreadable.\n');
  }, 60_000);

  it('a malformed or missing retention policy file is a clear configuration error, and erases nothing', async () => {
    const cases: [string, string | undefined, RegExp][] = [
      ['not-json.json', '{"jurisdiction": "DE", "rules": [', /^custodia: The retention policy is invalid: not JSON\n$/],
      ['no-rules.json', JSON.stringify({ jurisdiction: 'DE' }), /^custodia: The retention policy is invalid: it needs "jurisdiction" \(text\) and "rules" \(a list\)\n$/],
      ['bad-years.json', JSON.stringify({ jurisdiction: 'DE', rules: [{ resourceTypes: ['*'], years: -10, basis: BASIS }] }), /^custodia: The retention policy is invalid: rule 0: years/],
      ['bad-type.json', JSON.stringify({ jurisdiction: 'DE', rules: [{ resourceTypes: ['patient; DROP TABLE'], years: 10, basis: BASIS }] }), /^custodia: The retention policy is invalid: rule 0: resourceTypes/],
      ['no-basis.json', JSON.stringify({ jurisdiction: 'DE', rules: [{ resourceTypes: ['*'], years: 10, basis: ' ' }] }), /^custodia: The retention policy is invalid: rule 0: basis/],
      ['missing.json', undefined, /^custodia: Cannot read the retention policy .*missing\.json\n$/],
    ];
    for (const [name, text, message] of cases) {
      const file = text === undefined ? join(dir, name) : policy(name, text);
      expectOneLineError(erase('pb', '--reason', ERASE_REASON, '--retention-policy', file), message);
    }
    await expectReadable('pb');
  }, 60_000);

  it('erasure after the hold is released prints what it destroyed; a vault opened afterwards answers 410 for the patient and 200 for others', async () => {
    // Kept device baselines (their bytes do not matter here): pa's monitor's, and another device's.
    const db = new BetterSqlite3(join(dataDir, 'custodia.db'));
    const keptDevices = () => (db.prepare('SELECT device FROM detect_baselines ORDER BY device').all() as { device: string }[]).map((x) => x.device);
    try {
      for (const device of ['Device/pa-monitor', 'Device/elsewhere']) db.prepare('INSERT INTO detect_baselines (device, saved_at, snapshot) VALUES (?, ?, ?)').run(device, Date.now(), Buffer.from('sealed'));
      const r = erase('pa', '--reason', ERASE_REASON);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('Erased Patient/pa: 1 data keys destroyed, 3 versions of 3 records unreadable.\n');
      expect(keptDevices()).toEqual(['Device/elsewhere']);
    } finally {
      db.close();
    }

    const urls = [...urlsOf('pa'), ...urlsOf('pc'), ...urlsOf('pb')];
    const reads = await readAt(dataDir, urls);
    reads.forEach((res, i) => {
      const url = urls[i]!;
      if (url.includes('/pb')) {
        expect(res.status, url).toBe(200);
        expect(withoutMeta(res.body)).toEqual(written(url));
      } else {
        expect(res.status, url).toBe(410);
        expect(res.body.resourceType).toBe('OperationOutcome');
        expect(res.body.issue[0].diagnostics, url).toMatch(/erased/);
      }
    });

    const status = runCustodia(['keys', 'status', '--json', '--data-dir', dataDir]);
    expect(status.code, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout) as { versions: Record<string, number>; dataKeys: { state: string; keys: number }[] };
    expect(s.versions).toMatchObject({ active: 4, erased: 6, unknownKey: 0 });
    expect(s.dataKeys.filter((c) => c.state === 'erased').reduce((n, c) => n + c.keys, 0)).toBe(2);
  }, 60_000);

  it('erasing an unknown patient, or one already erased, is refused and says which', () => {
    expectOneLineError(erase('nobody', '--reason', ERASE_REASON), 'custodia: No Patient/nobody');
    expectOneLineError(erase('pa', '--reason', ERASE_REASON), 'custodia: Patient/pa was already erased');
    expectOneLineError(erase('../pa', '--reason', ERASE_REASON), /patient id/i);
  });

  it('the operator log records the hold, its release and each erasure with its reason, under the operator', async () => {
    const log = await operatorLogAt(dataDir);
    // An erasure is logged before the keys go (phase start) and after, with the counts (phase done).
    expect(log.filter((a) => a.action === 'patient.erase' && a.detail['phase'] === 'start').map((a) => a.detail['patient']).sort()).toEqual(['pa', 'pc']);
    const mine = log.filter((a) => a.action.startsWith('legal-hold.') || (a.action === 'patient.erase' && a.detail['phase'] === 'done')).reverse();
    expect(mine.map((a) => [a.action, a.detail['patient']])).toEqual([
      ['legal-hold.place', 'pa'],
      ['legal-hold.release', 'pa'],
      ['patient.erase', 'pc'],
      ['patient.erase', 'pa'],
    ]);
    for (const a of mine) expect(a.actor).toBe('operator');
    expect(mine[0]!.detail).toMatchObject({ reason: HOLD_REASON, via: 'cli' });
    expect(mine[3]!.detail).toMatchObject({ reason: ERASE_REASON, keys: 1, versions: 3, resources: 3, sharedKept: 0 });
    // Only ids and counts: nothing the patient's record said.
    expect(JSON.stringify(mine)).not.toContain('Löschmann');
  });
});
