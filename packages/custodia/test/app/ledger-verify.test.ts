/**
 * `custodia ledger verify` against tampering (issue 5 §4): someone with the database edits,
 * deletes and reorders rows directly — the append-only triggers out of the way, as an
 * attacker with the database can — and each change is found and named. Then the change is
 * undone and the vault verifies clean again, so every case starts from a sound ledger.
 * Erasure and data-key rotation, which legitimately change stored bytes, verify clean.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateDataKeys, verifyVaultLedger, type LedgerVerification } from '../../src/app/index.js';
import { ALL_DATABASES, isAvailable, type TestDatabase } from '../helpers/databases.js';
import { startListeningVault, type ListeningVault } from '../helpers/listening-vault.js';
import { openRawDatabase, type RawDatabase } from '../helpers/raw-database.js';
import { randomBytes } from 'node:crypto';
import { encodeEntry, hashLeaf, type LedgerEntry } from '../../src/ledger/index.js';

const LEDGER = ['ledger_leaves', 'ledger_hashes', 'ledger_checkpoints'];

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`ledger verify on ${dialect}`, () => {
    let lv: ListeningVault;
    let raw: RawDatabase;
    const patients: string[] = [];

    const verify = (): Promise<LedgerVerification> => verifyVaultLedger(lv.config);
    /** Applies a tampering, expects verify to name it, undoes it, expects a clean verify. */
    async function caught(tamper: () => Promise<() => Promise<void>>, ...expected: RegExp[]): Promise<void> {
      const undo = await raw.withTablesUnlocked(['resource_versions', ...LEDGER], tamper);
      try {
        const r = await verify();
        expect(r.ok).toBe(false);
        for (const e of expected) expect(r.problems.join('\n')).toMatch(e);
      } finally {
        await raw.withTablesUnlocked(['resource_versions', ...LEDGER], undo);
      }
      const clean = await verify();
      expect(clean.problems).toEqual([]);
    }

    beforeAll(async () => {
      lv = await startListeningVault(dialect);
      for (const family of ['Tamperson', 'Auditwell', 'Checksum']) {
        const p = await lv.http('POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family }], birthDate: '1970-01-01' });
        expect(p.status).toBe(201);
        patients.push(p.body.id);
        const o = await lv.http('POST', '/fhir/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'pulse' }, subject: { reference: `Patient/${p.body.id}` }, valueQuantity: { value: 70 } });
        expect(o.status).toBe(201);
        expect((await lv.http('PUT', `/fhir/Observation/${o.body.id}`, { ...o.body, valueQuantity: { value: 72 } })).status).toBe(200);
      }
      expect((await lv.http('GET', `/fhir/Observation?subject=Patient/${patients[0]}`)).status).toBe(200);
      expect((await lv.http('DELETE', `/fhir/Patient/${patients[2]}`)).status).toBe(204);
      await lv.vault.ledger.catchUp();
      const db = { name: dialect, options: { database: lv.config.database, ...(lv.config.postgresSchema === undefined ? {} : { schema: lv.config.postgresSchema }) } } as unknown as TestDatabase;
      raw = await openRawDatabase(db);
    });

    afterAll(async () => {
      await raw?.close();
      await lv?.close();
    });

    it('verifies a sound ledger: every leaf, checkpoint and stored version', async () => {
      const r = await verify();
      expect(r.problems).toEqual([]);
      expect(r.ok).toBe(true);
      // 3 × (Patient + Observation + its update) + the deleted Patient's version: 10 versions, each committed.
      expect(r.versions).toBe(10);
      expect(r.leaves).toBeGreaterThan(10);
      expect(r.checkpointedSize).toBe(r.leaves);
    });

    it('finds a version whose stored bytes were changed', async () => {
      await caught(async () => {
        const [v] = await raw.query<{ seq: number; content: Buffer }>('SELECT seq, content FROM resource_versions WHERE content IS NOT NULL ORDER BY seq LIMIT 1');
        const changed = Buffer.from(v!.content);
        changed[changed.length - 1]! ^= 1;
        await raw.query('UPDATE resource_versions SET content = ? WHERE seq = ?', [changed, v!.seq]);
        return async () => void (await raw.query('UPDATE resource_versions SET content = ? WHERE seq = ?', [v!.content, v!.seq]));
      }, /does not match its commitment/);
    });

    it('finds two versions whose contents were swapped', async () => {
      await caught(async () => {
        const [a, b] = await raw.query<{ seq: number; content: Buffer }>('SELECT seq, content FROM resource_versions WHERE content IS NOT NULL ORDER BY seq LIMIT 2');
        await raw.query('UPDATE resource_versions SET content = ? WHERE seq = ?', [b!.content, a!.seq]);
        await raw.query('UPDATE resource_versions SET content = ? WHERE seq = ?', [a!.content, b!.seq]);
        return async () => {
          await raw.query('UPDATE resource_versions SET content = ? WHERE seq = ?', [a!.content, a!.seq]);
          await raw.query('UPDATE resource_versions SET content = ? WHERE seq = ?', [b!.content, b!.seq]);
        };
      }, /does not match its commitment[\s\S]*does not match its commitment/);
    });

    it('finds a deleted version, and content removed without an erasure', async () => {
      await caught(async () => {
        const [v] = await raw.query<Record<string, unknown>>('SELECT * FROM resource_versions ORDER BY seq DESC LIMIT 1');
        await raw.query('DELETE FROM resource_versions WHERE seq = ?', [v!['seq']]);
        return async () => {
          const cols = Object.keys(v!);
          // PostgreSQL's seq is an identity column: putting the row back as it was overrides it.
          const overriding = dialect === 'postgres' ? 'OVERRIDING SYSTEM VALUE ' : '';
          await raw.query(`INSERT INTO resource_versions (${cols.join(', ')}) ${overriding}VALUES (${cols.map(() => '?').join(', ')})`, cols.map((c) => v![c]));
        };
      }, /committed in the ledger but missing from storage/);
      await caught(async () => {
        const [v] = await raw.query<{ seq: number; content: Buffer }>('SELECT seq, content FROM resource_versions WHERE content IS NOT NULL ORDER BY seq LIMIT 1');
        await raw.query('UPDATE resource_versions SET content = NULL WHERE seq = ?', [v!.seq]);
        return async () => void (await raw.query('UPDATE resource_versions SET content = ? WHERE seq = ?', [v!.content, v!.seq]));
      }, /removed without an erasure/);
    });

    it('finds an edited entry, an edited leaf hash and an edited tree hash', async () => {
      await caught(async () => {
        const [l] = await raw.query<{ idx: number; entry: Buffer }>("SELECT idx, entry FROM ledger_leaves WHERE kind = 'version' ORDER BY idx LIMIT 1");
        const text = Buffer.from(l!.entry).toString('utf8').replace('"versionId":1', '"versionId":2');
        await raw.query('UPDATE ledger_leaves SET entry = ? WHERE idx = ?', [Buffer.from(text), l!.idx]);
        return async () => void (await raw.query('UPDATE ledger_leaves SET entry = ? WHERE idx = ?', [l!.entry, l!.idx]));
      }, /leaf \d+: the entry does not hash to its leaf hash/);
      await caught(async () => {
        const [l] = await raw.query<{ idx: number; entry: Buffer }>("SELECT idx, entry FROM ledger_leaves WHERE kind = 'audit' ORDER BY idx LIMIT 1");
        const changed = Buffer.from(l!.entry);
        changed[changed.length - 1]! ^= 1;
        await raw.query('UPDATE ledger_leaves SET entry = ? WHERE idx = ?', [changed, l!.idx]);
        return async () => void (await raw.query('UPDATE ledger_leaves SET entry = ? WHERE idx = ?', [l!.entry, l!.idx]));
      }, /sealed entry fails its integrity check/);
      await caught(async () => {
        const [l] = await raw.query<{ idx: number; leaf_hash: Buffer }>('SELECT idx, leaf_hash FROM ledger_leaves ORDER BY idx LIMIT 1 OFFSET 3');
        const changed = Buffer.from(l!.leaf_hash);
        changed[0]! ^= 0x80;
        await raw.query('UPDATE ledger_leaves SET leaf_hash = ? WHERE idx = ?', [changed, l!.idx]);
        return async () => void (await raw.query('UPDATE ledger_leaves SET leaf_hash = ? WHERE idx = ?', [l!.leaf_hash, l!.idx]));
      }, /leaf \d+: the entry does not hash to its leaf hash/, /tree hash \d+ does not match the leaves/, /its root is not the root of the stored leaves/);
      await caught(async () => {
        const [h] = await raw.query<{ n: number; hash: Buffer }>('SELECT n, hash FROM ledger_hashes ORDER BY n LIMIT 1 OFFSET 2');
        await raw.query('UPDATE ledger_hashes SET hash = ? WHERE n = ?', [Buffer.alloc(32, 7), h!.n]);
        return async () => void (await raw.query('UPDATE ledger_hashes SET hash = ? WHERE n = ?', [h!.hash, h!.n]));
      }, /tree hash \d+ does not match the leaves/);
    });

    it('finds a deleted leaf and two leaves swapped', async () => {
      await caught(async () => {
        const [l] = await raw.query<Record<string, unknown>>('SELECT * FROM ledger_leaves ORDER BY idx LIMIT 1 OFFSET 4');
        await raw.query('DELETE FROM ledger_leaves WHERE idx = ?', [l!['idx']]);
        return async () => {
          const cols = Object.keys(l!);
          await raw.query(`INSERT INTO ledger_leaves (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, cols.map((c) => l![c]));
        };
      }, /leaf 4 is missing/);
      await caught(async () => {
        const [a, b] = await raw.query<{ idx: number }>('SELECT idx FROM ledger_leaves ORDER BY idx LIMIT 2 OFFSET 1');
        const swap = async (x: number, y: number): Promise<void> => {
          await raw.query('UPDATE ledger_leaves SET idx = -1 WHERE idx = ?', [x]);
          await raw.query('UPDATE ledger_leaves SET idx = ? WHERE idx = ?', [x, y]);
          await raw.query('UPDATE ledger_leaves SET idx = ? WHERE idx = -1', [y]);
        };
        await swap(a!.idx, b!.idx);
        return () => swap(a!.idx, b!.idx);
      }, /its root is not the root of the stored leaves/);
    });

    it('finds a checkpoint whose note was rewritten', async () => {
      await caught(async () => {
        const [c] = await raw.query<{ size: number; note: string }>('SELECT size, note FROM ledger_checkpoints ORDER BY size DESC LIMIT 1');
        const lines = c!.note.split('\n');
        lines[2] = Buffer.alloc(32, 1).toString('base64');
        await raw.query('UPDATE ledger_checkpoints SET note = ? WHERE size = ?', [lines.join('\n'), c!.size]);
        return async () => void (await raw.query('UPDATE ledger_checkpoints SET note = ? WHERE size = ?', [c!.note, c!.size]));
      }, /checkpoint \d+: the signature does not verify/);
    });

    it('accepts what erasure and data-key rotation legitimately do to stored bytes', async () => {
      const erase = await fetch(`${lv.origin}/fhir/Patient/${patients[1]}/$erase`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await lv.vault.tokens.issue({ subject: 'operator', scope: 'system/*.cruds', ttlSeconds: 600 })}`, 'content-type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'Art. 17 request, ticket 42' }] }),
      });
      expect(erase.status).toBe(200);
      await rotateDataKeys(lv.config, { wait: true });
      await lv.vault.ledger.catchUp();
      const r = await verify();
      expect(r.problems).toEqual([]);
      expect(r.erasedVersions).toBeGreaterThan(0);
      expect(r.erasedEntries).toBeGreaterThan(0);
    });

    // Last: it leaves the ledger unsound. A rogue writer appends entries that the sequencer then
    // signs, as a vault run by someone hiding accesses would: one that starts a patient's chain
    // afresh (so a list from it leaves out everything before), and an event naming two patients
    // without their accounts (so neither patient's list shows it).
    it("finds a patient's chain forked, and an event naming several patients without its accounts", async () => {
      const event = (ps: string[]) => ({ at: Date.now(), type: 'rest', subtype: 'read', action: 'R', outcome: '0', agent: { who: 'Practitioner/rogue' }, patients: ps, entities: ps.map((p) => `Patient/${p}`) });
      const rogue = [
        { kind: 'audit', salt: randomBytes(32).toString('base64'), event: event([patients[0]!]), prev: null },
        { kind: 'audit', salt: randomBytes(32).toString('base64'), event: event([patients[0]!, patients[2]!]) },
      ] as LedgerEntry[];
      await raw.withTablesUnlocked(LEDGER, async () => {
        const [{ n }] = (await raw.query<{ n: number | string }>('SELECT MAX(idx) AS n FROM ledger_leaves')) as [{ n: number | string }];
        for (const [i, entry] of rogue.entries()) {
          const bytes = encodeEntry(entry);
          await raw.query('INSERT INTO ledger_leaves (idx, leaf_hash, kind, entry, key_id, ref, at) VALUES (?, ?, ?, ?, NULL, NULL, ?)', [Number(n) + 1 + i, hashLeaf(bytes), 'audit', bytes, Date.now()]);
        }
        return async () => {};
      });
      await lv.vault.ledger.catchUp();
      const r = await verify();
      expect(r.ok).toBe(false);
      const problems = r.problems.join('\n');
      expect(problems).toMatch(/leaf \d+: it links to nothing in its patient's chain, but the previous entry about that patient is leaf \d+/);
      expect(problems).toMatch(/leaf \d+: the event names several patients but is not followed by an account for each/);
      // Neither problem names the patient.
      for (const p of patients) expect(problems).not.toContain(p);
    });
  });
}
