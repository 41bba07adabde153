/**
 * Key rotation under load (issue 4 §3), on every database: a vault listening on a real
 * port serves concurrent clients over real HTTP — reads by id and version, blind-indexed
 * searches (family-name prefix, identifier), creates and updates — while a KEK rotation,
 * a data-key rotation with re-sealing, and a second KEK rotation run. No request may fail,
 * every read must return exactly what was written, and afterwards everything sits under
 * active keys of the one remaining KEK. A second test interrupts re-sealing after one
 * small batch, opens a new vault over the same data directory and database, and finishes.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyringPath } from '../../src/store/index.js';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { startListeningVault, type HttpResult, type ListeningVault } from '../helpers/listening-vault.js';

const MRN = 'http://hospital.example.org/mrn';
const PATIENTS = 40;
const OBS_PER_PATIENT = 3;
const WORKERS = 6;
// Families sharing prefixes, so that prefix searches match several patients (and case/accents differ).
const FAMILIES = ['Andersen', 'Anderson', 'Andrews', 'Baker', 'Bakerville', 'Müller', 'Mueller', 'Nguyen', 'Ng', 'Okafor'];

type Resource = Record<string, unknown> & { resourceType: string; id: string };

const patientId = (i: number): string => `p-${String(i).padStart(2, '0')}`;
const patientOf = (i: number): Resource => ({
  resourceType: 'Patient',
  id: patientId(i),
  identifier: [{ system: MRN, value: `MRN-${1000 + i}` }],
  name: [{ family: FAMILIES[i % FAMILIES.length]!, given: [`Given${i}`, 'Loadtest'] }],
  gender: i % 2 === 0 ? 'female' : 'male',
  birthDate: `19${String(40 + (i % 60)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10}`,
  telecom: [{ system: 'phone', value: `+49 30 5550${String(i).padStart(3, '0')}` }],
});
const observationOf = (id: string, patient: string, n: number): Resource => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }], text: 'pulse' },
  subject: { reference: `Patient/${patient}` },
  effectiveDateTime: `2026-11-${String(1 + (n % 28)).padStart(2, '0')}T08:00:00Z`,
  valueQuantity: { value: 50 + n, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
  note: [{ text: `reading ${n} for ${patient} — Grüße, 心拍` }],
});

/** The resource as stored, without what the server adds (meta). */
const withoutMeta = (r: unknown): unknown => {
  if (typeof r !== 'object' || r === null) return r;
  const { meta: _meta, ...rest } = r as Record<string, unknown>;
  return rest;
};

/** Everything written, and by whom: each worker owns a set of patients and their Observations. */
class Written {
  readonly patients = new Map<string, Resource>();
  /** Observation id → every version written, in order (index = versionId - 1). */
  readonly observations = new Map<string, Resource[]>();
  /** Patient id → Observation ids in their compartment. */
  readonly byPatient = new Map<string, Set<string>>();

  addObservation(r: Resource, versionId: number): void {
    const versions = this.observations.get(r.id) ?? [];
    if (versions.length !== versionId - 1) throw new Error(`Observation/${r.id}: version ${versionId} after ${versions.length}`);
    versions.push(r);
    this.observations.set(r.id, versions);
    const patient = (r['subject'] as { reference: string }).reference.slice('Patient/'.length);
    const set = this.byPatient.get(patient) ?? new Set<string>();
    set.add(r.id);
    this.byPatient.set(patient, set);
  }
}

interface Failure {
  readonly what: string;
  readonly status: number;
  readonly detail: string;
}

interface LoadStats {
  requests: number;
  readonly byKind: Record<string, number>;
}

const fold = (s: string): string =>
  s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase();

/** Patients whose family starts with `prefix` (FHIR string search: case- and accent-insensitive). */
const expectedFamily = (w: Written, prefix: string): string[] =>
  [...w.patients.values()]
    .filter((p) => fold((p['name'] as { family: string }[])[0]!.family).startsWith(fold(prefix)))
    .map((p) => p.id)
    .sort();

const entryIds = (bundle: any): string[] => ((bundle?.entry ?? []) as { resource: Resource }[]).map((e) => e.resource.id).sort();

/** One client of the load: a loop of mixed requests until `until` says stop. */
async function worker(v: ListeningVault, w: Written, me: number, seed: number, stop: () => boolean, failures: Failure[], stats: LoadStats): Promise<void> {
  let x = seed >>> 0 || 1;
  const rnd = (n: number): number => {
    // xorshift32: reproducible per worker, independent of timing.
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
  const mine = [...w.patients.keys()].filter((_, i) => i % WORKERS === me);
  const all = [...w.patients.keys()];
  let created = 0;
  const check = (what: string, r: HttpResult, status: number, ok: () => string | undefined = () => undefined): void => {
    stats.requests++;
    stats.byKind[what.split(' ')[0]!] = (stats.byKind[what.split(' ')[0]!] ?? 0) + 1;
    if (r.status !== status) {
      failures.push({ what, status: r.status, detail: r.text.slice(0, 300) });
      return;
    }
    const wrong = ok();
    if (wrong !== undefined) failures.push({ what, status: r.status, detail: wrong });
  };
  const same = (got: unknown, want: unknown): string | undefined => (JSON.stringify(withoutMeta(got)) === JSON.stringify(want) ? undefined : `got ${JSON.stringify(withoutMeta(got)).slice(0, 300)}, wrote ${JSON.stringify(want).slice(0, 300)}`);
  while (!stop()) {
    const op = rnd(100);
    try {
      if (op < 20) {
        const id = all[rnd(all.length)]!;
        const r = await v.http('GET', `/fhir/Patient/${id}`);
        check(`read Patient/${id}`, r, 200, () => same(r.body, w.patients.get(id)));
      } else if (op < 40) {
        const patient = mine[rnd(mine.length)]!;
        const ids = [...(w.byPatient.get(patient) ?? [])];
        const id = ids[rnd(ids.length)]!;
        const versions = w.observations.get(id)!;
        if (rnd(2) === 0) {
          const r = await v.http('GET', `/fhir/Observation/${id}`);
          check(`read Observation/${id}`, r, 200, () => same(r.body, versions.at(-1)));
        } else {
          const n = 1 + rnd(versions.length);
          const r = await v.http('GET', `/fhir/Observation/${id}/_history/${n}`);
          check(`vread Observation/${id}/_history/${n}`, r, 200, () => same(r.body, versions[n - 1]));
        }
      } else if (op < 52) {
        const family = FAMILIES[rnd(FAMILIES.length)]!;
        const prefix = family.slice(0, 1 + rnd(family.length));
        const r = await v.http('GET', `/fhir/Patient?family=${encodeURIComponent(prefix)}&_count=100`);
        check(`search Patient?family=${prefix}`, r, 200, () => {
          const want = expectedFamily(w, prefix);
          const got = entryIds(r.body);
          if (JSON.stringify(got) !== JSON.stringify(want)) return `found ${got.join(',')}, expected ${want.join(',')}`;
          for (const e of r.body.entry ?? []) {
            const bad = same(e.resource, w.patients.get(e.resource.id));
            if (bad !== undefined) return bad;
          }
          return undefined;
        });
      } else if (op < 64) {
        const id = all[rnd(all.length)]!;
        const p = w.patients.get(id)!;
        const value = (p['identifier'] as { value: string }[])[0]!.value;
        const r = await v.http('GET', `/fhir/Patient?identifier=${encodeURIComponent(`${MRN}|${value}`)}`);
        check(`search Patient?identifier=${value}`, r, 200, () => {
          const got = entryIds(r.body);
          if (got.length !== 1 || got[0] !== id) return `found ${got.join(',')}, expected ${id}`;
          return same(r.body.entry[0].resource, p);
        });
      } else if (op < 72) {
        const patient = mine[rnd(mine.length)]!;
        const r = await v.http('GET', `/fhir/Observation?subject=Patient/${patient}&_count=100`);
        check(`search Observation?subject=${patient}`, r, 200, () => {
          const want = [...(w.byPatient.get(patient) ?? [])].sort();
          const got = entryIds(r.body);
          if (JSON.stringify(got) !== JSON.stringify(want)) return `found ${got.join(',')}, expected ${want.join(',')}`;
          for (const e of r.body.entry ?? []) {
            const bad = same(e.resource, w.observations.get(e.resource.id)!.at(-1));
            if (bad !== undefined) return bad;
          }
          return undefined;
        });
      } else if (op < 86) {
        const patient = mine[rnd(mine.length)]!;
        const ids = [...(w.byPatient.get(patient) ?? [])];
        const id = ids[rnd(ids.length)]!;
        const versions = w.observations.get(id)!;
        const body = observationOf(id, patient, versions.length * 7 + rnd(5));
        const r = await v.http('PUT', `/fhir/Observation/${id}`, body);
        check(`update Observation/${id}`, r, 200, () => {
          const vid = Number(r.body?.meta?.versionId);
          if (vid !== versions.length + 1) return `versionId ${vid} after ${versions.length} versions`;
          w.addObservation(body, vid);
          return same(r.body, body);
        });
      } else {
        const patient = mine[rnd(mine.length)]!;
        const id = `load-${me}-${created++}`;
        const body = observationOf(id, patient, created);
        const r = await v.http('PUT', `/fhir/Observation/${id}`, body);
        check(`create Observation/${id}`, r, 201, () => {
          w.addObservation(body, 1);
          return same(r.body, body);
        });
      }
    } catch (e) {
      failures.push({ what: `request of worker ${me}`, status: -1, detail: String(e) });
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function populate(v: ListeningVault, w: Written, patients: number): Promise<void> {
  for (let i = 0; i < patients; i++) {
    const p = patientOf(i);
    const r = await v.http('PUT', `/fhir/Patient/${p.id}`, p);
    expect(r.status, r.text).toBe(201);
    w.patients.set(p.id, p);
    for (let j = 0; j < OBS_PER_PATIENT; j++) {
      const o = observationOf(`o-${i}-${j}`, p.id, i * 10 + j);
      const c = await v.http('PUT', `/fhir/Observation/${o.id}`, o);
      expect(c.status, c.text).toBe(201);
      w.addObservation(o, 1);
    }
    // A second version of the first Observation, so that history is re-sealed too.
    const o2 = observationOf(`o-${i}-0`, p.id, i * 10 + 9);
    const u = await v.http('PUT', `/fhir/Observation/${o2.id}`, o2);
    expect(u.status, u.text).toBe(200);
    w.addObservation(o2, 2);
  }
}

/** Every patient and every version of every Observation, read back over HTTP and compared with what was written. */
async function expectEverythingReadsBack(v: ListeningVault, w: Written): Promise<number> {
  let n = 0;
  for (const [id, p] of w.patients) {
    const r = await v.http('GET', `/fhir/Patient/${id}`);
    expect(r.status, `Patient/${id}: ${r.text}`).toBe(200);
    expect(withoutMeta(r.body)).toEqual(p);
    n++;
  }
  for (const [id, versions] of w.observations) {
    const r = await v.http('GET', `/fhir/Observation/${id}`);
    expect(r.status, `Observation/${id}: ${r.text}`).toBe(200);
    expect(withoutMeta(r.body)).toEqual(versions.at(-1));
    for (let k = 0; k < versions.length; k++) {
      const h = await v.http('GET', `/fhir/Observation/${id}/_history/${k + 1}`);
      expect(h.status, `Observation/${id}/_history/${k + 1}: ${h.text}`).toBe(200);
      expect(withoutMeta(h.body)).toEqual(versions[k]);
      n++;
    }
  }
  return n;
}

const keyringKeks = (dataDir: string): string[] => (JSON.parse(readFileSync(keyringPath(dataDir), 'utf8')).keys.keks as { id: string }[]).map((k) => k.id);

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`key rotation under load on ${dialect}`, () => {
    let v: ListeningVault;
    const w = new Written();

    beforeAll(async () => {
      v = await startListeningVault(dialect);
      await populate(v, w, PATIENTS);
    }, 120_000);
    afterAll(async () => v?.close());

    it('serves concurrent reads, blind searches and writes without a failure or a wrong byte while KEK and data keys rotate', async () => {
      const rotation = v.vault.keyRotation!;
      expect(rotation).toBeDefined();
      const before = await rotation.status();
      expect(before.keks).toHaveLength(1);
      const firstKek = before.keks[0]!.id;
      const activeBefore = before.dataKeys.filter((c) => c.state === 'active').reduce((s, c) => s + c.keys, 0);
      // One key per patient, plus the tenant's (audit records and the like), maybe.
      expect(activeBefore).toBeGreaterThanOrEqual(PATIENTS);
      expect(before.versions).toMatchObject({ retired: 0, clear: 0, unknownKey: 0 });

      const failures: Failure[] = [];
      const stats: LoadStats = { requests: 0, byKind: {} };
      let stopped = false;
      const load = Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(v, w, i, 0x9e3779b9 ^ (i * 7919 + 1), () => stopped, failures, stats)));

      const steps: string[] = [];
      await sleep(600);
      // (a) KEK rotation during the load.
      const k1 = await rotation.rotateKek('test');
      steps.push(`kek ${k1.kek} rewrapped ${k1.rewrapped} at ${stats.requests}`);
      expect(k1.kek).not.toBe(firstKek);
      expect(k1.rewrapped).toBeGreaterThanOrEqual(activeBefore);
      await sleep(600);
      // (b) data-key rotation: retire, then re-seal in small batches that interleave with requests.
      const retired = await rotation.retireDataKeys('test');
      expect(retired).toBeGreaterThanOrEqual(activeBefore);
      const mid = await rotation.status();
      expect(mid.versions.retired).toBeGreaterThan(0);
      const batches: number[] = [];
      const servedBefore = stats.requests;
      const resealed = await rotation.resealAll((p) => batches.push(p.resealed), 40);
      const servedDuring = stats.requests - servedBefore;
      steps.push(`retired ${retired}, resealed ${resealed} in ${batches.length} batches at ${stats.requests}`);
      expect(resealed).toBeGreaterThanOrEqual(mid.versions.retired);
      expect(batches.length).toBeGreaterThan(1);
      // Re-sealing yields between batches: clients were answered while it ran.
      expect(servedDuring).toBeGreaterThan(0);
      await sleep(600);
      // (c) a second KEK rotation.
      const k2 = await rotation.rotateKek('test');
      steps.push(`kek ${k2.kek} rewrapped ${k2.rewrapped} at ${stats.requests}`);
      await sleep(600);
      stopped = true;
      await load;

      expect(failures.slice(0, 10), `${failures.length} failed of ${stats.requests} requests; ${steps.join('; ')}`).toEqual([]);
      // The load really ran, in every kind, across the rotations.
      expect(stats.requests).toBeGreaterThan(200);
      for (const kind of ['read', 'vread', 'search', 'update', 'create']) expect(stats.byKind[kind], kind).toBeGreaterThan(5);

      const after = await rotation.status();
      expect(after.versions).toMatchObject({ retired: 0, clear: 0, unknownKey: 0, erased: 0 });
      expect(after.versions.active).toBeGreaterThan(PATIENTS * (OBS_PER_PATIENT + 2));
      // The retired keys were dropped once nothing was sealed under them: only active keys, all under the last KEK.
      expect(after.dataKeys.map((c) => c.state)).toEqual(['active']);
      expect(after.dataKeys[0]!.kekId).toBe(k2.kek);
      expect(after.dataKeys[0]!.keys).toBeGreaterThanOrEqual(activeBefore);
      // Exactly one KEK, the newest; the two before it destroyed, in the provider and in the keyring file.
      expect(after.keks.map((k) => ({ id: k.id, current: k.current }))).toEqual([{ id: k2.kek, current: true }]);
      expect(keyringKeks(v.dataDir)).toEqual([k2.kek]);

      // Everything written, before and during the load, reads back exactly, every version of it.
      const read = await expectEverythingReadsBack(v, w);
      expect(read).toBeGreaterThan(PATIENTS * (OBS_PER_PATIENT + 2));
    }, 120_000);
  });

  describe.skipIf(!isAvailable(dialect))(`re-sealing resumes in a new vault on ${dialect}`, () => {
    let v: ListeningVault;
    const w = new Written();

    beforeAll(async () => {
      v = await startListeningVault(dialect);
      await populate(v, w, 12);
    }, 120_000);
    afterAll(async () => v?.close());

    it('stops after one batch, and a vault opened afresh over the same data dir and database finishes it', async () => {
      const first = v.vault.keyRotation!;
      const total = (await first.status()).versions.active;
      const retired = await first.retireDataKeys('test');
      expect(retired).toBeGreaterThanOrEqual(12);
      expect((await first.status()).versions).toMatchObject({ active: 0, retired: total });

      const batch = await first.resealBatch(5);
      expect(batch).toMatchObject({ resealed: 5, remaining: total - 5, entries: 0 });
      expect((await first.status()).versions).toMatchObject({ active: 5, retired: total - 5 });

      // An interruption: the server goes away. A new one opens over the same files.
      await v.reopen();
      const second = v.vault.keyRotation!;
      expect(second).not.toBe(first);
      const resumed = await second.status();
      expect(resumed.versions).toMatchObject({ active: 5, retired: total - 5, unknownKey: 0 });
      expect(resumed.dataKeys.some((c) => c.state === 'retired')).toBe(true);
      // What is half-way is still readable before re-sealing finishes.
      await expectEverythingReadsBack(v, w);

      const progress: number[] = [];
      const resealed = await second.resealAll((p) => progress.push(p.remaining));
      expect(resealed).toBe(total - 5);
      expect(progress.at(-1)).toBe(0);
      const done = await second.status();
      expect(done.versions).toMatchObject({ active: total, retired: 0, unknownKey: 0, clear: 0 });
      expect(done.dataKeys.map((c) => c.state)).toEqual(['active']);
      // A further batch has nothing to do.
      expect(await second.resealBatch(5)).toEqual({ resealed: 0, remaining: 0, entries: 0, entriesRemaining: 0 });
      await expectEverythingReadsBack(v, w);
    }, 120_000);
  });
}
