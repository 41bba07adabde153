/**
 * Encryption at rest through a real sealed store (store/at-rest.ts), on every database:
 * what is written comes back unchanged; what is stored is an envelope, not the JSON; and
 * whoever edits the database directly (bypassing the immutability triggers, as the owner
 * of the file or a PostgreSQL superuser can) gets a typed error on the next read, never
 * altered or misplaced data. Each version is sealed under its owner's data key (ownerOf):
 * the key_id column is read raw to check whose.
 */
import { fc } from '@fast-check/vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLEAR_AT_REST, openStore, ownerOf, sealedAtRest, TENANT_OWNER } from '../../src/store/index.js';
import type { ResourceStore, VersionWrite } from '../../src/fhir/index.js';
import { isCustodiaError, secureRandom } from '../../src/kernel/index.js';
import { ENVELOPE_VERSION, envelopeKeyId } from '../../src/crypto/index.js';
import { ALL_DATABASES, createTestDatabase, isAvailable, testKeyStore, type TestDatabase } from '../helpers/databases.js';
import { openRawDatabase, type RawDatabase } from '../helpers/raw-database.js';
import { rows, str } from './store-fixtures.js';

const SEED = Number(process.env['CUSTODIA_TEST_SEED'] ?? 20_261_129);

const failsWith = (code: 'decrypt-failed' | 'key-unavailable' | 'resource-erased') => (e: unknown) => isCustodiaError(e, code);

interface Stored {
  content: Buffer | null;
  key_id: string | null;
  version_id: number | string;
}

/** A version write with the given JSON body (the store does not parse it). */
function write(type: string, id: string, json: string, opts: { versionId?: number; compartments?: string[] } = {}): VersionWrite {
  const versionId = opts.versionId ?? 1;
  return {
    type,
    id,
    versionId,
    lastUpdated: 1_700_000_000_000 + versionId,
    method: versionId === 1 ? 'POST' : 'PUT',
    json,
    index: rows({}),
    compartments: (opts.compartments ?? []).map((p) => ({ compartment: 'Patient', id: p })),
    expected: versionId === 1 ? null : { versionId: versionId - 1, deleted: false },
  };
}

const body = (type: string, id: string, extra: unknown = {}): string => JSON.stringify({ resourceType: type, id, extra });

for (const dbName of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dbName))(`encryption at rest on ${dbName}`, () => {
    let db: TestDatabase;
    let store: ResourceStore;
    let raw: RawDatabase;

    const stored = async (type: string, id: string): Promise<Stored[]> =>
      raw.query<Stored>('SELECT content, key_id, version_id FROM resource_versions WHERE res_type = ? AND res_id = ? ORDER BY version_id', [type, id]);
    const keyIdOf = async (type: string, id: string): Promise<string | null> => (await stored(type, id))[0]!.key_id;
    const setContent = (type: string, id: string, versionId: number, content: Buffer | null, keyId?: string | null): Promise<unknown> =>
      raw.withVersionsUnlocked(() =>
        keyId === undefined
          ? raw.query('UPDATE resource_versions SET content = ? WHERE res_type = ? AND res_id = ? AND version_id = ?', [content, type, id, versionId])
          : raw.query('UPDATE resource_versions SET content = ?, key_id = ? WHERE res_type = ? AND res_id = ? AND version_id = ?', [content, keyId, type, id, versionId]),
      );
    /** Reads after letting the store notice the outside change (SQLite's read cache checks data_version once per turn). */
    const readCurrent = async (type: string, id: string) => {
      await new Promise((r) => setImmediate(r));
      return store.readCurrent(type, id);
    };

    beforeAll(async () => {
      db = await createTestDatabase(dbName);
      store = await openStore(db.options);
      raw = await openRawDatabase(db);
    });

    afterAll(async () => {
      await raw?.close();
      await store?.close();
      await db?.cleanup();
    });

    it('decrypt(encrypt(x)) = x for any JSON, through every read path; what is stored is an envelope (property)', async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }), fc.constantFrom('Basic', 'Patient', 'Observation'), async (value, type) => {
          const id = `rt${n++}`;
          const json = body(type, id, value);
          const w = write(type, id, json, type === 'Observation' ? { compartments: ['rt-owner'] } : {});
          await store.transaction((tx) => tx.writeVersions([w]));
          expect((await store.readCurrent(type, id))?.json).toBe(json);
          expect((await store.readVersion(type, id, 1))?.json).toBe(json);
          expect((await store.history({ type, id }, 10, undefined))!.map((v) => v.json)).toEqual([json]);
          const [row] = await stored(type, id);
          const content = Buffer.from(row!.content!);
          expect(content[0]).toBe(ENVELOPE_VERSION);
          expect(envelopeKeyId(content)).toBe(row!.key_id);
          expect(content.includes(Buffer.from(json, 'utf8'))).toBe(false);
          expect(content.includes(Buffer.from(`"id":"${id}"`, 'utf8'))).toBe(false);
        }),
        { numRuns: 60, seed: SEED },
      );
    });

    it('(a) one flipped byte anywhere in a stored version fails to open; never other data (property)', async () => {
      const json = body('Basic', 'flip', { note: 'the original' });
      await store.transaction((tx) => tx.writeVersions([write('Basic', 'flip', json)]));
      const [row] = await stored('Basic', 'flip');
      const original = Buffer.from(row!.content!);
      const headerEnd = 2 + original[1]!;
      try {
        await fc.assert(
          fc.asyncProperty(fc.integer({ min: 0, max: original.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, mask) => {
            const bad = Buffer.from(original);
            bad[at] = bad[at]! ^ mask;
            await setContent('Basic', 'flip', 1, bad);
            const read = readCurrent('Basic', 'flip');
            // A flipped length or key-id byte may name a key that does not exist: then it is unavailable, which is still no data.
            if (at >= 1 && at < headerEnd) await expect(read).rejects.toSatisfy((e) => isCustodiaError(e, 'decrypt-failed', 'key-unavailable'));
            else await expect(read).rejects.toSatisfy(failsWith('decrypt-failed'));
          }),
          { numRuns: 60, seed: SEED, examples: [[0, 1], [headerEnd, 1], [headerEnd + 12, 0x80], [original.length - 1, 1]] },
        );
      } finally {
        await setContent('Basic', 'flip', 1, original);
      }
      expect((await readCurrent('Basic', 'flip'))?.json).toBe(json);
    });

    it('(b) content swapped between two resources, or two versions of one, fails to open', async () => {
      await store.transaction((tx) =>
        tx.writeVersions([write('Basic', 'swap-a', body('Basic', 'swap-a')), write('Basic', 'swap-b', body('Basic', 'swap-b')), write('Patient', 'swap-p', body('Patient', 'swap-p')), write('Patient', 'swap-q', body('Patient', 'swap-q'))]),
      );
      await store.transaction((tx) => tx.writeVersions([write('Basic', 'swap-a', body('Basic', 'swap-a', 2), { versionId: 2 })]));
      const [a1, a2] = await stored('Basic', 'swap-a');
      const [b1] = await stored('Basic', 'swap-b');
      const [p1] = await stored('Patient', 'swap-p');
      const [q1] = await stored('Patient', 'swap-q');
      // Same (tenant) key, other record.
      expect(a1!.key_id).toBe(b1!.key_id);
      await setContent('Basic', 'swap-b', 1, a1!.content);
      await expect(readCurrent('Basic', 'swap-b')).rejects.toSatisfy(failsWith('decrypt-failed'));
      // Same record, other version: version 2 carrying version 1's bytes, and the reverse.
      await setContent('Basic', 'swap-a', 2, a1!.content);
      await setContent('Basic', 'swap-a', 1, a2!.content);
      await expect(readCurrent('Basic', 'swap-a')).rejects.toSatisfy(failsWith('decrypt-failed'));
      await expect(store.readVersion('Basic', 'swap-a', 1)).rejects.toSatisfy(failsWith('decrypt-failed'));
      // Another patient's row, moved with its key id column: other key, other AAD.
      expect(p1!.key_id).not.toBe(q1!.key_id);
      await setContent('Patient', 'swap-q', 1, p1!.content, p1!.key_id);
      await expect(readCurrent('Patient', 'swap-q')).rejects.toSatisfy(failsWith('decrypt-failed'));
      // Restored, everything opens again: the failures came from the swaps.
      await setContent('Basic', 'swap-a', 1, a1!.content);
      await setContent('Basic', 'swap-a', 2, a2!.content);
      await setContent('Basic', 'swap-b', 1, b1!.content);
      await setContent('Patient', 'swap-q', 1, q1!.content, q1!.key_id);
      expect(JSON.parse((await readCurrent('Basic', 'swap-a'))!.json!).extra).toBe(2);
      expect(JSON.parse((await store.readVersion('Basic', 'swap-a', 1))!.json!).id).toBe('swap-a');
      expect(JSON.parse((await readCurrent('Basic', 'swap-b'))!.json!).id).toBe('swap-b');
      expect(JSON.parse((await readCurrent('Patient', 'swap-q'))!.json!).id).toBe('swap-q');
    });

    it('(c) the key_id column must name the key in the envelope: a cleared key_id never makes ciphertext pass for text', async () => {
      const json = body('Basic', 'kid', { x: 1 });
      await store.transaction((tx) => tx.writeVersions([write('Basic', 'kid', json)]));
      const [row] = await stored('Basic', 'kid');
      // key_id NULL on a sealed row: the column no longer names the key in the envelope, which is
      // tampering — refused, and the ciphertext is never handed out as if it were JSON.
      await setContent('Basic', 'kid', 1, row!.content, null);
      await expect(readCurrent('Basic', 'kid')).rejects.toSatisfy(failsWith('decrypt-failed'));
      // key_id NULL and a damaged envelope: still authenticated, still refused.
      const bad = Buffer.from(row!.content!);
      bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
      await setContent('Basic', 'kid', 1, bad, null);
      await expect(readCurrent('Basic', 'kid')).rejects.toSatisfy(failsWith('decrypt-failed'));
      // A row marked as sealed whose content is not an envelope (e.g. JSON put there by hand) is refused.
      await setContent('Basic', 'kid', 1, Buffer.from(json, 'utf8'), row!.key_id);
      await expect(readCurrent('Basic', 'kid')).rejects.toSatisfy(failsWith('decrypt-failed'));
      await setContent('Basic', 'kid', 1, row!.content, row!.key_id);
      expect((await readCurrent('Basic', 'kid'))?.json).toBe(json);
    });

    // A vault is sealed from its first write: JSON in place of an envelope can only be a forgery.
    it('(c) a sealed version replaced by forged clear JSON with key_id NULL is refused', async () => {
      await store.transaction((tx) => tx.writeVersions([write('Basic', 'forge', body('Basic', 'forge', 'genuine'))]));
      await setContent('Basic', 'forge', 1, Buffer.from(body('Basic', 'forge', 'forged'), 'utf8'), null);
      await expect(readCurrent('Basic', 'forge')).rejects.toSatisfy(failsWith('decrypt-failed'));
      // A live version blanked out does not pass for a deletion either.
      await setContent('Basic', 'forge', 1, null, null);
      await expect(readCurrent('Basic', 'forge')).rejects.toSatisfy(failsWith('decrypt-failed'));
    });

    it('(d) the same database under another key store: key-unavailable, and blind searches find nothing', async () => {
      await store.transaction((tx) => tx.writeVersions([{ ...write('Patient', 'other-ks', body('Patient', 'other-ks')), index: rows({ string: [str('family', 'Otherkeys')] }) }]));
      const dir = mkdtempSync(join(tmpdir(), 'custodia-other-keys-'));
      const otherKeys = testKeyStore(dir);
      const other = await openStore({ ...db.options, atRest: sealedAtRest(otherKeys, secureRandom) });
      const clear = await openStore({ ...db.options, atRest: CLEAR_AT_REST });
      try {
        await expect(other.readCurrent('Patient', 'other-ks')).rejects.toSatisfy(failsWith('key-unavailable'));
        await expect(clear.readCurrent('Patient', 'other-ks')).rejects.toSatisfy(failsWith('key-unavailable'));
        const byName = { types: ['Patient'], conditions: [{ kind: 'string', param: 'family', match: 'exact', values: ['Otherkeys'] }], sort: [], count: 10, total: 'none', include: [], revinclude: [], ignored: [] } as const;
        expect((await other.search(byName, 10)).keys).toEqual([]);
        expect((await store.search(byName, 10)).keys).toHaveLength(1);
        // The original key store still opens it: the failure above is the keys, not the row.
        expect(JSON.parse((await store.readCurrent('Patient', 'other-ks'))!.json!).id).toBe('other-ks');
      } finally {
        await other.close();
        await clear.close();
        otherKeys.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('(e) a Patient seals under its own key; a resource of one patient under theirs; shared or unowned under the tenant key', async () => {
      await store.transaction((tx) =>
        tx.writeVersions([
          write('Patient', 'own-1', body('Patient', 'own-1')),
          write('Patient', 'own-2', body('Patient', 'own-2')),
          write('Observation', 'own-o1', body('Observation', 'own-o1'), { compartments: ['own-1'] }),
          write('Observation', 'own-o1b', body('Observation', 'own-o1b'), { compartments: ['own-1', 'own-1'] }),
          write('Observation', 'own-o2', body('Observation', 'own-o2'), { compartments: ['own-2'] }),
          write('Observation', 'own-both', body('Observation', 'own-both'), { compartments: ['own-1', 'own-2'] }),
          write('Observation', 'own-none', body('Observation', 'own-none')),
          write('Organization', 'own-org', body('Organization', 'own-org')),
          { ...write('Observation', 'own-enc', body('Observation', 'own-enc')), compartments: [{ compartment: 'Encounter', id: 'e1' }, { compartment: 'Patient', id: 'own-2' }] },
        ]),
      );
      const k = async (type: string, id: string) => (await keyIdOf(type, id))!;
      const p1 = await k('Patient', 'own-1');
      const p2 = await k('Patient', 'own-2');
      const tenant = await k('Observation', 'own-none');
      expect(new Set([p1, p2, tenant]).size).toBe(3);
      expect(await k('Observation', 'own-o1')).toBe(p1);
      expect(await k('Observation', 'own-o1b')).toBe(p1);
      expect(await k('Observation', 'own-o2')).toBe(p2);
      expect(await k('Observation', 'own-enc')).toBe(p2);
      expect(await k('Observation', 'own-both')).toBe(tenant);
      expect(await k('Organization', 'own-org')).toBe(tenant);
      expect(db.keys.ownerOf(p1)).toBe('Patient/own-1');
      expect(db.keys.ownerOf(p2)).toBe('Patient/own-2');
      expect(db.keys.ownerOf(tenant)).toBe(TENANT_OWNER);
      // The codec's own answer agrees with what was stored.
      expect(ownerOf(write('Observation', 'x', '{}', { compartments: ['own-1', 'own-2'] }))).toBe(TENANT_OWNER);
      // A patient's later versions stay under the same key.
      await store.transaction((tx) => tx.writeVersions([write('Patient', 'own-1', body('Patient', 'own-1', 2), { versionId: 2 })]));
      expect((await stored('Patient', 'own-1')).map((r) => r.key_id)).toEqual([p1, p1]);
    });

    it('an erased owner\'s versions answer resource-erased; other owners are untouched', async () => {
      await store.transaction((tx) =>
        tx.writeVersions([write('Patient', 'er-1', body('Patient', 'er-1')), write('Observation', 'er-o', body('Observation', 'er-o'), { compartments: ['er-1'] }), write('Patient', 'er-2', body('Patient', 'er-2'))]),
      );
      const before = await keyIdOf('Patient', 'er-1');
      expect(db.keys.erase('Patient/er-1')).toEqual([before]);
      await expect(readCurrent('Patient', 'er-1')).rejects.toSatisfy(failsWith('resource-erased'));
      await expect(readCurrent('Observation', 'er-o')).rejects.toSatisfy(failsWith('resource-erased'));
      expect(JSON.parse((await readCurrent('Patient', 'er-2'))!.json!).id).toBe('er-2');
      // Nothing can be added to the erased record under a new key.
      await expect(store.transaction((tx) => tx.writeVersions([write('Observation', 'er-o2', body('Observation', 'er-o2'), { compartments: ['er-1'] })]))).rejects.toSatisfy((e) =>
        isCustodiaError(e, 'resource-erased'),
      );
    });
  });
}
