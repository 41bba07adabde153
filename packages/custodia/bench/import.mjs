// import.synthea: resources/s importing the Synthea sample with validation and every
// search index, against raw better-sqlite3 inserts of the same JSON rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { readdirSync, readFileSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { createVault, importFiles, localImportTarget, resolveConfig, DEMO_DIR } from '../dist/app/index.js';

export const SYNTHEA_DIRS = [DEMO_DIR, fileURLToPath(new URL('../test/fixtures/synthea-1000-patients/', import.meta.url))];

export function syntheaLines() {
  return SYNTHEA_DIRS.flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.ndjson.gz'))
      .sort()
      .flatMap((f) => gunzipSync(readFileSync(join(dir, f))).toString('utf8').split('\n').filter((l) => l.trim() !== '')),
  );
}

/** One import into a fresh vault; `encryption: false` stores in clear (the encryption-overhead baseline). */
export async function importOnce({ encryption = true } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'custodia-bench-'));
  try {
    const vault = await createVault(resolveConfig({ dataDir: dir, logLevel: 'silent', encryption: { encryption } }));
    const started = process.hrtime.bigint();
    const report = await importFiles(localImportTarget(vault.fhir), SYNTHEA_DIRS);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await vault.close();
    if (report.failures.length > 0) throw new Error(`import failed: ${JSON.stringify(report.failures.slice(0, 3))}`);
    return report.resources / seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const RECORD_BUNDLES = fileURLToPath(new URL('../test/fixtures/synthea-hiv-bundles/', import.meta.url));

/**
 * Whole patient records: the three Synthea transaction Bundles (Patient, Encounters,
 * Observations, reports, claims, …; about 295 resources each) imported `rounds` times
 * into a fresh vault. Their urn:uuid entries are created anew each round, so every round
 * adds three more patients with their records; the providers bundle's conditional
 * creates match after the first. This is the mix a hospital loads, where the demographics
 * import above is all Patients and their identifying index rows.
 */
export async function importRecordsOnce({ encryption = true, rounds = 8 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'custodia-bench-records-'));
  try {
    const vault = await createVault(resolveConfig({ dataDir: dir, logLevel: 'silent', encryption: { encryption } }));
    const target = localImportTarget(vault.fhir);
    const bundles = readdirSync(RECORD_BUNDLES).filter((f) => f.endsWith('.json.gz') && f !== 'providers.json.gz').map((f) => join(RECORD_BUNDLES, f));
    let resources = 0;
    const started = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) {
      // The practitioners and organizations the records reference by identifier come first.
      const report = await importFiles(target, i === 0 ? [join(RECORD_BUNDLES, 'providers.json.gz'), ...bundles] : bundles);
      if (report.failures.length > 0) throw new Error(`import failed: ${JSON.stringify(report.failures.slice(0, 3))}`);
      resources += report.resources;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await vault.close();
    return resources / seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same JSON rows, inserted with a prepared statement in one durable transaction. */
export function rawInsertOnce(lines) {
  const dir = mkdtempSync(join(tmpdir(), 'custodia-bench-raw-'));
  try {
    const db = new BetterSqlite3(join(dir, 'raw.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE r (id TEXT PRIMARY KEY, type TEXT NOT NULL, json TEXT NOT NULL)');
    const insert = db.prepare('INSERT OR REPLACE INTO r (id, type, json) VALUES (?, ?, ?)');
    const started = process.hrtime.bigint();
    db.transaction(() => {
      for (const line of lines) {
        const r = JSON.parse(line);
        insert.run(`${r.resourceType}/${r.id}`, r.resourceType, line);
      }
    })();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    db.close();
    return lines.length / seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Durable single-row commits/s: the floor for any create that is fsynced before it is acknowledged. */
export function durableCommitsOnce(seconds = 3) {
  const dir = mkdtempSync(join(tmpdir(), 'custodia-bench-commit-'));
  try {
    const db = new BetterSqlite3(join(dir, 'commit.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE r (id INTEGER PRIMARY KEY, json TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO r (json) VALUES (?)');
    const body = JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Bench' }] });
    const end = Date.now() + seconds * 1000;
    let n = 0;
    const started = process.hrtime.bigint();
    while (Date.now() < end) {
      insert.run(body);
      n++;
    }
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    db.close();
    return n / elapsed;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
