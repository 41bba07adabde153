/**
 * `custodia keys status|rotate` as an operator runs them (the built binary in a child
 * process, SQLite in a temp data directory populated by `custodia import`): what status
 * prints and that its JSON says the same, rotate refusing to guess, a KEK rotation that
 * leaves one KEK and readable data, a data-key rotation that re-seals every version under
 * new keys, and an operator log that records each change without a byte of key material.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyringPath } from '../../src/store/index.js';
import { expectOneLineError, importWithCli, runCustodia } from '../helpers/spawn-cli.js';
import { operatorLogAt, readAt, withoutMeta } from '../helpers/vault-at-data-dir.js';

const MRN = 'http://hospital.example.org/mrn';
const PATIENTS = ['kp-1', 'kp-2', 'kp-3'];
const RESOURCES = [
  ...PATIENTS.map((id, i) => ({ resourceType: 'Patient', id, name: [{ family: `Schlüssel${i}`, given: ['Kira'] }], identifier: [{ system: MRN, value: `K-${i}` }], birthDate: `198${i}-02-0${i + 1}` })),
  ...PATIENTS.flatMap((p, i) =>
    [0, 1].map((j) => ({ resourceType: 'Observation', id: `ko-${i}-${j}`, status: 'final', code: { text: 'pulse' }, subject: { reference: `Patient/${p}` }, valueQuantity: { value: 60 + i * 10 + j, unit: '/min' } })),
  ),
];
const URLS = RESOURCES.map((r) => `/fhir/${r.resourceType}/${r.id}`);

interface Status {
  provider: string;
  keks: { id: string; current: boolean; createdAt?: number }[];
  dataKeys: { state: string; kekId: string | null; keys: number }[];
  versions: { active: number; retired: number; erased: number; clear: number; unknownKey: number };
}

describe('custodia keys', () => {
  let dir: string;
  let dataDir: string;
  /** Every KEK and wrapped data key seen on disk at any point, base64 and hex. */
  const keyMaterial = new Set<string>();

  const status = (): Status => {
    const r = runCustodia(['keys', 'status', '--json', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Status;
  };
  const keyringKeks = (): { id: string; key: string }[] => JSON.parse(readFileSync(keyringPath(dataDir), 'utf8')).keys.keks as { id: string; key: string }[];
  /** The key id of every stored version (custodia.db) and the wrapped keys (keys/keystore.db). */
  const onDisk = (): { versionKeys: string[]; wrapped: Buffer[] } => {
    const db = new BetterSqlite3(join(dataDir, 'custodia.db'), { readonly: true });
    const ks = new BetterSqlite3(join(dataDir, 'keys', 'keystore.db'), { readonly: true });
    try {
      const versionKeys = db.prepare('SELECT key_id FROM resource_versions ORDER BY seq').pluck().all() as string[];
      const wrapped = [...(ks.prepare('SELECT wrapped FROM data_keys WHERE wrapped IS NOT NULL').pluck().all() as Buffer[]), ...(ks.prepare('SELECT wrapped FROM secrets').pluck().all() as Buffer[])];
      return { versionKeys, wrapped };
    } finally {
      db.close();
      ks.close();
    }
  };
  const collectKeyMaterial = (): void => {
    for (const k of keyringKeks()) {
      keyMaterial.add(k.key);
      keyMaterial.add(Buffer.from(k.key, 'base64').toString('hex'));
    }
    for (const w of onDisk().wrapped) {
      keyMaterial.add(w.toString('base64'));
      keyMaterial.add(w.toString('hex'));
    }
  };
  const expectAllReadable = async (): Promise<void> => {
    const reads = await readAt(dataDir, URLS);
    reads.forEach((r, i) => {
      expect(r.status, URLS[i]).toBe(200);
      expect(withoutMeta(r.body)).toEqual(RESOURCES[i]);
    });
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'custodia-keys-cli-'));
    dataDir = join(dir, 'data');
    importWithCli(dir, dataDir, RESOURCES);
    collectKeyMaterial();
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('status prints the provider, the one current KEK, the data keys and what they seal; --json says the same', () => {
    const r = runCustodia(['keys', 'status', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const out = r.stdout;
    expect(out).toMatch(/^Key provider: keyring\n/);
    const keks = [...out.matchAll(/^ {2}(kek-[0-9a-f]{16})( \(current\))?/gm)];
    expect(keks).toHaveLength(1);
    expect(keks[0]![2]).toBe(' (current)');
    const kek = keks[0]![1]!;
    // One data key per patient (their Observations are sealed under it), all active, wrapped by that KEK.
    // The patients' keys and the tenant key, which seals the import's audit record (it names several patients).
    expect(out).toMatch(new RegExp(`^ {2}active +${PATIENTS.length + 1} +wrapped by ${kek}$`, 'm'));
    const count = (label: string): number => Number(new RegExp(`^ {2}${label} +(\\d+)`, 'm').exec(out)?.[1]);
    expect(count('sealed by active keys')).toBe(RESOURCES.length);
    for (const label of ['sealed by retired keys', 'erased', 'stored in clear', 'under unknown keys']) expect(count(label), label).toBe(0);

    const j = status();
    expect(j.provider).toBe('keyring');
    expect(j.keks).toEqual([{ id: kek, current: true, createdAt: expect.any(Number) }]);
    expect(j.dataKeys).toEqual([{ state: 'active', kekId: kek, keys: PATIENTS.length + 1 }]);
    expect(j.versions).toEqual({ active: count('sealed by active keys'), retired: 0, erased: 0, clear: 0, unknownKey: 0 });
    // And it is what is on disk.
    expect(keyringKeks().map((k) => k.id)).toEqual([kek]);
    const { versionKeys } = onDisk();
    expect(versionKeys).toHaveLength(RESOURCES.length);
    expect(new Set(versionKeys).size).toBe(PATIENTS.length);
  });

  it('rotate without saying what exits 2 with the choices, and changes nothing', () => {
    const before = readFileSync(keyringPath(dataDir), 'utf8');
    expectOneLineError(runCustodia(['keys', 'rotate', '--data-dir', dataDir]), 'custodia: Say what to rotate: --kek, --data, or --resume');
    // --wait alone is not a rotation either.
    expectOneLineError(runCustodia(['keys', 'rotate', '--wait', '--data-dir', dataDir]), 'Say what to rotate');
    expect(readFileSync(keyringPath(dataDir), 'utf8')).toBe(before);
    expect(status().dataKeys).toEqual([{ state: 'active', kekId: expect.any(String), keys: PATIENTS.length + 1 }]);
  });

  let newKek = '';
  it('rotate --kek prints the new KEK; afterwards it is the only one, every key is wrapped by it, and the data still reads', async () => {
    const old = status().keks[0]!.id;
    const versionsBefore = onDisk().versionKeys;
    const r = runCustodia(['keys', 'rotate', '--kek', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    const m = /^New KEK (kek-[0-9a-f]{16}); (\d+) keys rewrapped; no data rewritten\.\n$/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    newKek = m![1]!;
    expect(newKek).not.toBe(old);
    // The patients' data keys, the tenant key (it seals the audit records of the import and
    // of the operator's own actions) and the blind-index key.
    expect(Number(m![2])).toBe(PATIENTS.length + 2);
    collectKeyMaterial();

    const s = status();
    expect(s.keks).toEqual([{ id: newKek, current: true, createdAt: expect.any(Number) }]);
    // The patients' keys and the tenant key.
    expect(s.dataKeys).toEqual([{ state: 'active', kekId: newKek, keys: PATIENTS.length + 1 }]);
    expect(s.versions).toEqual({ active: RESOURCES.length, retired: 0, erased: 0, clear: 0, unknownKey: 0 });
    // The old KEK is gone from the keyring file; no version was rewritten.
    expect(keyringKeks().map((k) => k.id)).toEqual([newKek]);
    expect(onDisk().versionKeys).toEqual(versionsBefore);
    await expectAllReadable();
  }, 60_000);

  it('rotate --data --wait retires every data key and re-seals every version under new ones before it returns', async () => {
    const before = onDisk().versionKeys;
    const r = runCustodia(['keys', 'rotate', '--data', '--wait', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${PATIENTS.length + 1} data keys retired; ${RESOURCES.length} versions re-sealed under new keys.\n`);
    // Progress on stderr (not a terminal: a line per batch), ending with nothing left.
    expect(r.stderr).toMatch(new RegExp(`re-sealed ${RESOURCES.length}, 0 left\\n$`));
    collectKeyMaterial();

    const s = status();
    expect(s.versions).toEqual({ active: RESOURCES.length, retired: 0, erased: 0, clear: 0, unknownKey: 0 });
    // The retired keys were dropped: only the new active ones are left, still under the current KEK.
    // The patients' keys and the tenant key.
    expect(s.dataKeys).toEqual([{ state: 'active', kekId: newKek, keys: PATIENTS.length + 1 }]);
    expect(s.keks.map((k) => k.id)).toEqual([newKek]);
    // Every version moved to a new key; none is left under an old one.
    const after = onDisk().versionKeys;
    expect(after).toHaveLength(before.length);
    expect(after.filter((k) => before.includes(k))).toEqual([]);
    expect(new Set(after).size).toBe(PATIENTS.length);
    await expectAllReadable();

    // Nothing is left to resume.
    const again = runCustodia(['keys', 'rotate', '--resume', '--data-dir', dataDir]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe('0 versions re-sealed under new keys.\n');
  }, 60_000);

  it('the operator log records each rotation, and no key material', async () => {
    const log = await operatorLogAt(dataDir);
    // Each change is logged before it is made (phase start) and after (phase done, with the outcome).
    for (const action of ['keys.rotate-kek', 'keys.rotate-data']) expect(log.filter((a) => a.action === action && a.detail['phase'] === 'start')).toHaveLength(1);
    const kek = log.filter((a) => a.action === 'keys.rotate-kek' && a.detail['phase'] === 'done');
    expect(kek).toHaveLength(1);
    expect(kek[0]).toMatchObject({ actor: 'operator', detail: { kek: newKek, rewrapped: PATIENTS.length + 2 } });
    const data = log.filter((a) => a.action === 'keys.rotate-data' && a.detail['phase'] === 'done');
    expect(data).toHaveLength(1);
    expect(data[0]).toMatchObject({ actor: 'operator', detail: { retired: PATIENTS.length + 1 } });
    expect(kek[0]!.at).toBeLessThanOrEqual(data[0]!.at);

    const text = JSON.stringify(log);
    // Every KEK and wrapped key ever on disk, in base64 and hex: two KEKs; the patients' keys and the
    // blind-index key wrapped by the first and again by the second; the new data keys.
    expect(keyMaterial.size).toBeGreaterThanOrEqual(2 * (2 + 2 * (PATIENTS.length + 1) + PATIENTS.length));
    for (const m of keyMaterial) expect(text.includes(m), 'key material in the operator log').toBe(false);
    // Nor anything shaped like a key: 32 bytes in base64 or hex, or a field named like one.
    expect(text).not.toMatch(/[A-Za-z0-9+/]{43}=/);
    expect(text).not.toMatch(/[0-9a-f]{64}/i);
    for (const a of log) for (const k of Object.keys(a.detail)) expect(k).not.toMatch(/^(key|wrapped|material|secret)$/i);
  });
});
