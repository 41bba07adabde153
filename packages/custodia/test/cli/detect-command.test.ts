/**
 * `custodia detect findings list|decide|export` as an operator runs them (the built
 * binary, SQLite in a temp data directory): filters, a decision that follows the
 * lifecycle (and a refused one with a one-line error and exit 2, the CLI's code for refused input), the JSON-lines export
 * for a SIEM, and bad flags refused before anything is read.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, runCustodia } from '../helpers/spawn-cli.js';
import { configAt } from '../helpers/vault-at-data-dir.js';
import { createVault, type Finding } from '../../src/app/index.js';
import { secureRandom, systemClock } from '../../src/kernel/index.js';

describe('custodia detect findings', () => {
  let dir: string;
  let dataDir: string;
  let ids: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'custodia-detect-cli-'));
    dataDir = join(dir, 'data');
    const vault = await createVault(configAt(dataDir), { clock: systemClock, random: secureRandom });
    try {
      ids = [];
      for (const [i, device] of ['Device/monitor-1', 'Device/pump-2', 'Device/monitor-1'].entries()) {
        const f = await vault.findings.raise({
          device,
          severity: i === 1 ? 'critical' : 'medium',
          start: 1_800_000_000_000 + i * 1000,
          end: 1_800_000_000_500 + i * 1000,
          summary: `detection ${i}`,
          explanation: { detector: 'isolation-forest', score: 0.7, threshold: 0.6, features: [{ feature: `feature-${i}`, value: i }] },
        });
        ids.push(f.id);
      }
    } finally {
      await vault.close();
    }
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the newest first, filtered', () => {
    const all = runCustodia(['detect', 'findings', 'list', '--data-dir', dataDir, '--json']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout.trim().split('\n').map((l) => (JSON.parse(l) as Finding).id)).toEqual([ids[2], ids[1], ids[0]]);
    const monitor = runCustodia(['detect', 'findings', 'list', '--data-dir', dataDir, '--device', 'Device/monitor-1']);
    expect(monitor.stdout.trim().split('\n')).toHaveLength(2);
    expect(runCustodia(['detect', 'findings', 'list', '--data-dir', dataDir, '--severity', 'critical']).stdout).toContain(ids[1]);
  });

  it('decides a finding, and refuses a move the lifecycle does not allow', () => {
    const ok = runCustodia(['detect', 'findings', 'decide', ids[1]!, '--status', 'confirmed', '--note', 'pump replaced', '--data-dir', dataDir]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('confirmed');
    const again = runCustodia(['detect', 'findings', 'decide', ids[1]!, '--status', 'false-positive', '--data-dir', dataDir]);
    expect(again.code).toBe(2);
    expectOneLineError(again, /cannot become false-positive/);
    const unknown = runCustodia(['detect', 'findings', 'decide', 'no-such-finding', '--status', 'triaged', '--data-dir', dataDir]);
    expect(unknown.code).toBe(2);
    expectOneLineError(unknown, /No such finding/);
  });

  it('exports every finding as JSON lines, and refuses bad flags', () => {
    const out = runCustodia(['detect', 'findings', 'export', '--data-dir', dataDir]);
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as Finding);
    expect(lines.map((f) => f.id).sort()).toEqual([...ids].sort());
    expect(lines.find((f) => f.id === ids[1])).toMatchObject({ status: 'confirmed', note: 'pump replaced', explanation: { features: [{ feature: 'feature-1' }] } });
    for (const args of [['--status', 'open'], ['--severity', 'urgent'], ['--since', 'yesterday']]) {
      const r = runCustodia(['detect', 'findings', 'list', '--data-dir', dataDir, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
    }
  });
});
