/**
 * `custodia ledger vkey|verify` as an operator runs them (the built binary, SQLite in a
 * temp data directory): the verifier key the server publishes, a clean verification with
 * exit 0, and a row changed behind the vault's back found with exit 1 and named.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importWithCli, runCustodia } from '../helpers/spawn-cli.js';
import { configAt, readAt } from '../helpers/vault-at-data-dir.js';
import { createVault } from '../../src/app/index.js';
import { secureRandom, systemClock } from '../../src/kernel/index.js';

const RESOURCES = [
  { resourceType: 'Patient', id: 'lc-1', name: [{ family: 'Ledger' }] },
  { resourceType: 'Observation', id: 'lc-o1', status: 'final', code: { text: 'pulse' }, subject: { reference: 'Patient/lc-1' }, valueQuantity: { value: 61 } },
];

describe('custodia ledger', () => {
  let dir: string;
  let dataDir: string;
  let vkey: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'custodia-ledger-cli-'));
    dataDir = join(dir, 'data');
    importWithCli(dir, dataDir, RESOURCES);
    // A server start: a read (audited), and a checkpoint published for everything so far.
    const [read] = await readAt(dataDir, ['/fhir/Patient/lc-1']);
    expect(read!.status).toBe(200);
    const vault = await createVault(configAt(dataDir), { clock: systemClock, random: secureRandom });
    vkey = vault.ledger.verifierKey;
    await vault.ledger.catchUp();
    await vault.close();
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the verifier key the server publishes', () => {
    const r = runCustodia(['ledger', 'vkey', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(vkey);
    expect(vkey).toMatch(/^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/);
  });

  it('verifies a sound vault with exit 0, and names a changed row with exit 1', () => {
    const ok = runCustodia(['ledger', 'verify', '--data-dir', dataDir]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/OK: the ledger and the stored data agree/);
    expect(ok.stdout).toMatch(/Resource versions: 2 /);
    const json = JSON.parse(runCustodia(['ledger', 'verify', '--data-dir', dataDir, '--json']).stdout) as { ok: boolean; leaves: number; problems: string[] };
    expect(json).toMatchObject({ ok: true, problems: [] });
    // The import's two version commitments and its audit record, and the audited read.
    expect(json.leaves).toBe(4);

    const db = new BetterSqlite3(join(dataDir, 'custodia.db'));
    const triggers = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'resource_versions'").all() as { name: string; sql: string }[];
    for (const t of triggers) db.exec(`DROP TRIGGER "${t.name}"`);
    const row = db.prepare("SELECT seq, content FROM resource_versions WHERE res_id = 'lc-o1'").get() as { seq: number; content: Buffer };
    const changed = Buffer.from(row.content);
    changed[changed.length - 1]! ^= 1;
    db.prepare('UPDATE resource_versions SET content = ? WHERE seq = ?').run(changed, row.seq);
    db.close();

    const bad = runCustodia(['ledger', 'verify', '--data-dir', dataDir]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/FAILED: 1 problem\(s\); the first: Observation\/lc-o1\/_history\/1: the stored data does not match its commitment/);
  });

  it('refuses a malformed verifier key with a one-line error', () => {
    const r = runCustodia(['ledger', 'verify', '--data-dir', dataDir, '--vkey', 'not-a-key']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
