/**
 * An operator's import (`custodia import`, `serve --demo`; app/operator-import.ts) is a
 * write like any other: each batch's transaction carries, beside its version commitments,
 * one audit record naming the operator and every version it wrote — in the same commit,
 * so the ledger never holds a commitment of an import without its record.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVault, importAsOperator, resolveConfig, type Vault } from '../../src/app/index.js';
import { decodeEntry, type AuditEntry, type LedgerEntry } from '../../src/ledger/index.js';

describe('an operator import', () => {
  let dir: string;
  let vault: Vault;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'custodia-operator-import-'));
    vault = await createVault(resolveConfig({ dataDir: join(dir, 'data'), logLevel: 'silent' }));
  });
  afterAll(async () => {
    await vault?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('appends, with each batch, one audit record of the operator naming every version it wrote', async () => {
    const file = join(dir, 'patients.ndjson');
    const ids = ['imp-a', 'imp-b', 'imp-c'];
    writeFileSync(file, ids.map((id) => JSON.stringify({ resourceType: 'Patient', id, name: [{ family: `Family-${id}` }] })).join('\n') + '\n');
    const log = vault.ledger.log;
    const from = await log.appendedSize();
    const report = await importAsOperator(vault, [file]);
    expect(report).toMatchObject({ files: 1, resources: 3, failures: [] });
    const leaves = await log.scanLeaves(from, 1000);
    const entries: LedgerEntry[] = leaves.map((l) => decodeEntry(log.openLeaf(l)));
    const versions = entries.filter((e) => e.kind === 'version');
    expect(versions.map((v) => (v.kind === 'version' ? `${v.type}/${v.id}` : '')).sort()).toEqual(ids.map((id) => `Patient/${id}`));
    const audits = entries.filter((e): e is AuditEntry => e.kind === 'audit');
    expect(audits).toHaveLength(1);
    expect(audits[0]!.event).toMatchObject({ type: 'admin', subtype: 'import', action: 'C', outcome: '0', agent: { who: 'operator' } });
    expect([...audits[0]!.event.entities!].sort()).toEqual(ids.map((id) => `Patient/${id}/_history/1`));
    // One commit: the version commitments, then the record, then each patient's account of it.
    expect(entries.map((e) => e.kind)).toEqual(['version', 'version', 'version', 'audit', 'access', 'access', 'access']);
    const auditIndex = leaves[3]!.idx;
    expect(entries.slice(4).map((e) => (e.kind === 'access' ? e.of : -1))).toEqual([auditIndex, auditIndex, auditIndex]);
  });
});
