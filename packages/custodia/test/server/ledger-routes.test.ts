/**
 * `/ledger/*` over real HTTP, on every database: the signed checkpoint verifies under the
 * published verifier key and commits to exactly the stored leaves; inclusion and
 * consistency proofs verify for every index and size of a small log; hash tiles hold the
 * leaf and subtree hashes; malformed paths and parameters answer 400 OperationOutcome
 * (never 500); entries are for the privacy officer, the administrator and the operator
 * only, and reading one is itself audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_DATABASES, isAvailable } from '../helpers/databases.js';
import { startListeningVault, type ListeningVault } from '../helpers/listening-vault.js';
import {
  decodeEntry,
  ed25519NoteVerifier,
  EMPTY_TREE_ROOT,
  generateNoteKey,
  hashLeaf,
  merkleRoot,
  NoteVerifierSet,
  openCheckpoint,
  SIGNATURE_TYPE_ED25519,
  verifyConsistency,
  verifyInclusion,
  type AuditEntry,
  type Checkpoint,
} from '../../src/ledger/index.js';
import type { LedgerLog } from '../../src/store/index.js';
import { secureRandom } from '../../src/kernel/index.js';

const PASSWORD = 'a long enough passphrase 42';

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly bytes: Buffer;
  readonly text: string;
  readonly body: any;
}

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`ledger routes on ${dialect}`, () => {
    let lv: ListeningVault;
    let operator: string;
    let clinician: string;
    let privacyOfficer: string;
    let privacyOfficerId: string;
    let privacyOfficerNoAdmin: string;
    let admin: string;
    /** The checkpoint the vault published before anything was audited. */
    let emptyNote: string;
    /** Two checkpoints of the seeded log: after the first writes, and after more. */
    let first: Checkpoint;
    let second: Checkpoint;

    const log = (): LedgerLog => (lv.vault.ledger as unknown as { log: LedgerLog }).log;
    const get = async (path: string, token?: string): Promise<Answer> => {
      const res = await fetch(`${lv.origin}${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
      const bytes = Buffer.from(await res.arrayBuffer());
      const text = bytes.toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      return { status: res.status, headers: res.headers, bytes, text, body };
    };
    const verifiers = (vkey: string): NoteVerifierSet => new NoteVerifierSet([ed25519NoteVerifier(vkey)]);
    const vkey = async (): Promise<string> => (await get('/ledger/vkey')).text.trim();
    const published = async (): Promise<Checkpoint> => openCheckpoint((await get('/ledger/checkpoint')).text, verifiers(await vkey())).checkpoint;
    /** Every stored leaf hash, from the database, in index order. */
    const leafHashes = async (size: number): Promise<Buffer[]> => log().leafHashes(0, size);
    const proofOf = (a: Answer): Buffer[] => (a.body as { hashes: string[] }).hashes.map((h) => Buffer.from(h, 'base64'));
    const expectInvalid = (a: Answer, what: string): void => {
      expect(a.status, `${what}: ${a.text}`).toBe(400);
      expect(a.body?.resourceType, what).toBe('OperationOutcome');
      expect(a.body.issue[0].details.coding[0].code, what).toBe('ledger-invalid');
    };
    const put = async (r: { resourceType: string; id: string } & Record<string, unknown>): Promise<void> => {
      const res = await fetch(`${lv.origin}/fhir/${r.resourceType}/${r.id}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/fhir+json' },
        body: JSON.stringify(r),
      });
      if (res.status >= 300) throw new Error(`${r.resourceType}/${r.id}: ${res.status} ${await res.text()}`);
    };

    beforeAll(async () => {
      lv = await startListeningVault(dialect);
      const v = lv.vault;
      operator = await v.tokens.issue({ subject: 'ledger-operator', scope: 'system/*.cruds', ttlSeconds: 3600 });
      const dr = await v.identity.addUser({ username: 'u-clinician', role: 'clinician', password: PASSWORD, fhirUser: 'Practitioner/dr1' });
      clinician = await v.tokens.issue({ subject: dr.user.id, kind: 'user', role: 'clinician', fhirUser: 'Practitioner/dr1', scope: 'user/*.cruds', ttlSeconds: 3600 });
      const po = await v.identity.addUser({ username: 'u-privacy', role: 'privacy-officer', password: PASSWORD });
      privacyOfficerId = po.user.id;
      privacyOfficer = await v.tokens.issue({ subject: po.user.id, kind: 'user', role: 'privacy-officer', scope: 'user/*.cruds custodia/admin', ttlSeconds: 3600 });
      privacyOfficerNoAdmin = await v.tokens.issue({ subject: po.user.id, kind: 'user', role: 'privacy-officer', scope: 'user/*.cruds', ttlSeconds: 3600 });
      const ad = await v.identity.addUser({ username: 'u-admin', role: 'admin', password: PASSWORD });
      admin = await v.tokens.issue({ subject: ad.user.id, kind: 'user', role: 'admin', scope: 'user/*.cruds custodia/admin', ttlSeconds: 3600 });

      emptyNote = (await get('/ledger/checkpoint')).text;
      for (const id of ['a', 'b', 'c']) await put({ resourceType: 'Patient', id, name: [{ family: `Ledger-${id}` }] });
      await v.ledger.catchUp();
      first = await published();
      await put({ resourceType: 'Observation', id: 'o-a', status: 'final', code: { text: 'pulse' }, subject: { reference: 'Patient/a' } });
      await put({ resourceType: 'Patient', id: 'd', name: [{ family: 'Ledger-d' }] });
      await v.ledger.catchUp();
      second = await published();
    }, 120_000);
    afterAll(async () => lv?.close());

    it('publishes the empty tree before anything is audited', () => {
      const { checkpoint } = openCheckpoint(emptyNote, verifiers(lv.vault.ledger.verifierKey));
      expect(checkpoint.size).toBe(0);
      expect(checkpoint.rootHash.equals(EMPTY_TREE_ROOT)).toBe(true);
    });

    it('serves a C2SP checkpoint, signed under /ledger/vkey, that commits to exactly the stored leaves', async () => {
      const res = await get('/ledger/checkpoint');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const key = await vkey();
      expect(key).toBe(lv.vault.ledger.verifierKey);
      expect(key.startsWith(`${lv.vault.ledger.origin}+`)).toBe(true);
      const { checkpoint, note } = openCheckpoint(res.text, verifiers(key));
      expect(note.text.split('\n')[0]).toBe(lv.vault.ledger.origin);
      expect(checkpoint.origin).toBe(lv.vault.ledger.origin);
      // Three Patient writes then two more, each one version commitment and one audit record.
      expect(first.size).toBe(6);
      expect(checkpoint.size).toBe(10);
      expect(checkpoint.size).toBe(await log().appendedSize());
      expect(merkleRoot(await leafHashes(checkpoint.size)).equals(checkpoint.rootHash)).toBe(true);
      // Each leaf is the RFC 9162 hash of its entry's bytes.
      for (let i = 0; i < checkpoint.size; i++) {
        const e = (await log().entry(i))!;
        expect(hashLeaf(e.bytes).equals(e.leafHash), `leaf ${i}`).toBe(true);
      }
      // Anything else does not verify: another key of the same name, or an edited note.
      const other = generateNoteKey(lv.vault.ledger.origin, SIGNATURE_TYPE_ED25519, secureRandom).verifierKey;
      expect(() => openCheckpoint(res.text, verifiers(other))).toThrow();
      const lines = res.text.split('\n');
      const forged = [lines[0], String(checkpoint.size + 1), ...lines.slice(2)].join('\n');
      expect(() => openCheckpoint(forged, verifiers(key))).toThrow();
    });

    it('serves inclusion proofs that verify for every index and size of the log', async () => {
      const size = second.size;
      const hashes: Buffer[] = [];
      for (let i = 0; i < size; i++) {
        const entry = await get(`/ledger/entry/${i}`, operator);
        expect(entry.status, entry.text).toBe(200);
        expect(entry.headers.get('cache-control')).toBe('no-store');
        expect(() => decodeEntry(entry.bytes)).not.toThrow();
        hashes.push(hashLeaf(entry.bytes));
      }
      expect(Buffer.concat(hashes).equals(Buffer.concat(await leafHashes(size)))).toBe(true);
      for (let n = 1; n <= size; n++) {
        const root = n === size ? second.rootHash : n === first.size ? first.rootHash : merkleRoot(hashes.slice(0, n));
        for (let i = 0; i < n; i++) {
          const res = await get(`/ledger/proof/inclusion?index=${i}&size=${n}`);
          expect(res.status, `index ${i} size ${n}: ${res.text}`).toBe(200);
          const proof = proofOf(res);
          expect(() => verifyInclusion(i, n, hashes[i]!, proof, root), `index ${i} size ${n}`).not.toThrow();
          if (n > 1) expect(() => verifyInclusion(i, n, hashes[(i + 1) % n]!, proof, root), `index ${i} size ${n}, another leaf`).toThrow();
        }
      }
    });

    it('serves consistency proofs that verify between the two checkpoints and every earlier size', async () => {
      const cp = await get(`/ledger/proof/consistency?from=${first.size}&to=${second.size}`);
      expect(cp.status).toBe(200);
      expect(() => verifyConsistency(first.size, second.size, proofOf(cp), first.rootHash, second.rootHash)).not.toThrow();
      expect(() => verifyConsistency(first.size, second.size, proofOf(cp), second.rootHash, first.rootHash)).toThrow();
      const hashes = await leafHashes(second.size);
      for (let from = 1; from <= second.size; from++) {
        const res = await get(`/ledger/proof/consistency?from=${from}&to=${second.size}`);
        expect(res.status, `from ${from}`).toBe(200);
        expect(() => verifyConsistency(from, second.size, proofOf(res), merkleRoot(hashes.slice(0, from)), second.rootHash), `from ${from}`).not.toThrow();
      }
      expect(proofOf(await get(`/ledger/proof/consistency?from=${second.size}&to=${second.size}`))).toEqual([]);
      expectInvalid(await get(`/ledger/proof/consistency?from=${second.size}&to=${first.size}`), 'from > to');
    });

    it('serves hash tiles of the published tree, and 404 for tiles it does not reach', async () => {
      const size = second.size;
      const hashes = await leafHashes(size);
      const tile = await get(`/ledger/tile/0/000.p/${size}`);
      expect(tile.status).toBe(200);
      expect(tile.headers.get('content-type')).toBe('application/octet-stream');
      expect(tile.bytes.length).toBe(size * 32);
      expect(tile.bytes.equals(Buffer.concat(hashes))).toBe(true);
      // A narrower partial tile (an older tree's) is a prefix of it.
      const older = await get(`/ledger/tile/0/000.p/${first.size}`);
      expect(older.status).toBe(200);
      expect(older.bytes.equals(Buffer.concat(hashes.slice(0, first.size)))).toBe(true);
      for (const beyond of [`0/000.p/${size + 1}`, '0/000', '0/001.p/1', '1/000.p/1', '1/000']) {
        const res = await get(`/ledger/tile/${beyond}`);
        expect(res.status, beyond).toBe(404);
        expect(res.body?.resourceType, beyond).toBe('OperationOutcome');
      }
      // Entry bundles are not published: entries are audit records.
      expect((await get('/ledger/tile/entries/000')).status).toBe(404);
      expect((await get(`/ledger/tile/entries/000.p/${size}`)).status).toBe(404);
    });

    it('answers malformed tile paths with 400 OperationOutcome', async () => {
      const bad = ['', '0/0', '0/00', '0/0000', '0/000.p/0', '0/000.p/256', '0/000.p/01', '0/x000/000', '00/000', '64/000', '-1/000', 'a/000', '0/000.p/', '0/000.p/1/x', '0/x001', '0//000', '0/000.p/-1', '0/000.p/1e1', `0/${'x999/'.repeat(200)}000`];
      for (const path of bad) expectInvalid(await get(`/ledger/tile/${path}`), `tile/${path}`);
    });

    it('answers non-decimal, out-of-range or missing indexes and sizes with 400 OperationOutcome', async () => {
      const size = second.size;
      const badNumbers = ['-1', '01', '1e1', '0x1', '1.0', '', 'abc', '%201', '99999999999999999', '9007199254740993', '1,2'];
      for (const v of badNumbers) {
        expectInvalid(await get(`/ledger/proof/inclusion?index=${v}&size=${size}`), `index=${v}`);
        expectInvalid(await get(`/ledger/proof/inclusion?index=0&size=${v}`), `size=${v}`);
        expectInvalid(await get(`/ledger/proof/consistency?from=${v}&to=${size}`), `from=${v}`);
        expectInvalid(await get(`/ledger/proof/consistency?from=1&to=${v}`), `to=${v}`);
      }
      expectInvalid(await get(`/ledger/proof/inclusion?size=${size}`), 'no index');
      expectInvalid(await get('/ledger/proof/inclusion?index=0'), 'no size');
      expectInvalid(await get(`/ledger/proof/inclusion?index=0&index=1&size=${size}`), 'two indexes');
      expectInvalid(await get('/ledger/proof/inclusion?index=0&size=0'), 'size 0');
      expectInvalid(await get(`/ledger/proof/inclusion?index=${size}&size=${size}`), 'index = size');
      expectInvalid(await get(`/ledger/proof/inclusion?index=0&size=${size + 1}`), 'size beyond the published tree');
      expectInvalid(await get(`/ledger/proof/consistency?from=1&to=${size + 1}`), 'to beyond the published tree');
      for (const v of ['-1', '01', 'abc', '1.5', '1e1', '99999999999999999', '9007199254740993']) {
        expectInvalid(await get(`/ledger/entry/${v}`, operator), `entry ${v}`);
      }
      const missing = await get(`/ledger/entry/${size + 1000}`, operator);
      expect(missing.status).toBe(404);
      expect(missing.body.resourceType).toBe('OperationOutcome');
    });

    it('serves entries to the privacy officer, the administrator and the operator only', async () => {
      const none = await get('/ledger/entry/0');
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(none.text).not.toContain('"kind"');
      expect((await get('/ledger/entry/0', 'not.a.token')).status).toBe(401);
      for (const [who, token] of [
        ['clinician', clinician],
        ['privacy officer without custodia/admin', privacyOfficerNoAdmin],
      ] as const) {
        const res = await get('/ledger/entry/0', token);
        expect(res.status, who).toBe(403);
        expect(res.body.resourceType, who).toBe('OperationOutcome');
        expect(res.text, who).not.toContain('"salt"');
      }
      const expected = (await log().entry(0))!.bytes;
      for (const [who, token] of [
        ['privacy officer', privacyOfficer],
        ['administrator', admin],
        ['operator', operator],
      ] as const) {
        const res = await get('/ledger/entry/0', token);
        expect(res.status, who).toBe(200);
        expect(res.headers.get('content-type'), who).toMatch(/^application\/json/);
        expect(res.bytes.equals(expected), who).toBe(true);
      }
    });

    it('audits every read of an entry', async () => {
      const from = await log().appendedSize();
      const target = 3;
      expect((await get(`/ledger/entry/${target}`, privacyOfficer)).status).toBe(200);
      const leaves = await log().scanLeaves(from, 100);
      expect(leaves).toHaveLength(1);
      const entry = decodeEntry(log().openLeaf(leaves[0]!));
      expect(entry.kind).toBe('audit');
      expect((entry as AuditEntry).event).toMatchObject({
        type: 'admin',
        subtype: 'ledger-entry',
        action: 'R',
        outcome: '0',
        agent: { who: `user:${privacyOfficerId}`, roles: ['privacy-officer'], address: '127.0.0.1' },
        patients: [],
        entities: [`ledger/entry/${target}`],
      });
      // The record of that read is itself in the log (and provable once integrated).
      const cp = await lv.vault.ledger.catchUp();
      expect(cp.size).toBe(from + 1);
      const res = await get(`/ledger/proof/inclusion?index=${from}&size=${cp.size}`);
      const root = openCheckpoint(cp.note, verifiers(lv.vault.ledger.verifierKey)).checkpoint.rootHash;
      expect(() => verifyInclusion(from, cp.size, leaves[0]!.leafHash, proofOf(res), root)).not.toThrow();
      // The public endpoints hold hashes only and are not audited.
      const before = await log().appendedSize();
      await get('/ledger/checkpoint');
      await get(`/ledger/tile/0/000.p/${cp.size}`);
      expect(await log().appendedSize()).toBe(before);
    });

    it('lets the public, hash-only answers be cached as the routes set (checkpoint revalidated, tiles and proofs immutable)', async () => {
      const size = second.size;
      expect((await get(`/ledger/entry/0`, operator)).headers.get('cache-control')).toBe('no-store');
      const cache = async (path: string): Promise<string | null> => (await get(path)).headers.get('cache-control');
      expect({
        checkpoint: await cache('/ledger/checkpoint'),
        vkey: await cache('/ledger/vkey'),
        tile: await cache(`/ledger/tile/0/000.p/${size}`),
        proof: await cache(`/ledger/proof/inclusion?index=0&size=${size}`),
      }).toEqual({
        checkpoint: 'no-cache',
        vkey: 'public, max-age=86400',
        tile: 'public, max-age=3600, immutable',
        proof: 'public, max-age=3600, immutable',
      });
    });

    it('audits a refused attempt to read an entry, as refused FHIR requests are', async () => {
      const from = await log().appendedSize();
      expect((await get('/ledger/entry/0', clinician)).status).toBe(403);
      const leaves = await log().scanLeaves(from, 100);
      expect(leaves.map((l) => (decodeEntry(log().openLeaf(l)) as AuditEntry).event)).toEqual([
        expect.objectContaining({ type: 'admin', subtype: 'ledger-entry', outcome: '4', outcomeCode: 'forbidden', entities: ['ledger/entry/0'] }),
      ]);
    });

    it('serves a full tile, and the level-1 tile above it, once the tree reaches 256 leaves', async () => {
      const entries = Array.from({ length: 260 }, (_, i) => ({
        resource: { resourceType: 'Organization', id: `org-${i}`, name: `Org ${i}` },
        request: { method: 'PUT', url: `Organization/org-${i}` },
      }));
      const res = await fetch(`${lv.origin}/fhir`, {
        method: 'POST',
        headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries }),
      });
      expect(res.status).toBe(200);
      const cp = await lv.vault.ledger.catchUp();
      expect(cp.size).toBeGreaterThan(256);
      const hashes = await leafHashes(cp.size);
      const full = await get('/ledger/tile/0/000');
      expect(full.status).toBe(200);
      expect(full.bytes.equals(Buffer.concat(hashes.slice(0, 256)))).toBe(true);
      const rest = await get(`/ledger/tile/0/001.p/${cp.size - 256}`);
      expect(rest.status).toBe(200);
      expect(rest.bytes.equals(Buffer.concat(hashes.slice(256)))).toBe(true);
      const up = await get('/ledger/tile/1/000.p/1');
      expect(up.status).toBe(200);
      expect(up.bytes.equals(merkleRoot(hashes.slice(0, 256)))).toBe(true);
      expect((await get('/ledger/tile/1/000.p/2')).status).toBe(404);
    });
  });
}
