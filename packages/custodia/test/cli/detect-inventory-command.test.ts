/**
 * `custodia detect inventory` as an operator runs it (the built binary, SQLite in a temp
 * data directory): the unknown talkers in key order, as text or JSON lines, paged, and a
 * bad --limit refused with a one-line error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, runCustodia } from '../helpers/spawn-cli.js';
import { configAt } from '../helpers/vault-at-data-dir.js';
import { createVault, type Talker } from '../../src/app/index.js';
import { secureRandom, systemClock } from '../../src/kernel/index.js';

describe('custodia detect inventory', () => {
  let dir: string;
  let dataDir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'custodia-inventory-cli-'));
    dataDir = join(dir, 'data');
    const vault = await createVault(configAt(dataDir), { clock: systemClock, random: secureRandom });
    try {
      await vault.inventory.sighted('mac:02:00:00:00:99:01', { origMac: '02:00:00:00:99:01', origAddr: '10.0.9.1' }, 1_800_000_000_000);
      await vault.inventory.sighted('mac:02:00:00:00:99:01', { origMac: '02:00:00:00:99:01', origAddr: '10.0.9.1' }, 1_800_000_005_000);
      await vault.inventory.sighted('ip:10.0.9.2', { origAddr: '10.0.9.2' }, 1_800_000_001_000);
    } finally {
      await vault.close(); // writes the pending sightings
    }
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the unknown talkers, and pages through them', () => {
    const all = runCustodia(['detect', 'inventory', '--data-dir', dataDir, '--json']);
    expect(all.code, all.stderr).toBe(0);
    const talkers = all.stdout.trim().split('\n').map((l) => JSON.parse(l) as Talker);
    expect(talkers).toEqual([
      { talker: 'ip:10.0.9.2', address: '10.0.9.2', firstSeen: 1_800_000_001_000, lastSeen: 1_800_000_001_000, flows: 1 },
      { talker: 'mac:02:00:00:00:99:01', mac: '02:00:00:00:99:01', address: '10.0.9.1', firstSeen: 1_800_000_000_000, lastSeen: 1_800_000_005_000, flows: 2 },
    ]);
    const page = runCustodia(['detect', 'inventory', '--data-dir', dataDir, '--after', 'ip:10.0.9.2']);
    expect(page.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^mac:02:00:00:00:99:01 {2}10\.0\.9\.1 {2}2027-.* {2}2 flows$/)]);
  });

  it('refuses a bad --limit', () => {
    expectOneLineError(runCustodia(['detect', 'inventory', '--data-dir', dataDir, '--limit', '0']), /--limit/);
  });
});
