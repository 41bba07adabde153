/**
 * Witnesses end to end (issue 5 §3), with real processes on loopback: hospital A's vault
 * and hospital B's vault witness each other (`custodia serve --witness-for`), and an
 * independent `custodia witness serve` witnesses both; each vault asks both of its
 * witnesses and needs a quorum of 2.
 *
 *  1. FHIR writes and reads on A and B become checkpoints that both witnesses cosign; the
 *     published note verifies under the log's key and under both witnesses' keys, the
 *     witnesses serve what they cosigned, and `custodia ledger verify --witness-vkey`
 *     checks every stored cosignature.
 *  2. A rewrites its history — one entry changed, every tree hash rebuilt and every later
 *     checkpoint re-signed with A's own key, a fork at the same size that `custodia ledger
 *     verify` alone cannot see — and both witnesses refuse it (422 fork, 409, and 422 for
 *     A's next checkpoints): A's GET /ledger/checkpoint falls back to the newest
 *     checkpoint still witnessed and does not advance past it.
 *  3. A is truncated (rolled back to that checkpoint, as a restored old backup would be)
 *     and both witnesses refuse again (400, 409; no cosignature for what follows).
 *  4. Throughout, FHIR requests on B are answered while its witness A is down, and B's
 *     checkpoints are witnessed again once A is back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { secureRandom } from '../../src/kernel/index.js';
import {
  cosignatureVerifier,
  decodeEntry,
  ed25519NoteSigner,
  encodeEntry,
  formatAddCheckpointRequest,
  formatSignedNote,
  formatVerifierKey,
  hashLeaf,
  merkleRoot,
  NoteVerifierSet,
  ed25519NoteVerifier,
  openCheckpoint,
  parsePrivateKey,
  parseSignedNote,
  signCheckpoint,
  storedHashCount,
  storedHashIndex,
  TreeBuilder,
  verifyNote,
  type Checkpoint,
} from '../../src/ledger/index.js';
import { ledgerKeyPath, loadLedgerKey, loadWitnessKey } from '../../src/store/index.js';
import { ALL_DATABASES, createTestDatabase, isAvailable, type TestDatabase } from '../helpers/databases.js';
import { freePort } from '../helpers/free-port.js';
import { openRawDatabase, type RawDatabase } from '../helpers/raw-database.js';
import { CUSTODIA_BIN, runCustodia } from '../helpers/spawn-cli.js';

const LEDGER_TABLES = ['ledger_leaves', 'ledger_hashes', 'ledger_checkpoints', 'ledger_cosignatures'];

interface Proc {
  readonly child: ChildProcess;
  out(): string;
  stop(): Promise<void>;
}

/** The built CLI in a child process (no CUSTODIA_* from the developer's shell), resolved once its output matches `ready`. */
async function startProcess(args: string[], ready: RegExp): Promise<Proc> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CUSTODIA_')));
  const child = spawn(process.execPath, [CUSTODIA_BIN, ...args], { env });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (ready.test(out)) resolve();
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`${args.slice(0, 2).join(' ')} exited with ${code}: ${err}${out}`)));
  });
  return {
    child,
    out: () => out + err,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex');

interface Published {
  readonly checkpoint: Checkpoint;
  readonly note: string;
  /** Names of the witness keys whose cosignatures verified. */
  readonly cosigners: readonly string[];
}

interface Node {
  readonly name: 'A' | 'B';
  readonly origin: string;
  readonly witnessName: string;
  readonly dir: string;
  readonly port: number;
  readonly storage: string[];
  readonly db: TestDatabase | undefined;
  logVkey: string;
  witnessVkey: string;
  proc?: Proc;
  token?: string;
  raw?: RawDatabase;
}

for (const dialect of ALL_DATABASES) {
  describe.skipIf(!isAvailable(dialect))(`three witnessing nodes, logs on ${dialect}`, () => {
    const cleanups: (() => Promise<void> | void)[] = [];
    afterAll(async () => {
      for (const c of cleanups.reverse()) {
        try {
          await c();
        } catch {
          // keep cleaning up
        }
      }
    });

    it('cosigns honest checkpoints with a quorum of 2, and refuses a forked and a truncated log', { timeout: 300_000 }, async () => {
      // ---- Set-up: keys first (what each first start does), so every node can name the others. ----
      const makeNode = async (name: 'A' | 'B'): Promise<Node> => {
        const dir = mkdtempSync(join(tmpdir(), `custodia-witness-${name}-`));
        cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
        let db: TestDatabase | undefined;
        const storage = ['--data-dir', dir];
        if (dialect === 'postgres') {
          db = await createTestDatabase('postgres');
          cleanups.push(() => db!.cleanup());
          storage.push('--database', db.options.database, '--schema', db.options.schema!);
        }
        const origin = `hospital-${name.toLowerCase()}.example/ledger`;
        const witnessName = `hospital-${name.toLowerCase()}.example/witness`;
        const logKey = loadLedgerKey(dir, { explicit: origin, fallback: origin }, secureRandom, true);
        const witnessKey = loadWitnessKey(dir, { explicit: witnessName, fallback: witnessName }, secureRandom, true);
        return {
          name,
          origin,
          witnessName,
          dir,
          port: await freePort(),
          storage,
          db,
          logVkey: formatVerifierKey(logKey.name, logKey.type, logKey.publicKey),
          witnessVkey: formatVerifierKey(witnessKey.name, witnessKey.type, witnessKey.publicKey),
        };
      };
      const A = await makeNode('A');
      const B = await makeNode('B');
      const wDir = mkdtempSync(join(tmpdir(), 'custodia-witness-W-'));
      cleanups.push(() => rmSync(wDir, { recursive: true, force: true }));
      const wKey = loadWitnessKey(wDir, { explicit: 'witness.example/w', fallback: 'x' }, secureRandom, true);
      const wVkey = formatVerifierKey(wKey.name, wKey.type, wKey.publicKey);
      const wPort = await freePort();
      const wUrl = `http://127.0.0.1:${wPort}`;
      const other = (n: Node): Node => (n === A ? B : A);

      const W = await startProcess(['witness', 'serve', '--data-dir', wDir, '--port', String(wPort), '--log-level', 'warn', '--name', 'witness.example/w', '--log', `${A.origin}=${A.logVkey}`, '--log', `${B.origin}=${B.logVkey}`], /Witnessing: .*\n/);
      cleanups.push(() => W.stop());
      expect(W.out()).toContain(`Verifier key: ${wVkey}`);
      expect(runCustodia(['witness', 'vkey', '--data-dir', wDir]).stdout.trim()).toBe(wVkey);

      const serveArgs = (n: Node): string[] => {
        const o = other(n);
        return [
          'serve', ...n.storage, '--port', String(n.port), '--log-level', 'warn',
          '--ledger-origin', n.origin, '--witness-name', n.witnessName,
          '--witness-for', `${o.origin}=${o.logVkey}`,
          '--witness', `http://127.0.0.1:${o.port}/witness=${o.witnessVkey}`,
          '--witness', `${wUrl}=${wVkey}`,
          '--witness-quorum', '2',
        ];
      };
      const startVault = async (n: Node): Promise<void> => {
        n.proc = await startProcess(serveArgs(n), /Get an operator token/);
        n.token ??= runCustodia(['token', ...n.storage]).stdout.trim();
        expect(n.token).toMatch(/^ey/);
      };
      for (const n of [A, B]) {
        await startVault(n);
        cleanups.push(() => n.proc?.stop());
        expect(n.proc!.out()).toContain(`Witnessing ${other(n).origin} at http://127.0.0.1:${n.port}/witness as ${n.witnessVkey}`);
        n.raw = await openRawDatabase(n.db ?? ({ name: 'sqlite', options: { database: join(n.dir, 'custodia.db') } } as unknown as TestDatabase));
        cleanups.push(() => n.raw!.close());
      }
      expect(runCustodia(['witness', 'vkey', '--data-dir', A.dir]).stdout.trim()).toBe(A.witnessVkey);

      // ---- Helpers over HTTP and SQL. ----
      const base = (n: Node): string => `http://127.0.0.1:${n.port}`;
      const fhir = async (n: Node, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
        const res = await fetch(`${base(n)}/fhir/${path}`, {
          method,
          headers: { authorization: `Bearer ${n.token}`, accept: 'application/fhir+json', ...(body === undefined ? {} : { 'content-type': 'application/fhir+json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await res.text();
        return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
      };
      /** A patient, an observation about them, a read of each: version commitments and audit records on the log. */
      const activity = async (n: Node, family: string): Promise<void> => {
        const p = await fhir(n, 'POST', 'Patient', { resourceType: 'Patient', name: [{ family }] });
        expect(p.status).toBe(201);
        const o = await fhir(n, 'POST', 'Observation', { resourceType: 'Observation', status: 'final', code: { text: 'pulse' }, subject: { reference: `Patient/${p.body.id}` }, valueQuantity: { value: 70 } });
        expect(o.status).toBe(201);
        expect((await fhir(n, 'GET', `Patient/${p.body.id}`)).status).toBe(200);
        expect((await fhir(n, 'GET', `Observation?subject=Patient/${p.body.id}`)).status).toBe(200);
      };
      const witnessVerifiers = (n: Node): NoteVerifierSet => new NoteVerifierSet([cosignatureVerifier(other(n).witnessVkey), cosignatureVerifier(wVkey)]);
      /** GET /ledger/checkpoint, verified under the log's key; which witnesses' cosignatures verify. */
      const published = async (n: Node): Promise<Published> => {
        const note = await (await fetch(`${base(n)}/ledger/checkpoint`)).text();
        const { checkpoint } = openCheckpoint(note, new NoteVerifierSet([ed25519NoteVerifier(n.logVkey)]));
        let cosigners: string[] = [];
        try {
          cosigners = verifyNote(parseSignedNote(note), witnessVerifiers(n)).verified.map((s) => s.name);
        } catch {
          // no cosignature of a trusted witness (verifyNote refuses a note none of them signed)
        }
        return { checkpoint, note, cosigners };
      };
      const newestSigned = async (n: Node): Promise<number> => Number((await n.raw!.query<{ s: number | string }>('SELECT MAX(size) AS s FROM ledger_checkpoints'))[0]!.s);
      const appended = async (n: Node): Promise<number> => Number((await n.raw!.query<{ s: number | string | null }>('SELECT MAX(idx) AS s FROM ledger_leaves'))[0]!.s ?? -1) + 1;
      /** Waits until every appended entry is in a checkpoint published with both witnesses' cosignatures. */
      const fullyWitnessed = (n: Node): Promise<Published> =>
        waitFor(`${n.name}'s newest checkpoint cosigned by both witnesses`, async () => {
          const [p, newest, all] = [await published(n), await newestSigned(n), await appended(n)];
          return p.checkpoint.size === newest && newest === all && p.cosigners.length === 2 && newest > 0 ? p : undefined;
        });
      const addCheckpoint = async (url: string, body: string): Promise<{ status: number; contentType: string | null; text: string }> => {
        const res = await fetch(`${url}/add-checkpoint`, { method: 'POST', body });
        return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
      };
      const witnessUrls = (n: Node): string[] => [`${base(other(n))}/witness`, wUrl];
      /** What each witness last cosigned for `n` (tlog-witness monitor retrieval), verified under n's key. */
      const witnessViews = async (n: Node): Promise<Checkpoint[]> =>
        Promise.all(
          witnessUrls(n).map(async (u) => {
            const res = await fetch(`${u}/${sha256Hex(n.origin)}/checkpoint`);
            expect(res.status).toBe(200);
            const note = await res.text();
            // The witness's view carries its own cosignature too.
            expect(verifyNote(parseSignedNote(note), witnessVerifiers(n)).verified).toHaveLength(1);
            return openCheckpoint(note, new NoteVerifierSet([ed25519NoteVerifier(n.logVkey)])).checkpoint;
          }),
        );
      const quorumSizes = async (n: Node): Promise<number[]> =>
        (await n.raw!.query<{ size: number | string }>('SELECT size FROM ledger_cosignatures GROUP BY size HAVING COUNT(*) >= 2 ORDER BY size')).map((r) => Number(r.size));

      // ---- 1. Honest logs: cosigned by a quorum of 2. ----
      await activity(A, 'Witnessa');
      await activity(B, 'Witnessb');
      for (const n of [A, B]) {
        const p = await fullyWitnessed(n);
        expect([...p.cosigners].sort()).toEqual([other(n).witnessName, 'witness.example/w'].sort());
        // The log's line first, then one cosignature per witness (C2SP: additional signature lines).
        expect(parseSignedNote(p.note).signatures.map((s) => s.name)).toEqual([n.origin, ...p.cosigners]);
        expect((await witnessViews(n)).map((c) => c.size)).toEqual([p.checkpoint.size, p.checkpoint.size]);
      }
      // More activity on A: a second witnessed checkpoint.
      const first = (await published(A)).checkpoint;
      await activity(A, 'Witnessa-two');
      const second = (await fullyWitnessed(A)).checkpoint;
      expect(second.size).toBeGreaterThan(first.size);
      for (const n of [A, B]) {
        const v = runCustodia(['ledger', 'verify', ...n.storage, '--witness-vkey', other(n).witnessVkey, '--witness-vkey', wVkey]);
        expect(v.code, v.stdout + v.stderr).toBe(0);
        expect(v.stdout).toMatch(/Cosignatures: [1-9]\d* verified\n/);
      }

      // ---- 2. A forks: one entry changed after `first`, tree rebuilt, later checkpoints re-signed with A's key. ----
      await A.proc!.stop();
      const logKey = parsePrivateKey(readFileSync(ledgerKeyPath(A.dir), 'utf8').trim());
      const witnessedBefore = await quorumSizes(A);
      const [target] = await A.raw!.query<{ idx: number | string; entry: Buffer }>("SELECT idx, entry FROM ledger_leaves WHERE kind = 'version' AND idx >= ? ORDER BY idx LIMIT 1", [first.size]);
      const forkAt = Number(target!.idx);
      expect(forkAt).toBeLessThan(second.size);
      await A.raw!.withTablesUnlocked(LEDGER_TABLES, async () => {
        // A new salt: the entry still decodes, hashes to its (new) leaf hash and commits to the same version.
        const entry = decodeEntry(target!.entry);
        const forged = encodeEntry({ ...entry, salt: randomBytes(32).toString('base64') });
        await A.raw!.query('UPDATE ledger_leaves SET entry = ?, leaf_hash = ? WHERE idx = ?', [forged, hashLeaf(forged), forkAt]);
        const leaves = (await A.raw!.query<{ leaf_hash: Buffer }>('SELECT leaf_hash FROM ledger_leaves ORDER BY idx')).map((r) => Buffer.from(r.leaf_hash));
        const integrated = await newestSigned(A);
        const updates: [number, Buffer][] = [];
        const tree = new TreeBuilder({ onNode: (node, hash) => void updates.push([storedHashIndex(node), hash]) });
        for (const l of leaves.slice(0, integrated)) tree.append(l);
        for (const [n, hash] of updates) await A.raw!.query('UPDATE ledger_hashes SET hash = ? WHERE n = ?', [hash, n]);
        for (const { size } of await A.raw!.query<{ size: number | string }>('SELECT size FROM ledger_checkpoints WHERE size > ?', [forkAt])) {
          const cp = { origin: A.origin, size: Number(size), rootHash: merkleRoot(leaves.slice(0, Number(size))), extensions: [] };
          await A.raw!.query('UPDATE ledger_checkpoints SET note = ? WHERE size = ?', [formatSignedNote(signCheckpoint(cp, [ed25519NoteSigner(logKey)])), Number(size)]);
        }
      });
      // The rewrite is consistent: the ledger check alone passes; only the witnesses' cosignatures tell.
      const quiet = runCustodia(['ledger', 'verify', ...A.storage]);
      expect(quiet.code, quiet.stdout).toBe(0);
      const loud = runCustodia(['ledger', 'verify', ...A.storage, '--witness-vkey', B.witnessVkey, '--witness-vkey', wVkey]);
      expect(loud.code).toBe(1);
      expect(loud.stdout).toMatch(/cosignature of .+ on checkpoint \d+: it does not verify over the stored checkpoint/);

      // The forked checkpoint at the size both witnesses hold, sent as A would: both refuse.
      const held = (await witnessViews(A))[0]!;
      expect(held.size).toBe(second.size);
      const forkedNote = (await A.raw!.query<{ note: string }>('SELECT note FROM ledger_checkpoints WHERE size = ?', [held.size]))[0]!.note;
      const forked = openCheckpoint(forkedNote, new NoteVerifierSet([ed25519NoteVerifier(A.logVkey)])).checkpoint;
      expect(forked.rootHash.equals(held.rootHash)).toBe(false);
      for (const url of witnessUrls(A)) {
        const same = await addCheckpoint(url, formatAddCheckpointRequest({ oldSize: held.size, proof: [], checkpoint: parseSignedNote(forkedNote) }));
        expect(same.status, `${url}: ${same.text}`).toBe(422);
        expect(same.text).not.toMatch(/^—/m);
        const fresh = await addCheckpoint(url, formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: parseSignedNote(forkedNote) }));
        expect(fresh).toEqual({ status: 409, contentType: 'text/x.tlog.size', text: `${held.size}\n` });
      }

      // A runs on its forked history: its new checkpoints are refused (422), nothing new is cosigned.
      const bDuringOutage = await fhir(B, 'POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Whileadown' }] });
      expect(bDuringOutage.status).toBe(201); // B's witness A is down: B's FHIR requests do not wait for it
      await startVault(A);
      await activity(A, 'Forked');
      const afterFork = await waitFor('A to sign past the fork', async () => ((await newestSigned(A)) > held.size ? true : undefined));
      expect(afterFork).toBe(true);
      await waitFor('both witnesses to refuse A with 422', async () => {
        const refusals = A.proc!.out().split('\n').filter((l) => l.includes('"event":"refused"') && l.includes('"status":422'));
        const refs = [B.witnessName, 'witness.example/w'].filter((w) => refusals.some((l) => l.includes(`"witness":"${w}+`)));
        return refs.length === 2 ? true : undefined;
      });
      const servedAfterFork = await published(A);
      const stillWitnessed = witnessedBefore.filter((s) => s <= forkAt).at(-1)!;
      expect(servedAfterFork.checkpoint.size).toBe(stillWitnessed);
      expect(servedAfterFork.checkpoint.size).toBeLessThan(held.size);
      expect(servedAfterFork.cosigners).toHaveLength(2);
      expect(Math.max(...(await quorumSizes(A)))).toBe(held.size); // nothing cosigned since
      expect((await witnessViews(A)).map((c) => c.size)).toEqual([held.size, held.size]);
      // Not advancing: more activity, and the published checkpoint stays where it was.
      await activity(A, 'Forked-two');
      await new Promise((r) => setTimeout(r, 2500));
      expect((await published(A)).checkpoint.size).toBe(stillWitnessed);

      // ---- 3. A is truncated back to the checkpoint still witnessed (a restored old backup). ----
      await A.proc!.stop();
      const T = stillWitnessed;
      await A.raw!.withTablesUnlocked([...LEDGER_TABLES, 'audit_patients', 'audit_filings'], async () => {
        await A.raw!.query('DELETE FROM ledger_leaves WHERE idx >= ?', [T]);
        await A.raw!.query('DELETE FROM audit_patients WHERE idx >= ?', [T]);
        await A.raw!.query('DELETE FROM audit_filings WHERE idx >= ?', [T]);
        await A.raw!.query('DELETE FROM ledger_hashes WHERE n >= ?', [storedHashCount(T)]);
        await A.raw!.query('DELETE FROM ledger_checkpoints WHERE size > ?', [T]);
        await A.raw!.query('DELETE FROM ledger_cosignatures WHERE size > ?', [T]);
      });
      const truncatedNote = (await A.raw!.query<{ note: string }>('SELECT note FROM ledger_checkpoints WHERE size = ?', [T]))[0]!.note;
      for (const url of witnessUrls(A)) {
        // From the size the witness holds to a smaller tree: 400 (the old size is above the checkpoint's).
        const back = await addCheckpoint(url, formatAddCheckpointRequest({ oldSize: held.size, proof: [], checkpoint: parseSignedNote(truncatedNote) }));
        expect(back.status, back.text).toBe(400);
        // From any other size: 409, naming the size it holds.
        for (const oldSize of [0, T]) {
          expect(await addCheckpoint(url, formatAddCheckpointRequest({ oldSize, proof: [], checkpoint: parseSignedNote(truncatedNote) }))).toEqual({ status: 409, contentType: 'text/x.tlog.size', text: `${held.size}\n` });
        }
      }
      await startVault(A);
      await activity(A, 'Truncated');
      await waitFor('A to sign past the truncation', async () => ((await newestSigned(A)) > T ? true : undefined));
      await waitFor('both witnesses to refuse the truncated log', async () => {
        const refusals = A.proc!.out().split('\n').filter((l) => l.includes('"event":"ahead"') || (l.includes('"event":"refused"') && l.includes('"status":422')));
        const refs = [B.witnessName, 'witness.example/w'].filter((w) => refusals.some((l) => l.includes(`"witness":"${w}+`)));
        return refs.length === 2 ? true : undefined;
      });
      await new Promise((r) => setTimeout(r, 1500));
      expect((await published(A)).checkpoint.size).toBe(T);
      expect(Math.max(...(await quorumSizes(A)))).toBe(T);
      expect((await witnessViews(A)).map((c) => c.size)).toEqual([held.size, held.size]);

      // ---- 4. B, meanwhile: witnessed again now that A (its witness) is back. ----
      await activity(B, 'Witnessb-again');
      const bAgain = await fullyWitnessed(B);
      expect(bAgain.cosigners).toHaveLength(2);
      expect(bAgain.checkpoint.size).toBeGreaterThan(0);
    });
  });
}
