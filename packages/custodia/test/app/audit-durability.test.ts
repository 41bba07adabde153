/**
 * Nothing is lost (issue 5 §1): the server, a real `custodia serve` process, is killed with
 * SIGKILL in the middle of concurrent reads and writes; afterwards every request it had
 * acknowledged has its audit record in the ledger — each created version with its
 * commitment and its `create` record, and at least as many `read` records per patient as
 * reads were answered — and the ledger still verifies. Patients created under that load
 * (each with a new data key, flushed off the event loop while the reads are in flight:
 * store/group-commit.ts) still open with their keys.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ledgerVerifierKey, openVaultDatabase, resolveConfig, verifyLedger } from '../../src/app/index.js';
import { decodeEntry, type AuditRecord } from '../../src/ledger/index.js';
import { ALL_DATABASES, createTestDatabase, isAvailable, type TestDatabase } from '../helpers/databases.js';
import { runCli, serveCli, type RunningServer } from '../helpers/cli-process.js';

const LOAD_MS = 1500;
const CLIENTS = 8;

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`audit durability on ${dialect}`, () => {
    const cleanups: (() => Promise<void> | void)[] = [];
    afterAll(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    it('keeps the audit record of every acknowledged request across a SIGKILL under load', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'custodia-kill-'));
      cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
      let db: TestDatabase | undefined;
      const storage: string[] = ['--data-dir', dataDir];
      if (dialect === 'postgres') {
        db = await createTestDatabase('postgres');
        cleanups.push(() => db!.cleanup());
        storage.push('--database', db.options.database, '--schema', db.options.schema!);
      }
      const server: RunningServer = await serveCli(storage);
      cleanups.push(() => server.stop());
      const token = runCli(['token', ...storage]).stdout.trim();
      expect(token).toMatch(/^ey/);
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' };

      const patients: string[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await fetch(`${server.base}/Patient`, { method: 'POST', headers, body: JSON.stringify({ resourceType: 'Patient', name: [{ family: `Killnine${i}` }] }) });
        expect(r.status).toBe(201);
        patients.push(((await r.json()) as { id: string }).id);
      }

      const reads = new Map<string, number>();
      const created: string[] = [];
      const newPatients: string[] = [];
      let killed = false;
      const client = async (n: number): Promise<void> => {
        for (let i = 0; !killed; i++) {
          const p = patients[(n + i) % patients.length]!;
          try {
            if (i % 6 === 5) {
              const r = await fetch(`${server.base}/Patient`, { method: 'POST', headers, body: JSON.stringify({ resourceType: 'Patient', name: [{ family: `Underload${n}x${i}` }] }) });
              if (r.status === 201) newPatients.push(((await r.json()) as { id: string }).id);
            } else if (i % 3 === 2) {
              const r = await fetch(`${server.base}/Observation`, {
                method: 'POST',
                headers,
                body: JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'pulse' }, subject: { reference: `Patient/${p}` }, valueQuantity: { value: i } }),
              });
              if (r.status === 201) created.push(r.headers.get('location')!.replace(/^.*\/fhir\//, ''));
            } else {
              const r = await fetch(`${server.base}/Patient/${p}`, { headers });
              await r.arrayBuffer();
              if (r.status === 200) reads.set(p, (reads.get(p) ?? 0) + 1);
            }
          } catch {
            // The connection died with the server: that request was never acknowledged.
          }
        }
      };
      const running = Array.from({ length: CLIENTS }, (_, n) => client(n));
      // Under load for at least LOAD_MS, and until enough was acknowledged for the check to
      // mean something (a busy machine serves fewer requests in the same time).
      const started = Date.now();
      const acknowledged = (): number => [...reads.values()].reduce((a, b) => a + b, 0);
      while (Date.now() - started < LOAD_MS || ((acknowledged() <= 50 || created.length <= 10 || newPatients.length <= 3) && Date.now() - started < 60_000)) await new Promise((r) => setTimeout(r, 50));
      server.server.kill('SIGKILL');
      killed = true;
      await Promise.all(running);
      await server.stop();
      const acknowledgedReads = [...reads.values()].reduce((a, b) => a + b, 0);
      expect(acknowledgedReads).toBeGreaterThan(50);
      expect(created.length).toBeGreaterThan(10);
      expect(newPatients.length).toBeGreaterThan(3);

      // What survived, read with the vault's own keys.
      const config = resolveConfig({ dataDir, ...(db === undefined ? {} : { database: db.options.database, postgresSchema: db.options.schema! }) }, {});
      const vdb = await openVaultDatabase(config);
      try {
        const audits: AuditRecord[] = [];
        const committed = new Set<string>();
        for (let from = 0; ; ) {
          const leaves = await vdb.ledger.scanLeaves(from, 5000);
          if (leaves.length === 0) break;
          for (const leaf of leaves) {
            const e = decodeEntry(vdb.ledger.openLeaf(leaf));
            if (e.kind === 'audit') audits.push(e.event);
            if (e.kind === 'version') committed.add(`${e.type}/${e.id}/_history/${e.versionId}`);
          }
          from = leaves[leaves.length - 1]!.idx + 1;
        }
        for (const location of created) {
          expect(committed.has(location), location).toBe(true);
          expect(audits.some((a) => a.subtype === 'create' && a.outcome === '0' && a.entities.includes(location)), location).toBe(true);
        }
        for (const [p, n] of reads) {
          const recorded = audits.filter((a) => a.subtype === 'read' && a.outcome === '0' && a.patients.includes(p)).length;
          expect(recorded, `reads of Patient/${p}`).toBeGreaterThanOrEqual(n);
        }
        for (const id of newPatients) expect(JSON.parse((await vdb.resources.readCurrent('Patient', id))?.json ?? '{}').name, `Patient/${id}`).toEqual([{ family: expect.stringMatching(/^Underload/) }]);
        const check = await verifyLedger(vdb.ledger, ledgerVerifierKey(config));
        expect(check.problems).toEqual([]);
      } finally {
        await vdb.close();
      }
    });
  });
}
