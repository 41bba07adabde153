/**
 * The log's witness client and what it publishes, in process: a real witness service (its
 * state in a temp file) reached through an injected transport, a real Merkle log in
 * memory. Cosignatures are stored only once they verify; a 409 resynchronises; a restart
 * resumes from the stored lines; failures back off and recover; a witness that is ahead of
 * the log is reported; the published checkpoint is the newest a quorum cosigned, with
 * stored lines verified again (a rewritten checkpoint loses them).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom, systemClock } from '../../src/kernel/index.js';
import {
  ed25519NoteSigner,
  formatSignedNote,
  generateConsistencyProof,
  generateNoteKey,
  hashLeaf,
  merkleRoot,
  NoteVerifierSet,
  openNote,
  cosignatureVerifier,
  signCheckpoint,
  SIGNATURE_TYPE_ED25519,
  type CosignatureStore,
  type StoredCheckpoint,
  type StoredCosignature,
  type WitnessReply,
} from '../../src/ledger/index.js';
import { CosignatureCollector, MAX_ADD_CHECKPOINT_BYTES, openWitnessNode, resolveWitnessNodeConfig, type CosignatureReport, type WitnessService, type WitnessTransport } from '../../src/app/index.js';
import { CosignedCheckpoints } from '../../src/app/cosigned-checkpoints.js';
import { nodeStore } from '../ledger/node-store.js';

const ORIGIN = 'log.example/ledger';
const logKey = generateNoteKey(ORIGIN, SIGNATURE_TYPE_ED25519, seededRandom('collector-log'));
const signer = ed25519NoteSigner(logKey.privateKey);
const leaves = Array.from({ length: 64 }, (_, i) => hashLeaf(Buffer.from(`entry ${i}`)));
const tree = nodeStore(leaves);

/** The log's checkpoint at `size`, optionally on a forked history. */
const checkpointAt = (size: number, fork = false): StoredCheckpoint => {
  const ls = fork ? leaves.slice(0, size).map((l, i) => (i === 0 ? hashLeaf(Buffer.from('forged')) : l)) : leaves.slice(0, size);
  return { size, note: formatSignedNote(signCheckpoint({ origin: ORIGIN, size, rootHash: merkleRoot(ls), extensions: [] }, [signer])), at: size };
};
const source = { consistencyProof: async (from: number, to: number) => generateConsistencyProof(tree, from, to) };

class MemoryCosignatures implements CosignatureStore {
  readonly rows: StoredCosignature[] = [];
  async add(c: StoredCosignature): Promise<void> {
    if (!this.rows.some((r) => r.size === c.size && r.witness === c.witness)) this.rows.push(c);
  }
  async at(size: number): Promise<StoredCosignature[]> {
    return this.rows.filter((r) => r.size === size);
  }
  async latestSizes(witnesses: readonly string[]): Promise<Map<string, number>> {
    const m = new Map<string, number>();
    for (const r of this.rows) if (witnesses.includes(r.witness)) m.set(r.witness, Math.max(m.get(r.witness) ?? -1, r.size));
    return m;
  }
  async quorumSizes(witnesses: readonly string[], quorum: number, limit: number, fromSize = 0): Promise<number[]> {
    const counts = new Map<number, number>();
    for (const r of this.rows) if (witnesses.includes(r.witness) && r.size >= fromSize) counts.set(r.size, (counts.get(r.size) ?? 0) + 1);
    return [...counts].filter(([, n]) => n >= quorum).map(([s]) => s).sort((a, b) => b - a).slice(0, limit);
  }
  async scan(): Promise<StoredCosignature[]> {
    return [];
  }
}

const dirs: string[] = [];
const witnesses: WitnessService[] = [];
afterEach(() => {
  for (const w of witnesses.splice(0)) w.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function startWitness(name: string, seed = name): WitnessService {
  const dir = mkdtempSync(join(tmpdir(), 'custodia-collector-'));
  dirs.push(dir);
  const w = openWitnessNode(resolveWitnessNodeConfig({ dataDir: dir, name, logs: [`${ORIGIN}=${logKey.verifierKey}`] }), systemClock, seededRandom(seed));
  witnesses.push(w);
  return w;
}

/** A transport straight into the witness service; `tamper` can change or drop the answer. */
function direct(w: WitnessService, tamper?: (r: WitnessReply) => WitnessReply | undefined): WitnessTransport & { calls: string[] } {
  const calls: string[] = [];
  const t = async (_url: string, body: string): Promise<WitnessReply> => {
    calls.push(body.slice(0, body.indexOf('\n')));
    expect(Buffer.byteLength(body)).toBeLessThan(MAX_ADD_CHECKPOINT_BYTES);
    const a = await w.addCheckpoint(Buffer.from(body));
    const reply = { status: a.status, contentType: a.contentType, body: a.body };
    const out = tamper === undefined ? reply : tamper(reply);
    if (out === undefined) throw new Error('connection refused');
    return out;
  };
  return Object.assign(t, { calls });
}

function collector(w: WitnessService, store: CosignatureStore, transport: WitnessTransport, reports: CosignatureReport[] = []): CosignatureCollector {
  const c = new CosignatureCollector(source, store, [{ url: 'http://witness.invalid', vkey: w.verifierKey }], { clock: systemClock, transport, minBackoffMs: 20, maxBackoffMs: 80 });
  c.onReport((r) => reports.push(r));
  return c;
}

async function settle(c: CosignatureCollector, ms = 0): Promise<void> {
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  await c.idle();
}

describe('CosignatureCollector', () => {
  it('sends each checkpoint with the old size and a proof, and stores only verified lines', async () => {
    const w = startWitness('w1.example/witness');
    const store = new MemoryCosignatures();
    const t = direct(w);
    const reports: CosignatureReport[] = [];
    const c = collector(w, store, t, reports);
    c.notify(checkpointAt(5));
    await settle(c);
    c.notify(checkpointAt(13));
    await settle(c);
    c.notify(checkpointAt(13)); // nothing new: nothing sent
    await settle(c);
    expect(t.calls).toEqual(['old 0', 'old 5']);
    expect(store.rows.map((r) => r.size)).toEqual([5, 13]);
    expect(reports.map((r) => r.event)).toEqual(['cosigned', 'cosigned']);
    const verifier = cosignatureVerifier(w.verifierKey);
    for (const r of store.rows) {
      const text = checkpointAt(r.size).note.split('\n\n')[0]! + '\n';
      expect(openNote(`${text}\n${r.line}`, new NoteVerifierSet([verifier])).verified).toHaveLength(1);
    }
  });

  it('resumes after a restart from the stored lines, and resynchronises on a 409', async () => {
    const w = startWitness('w2.example/witness');
    const store = new MemoryCosignatures();
    const first = collector(w, store, direct(w));
    first.notify(checkpointAt(8));
    await settle(first);
    // A restart: a new collector over the same store starts from 8.
    const t = direct(w);
    const again = collector(w, store, t);
    again.notify(checkpointAt(20));
    await settle(again);
    expect(t.calls).toEqual(['old 8']);
    // A log that lost its lines (a restored database) starts from 0: the witness says 20, it resubmits from there.
    const lost = new MemoryCosignatures();
    const t2 = direct(w);
    const reports: CosignatureReport[] = [];
    const fresh = collector(w, lost, t2, reports);
    fresh.notify(checkpointAt(30));
    await settle(fresh);
    expect(t2.calls).toEqual(['old 0', 'old 20']);
    expect(reports.map((r) => r.event)).toEqual(['conflict', 'cosigned']);
    expect(lost.rows.map((r) => r.size)).toEqual([30]);
    // The witness already cosigned this size but the line is lost: asked again with old = size, it cosigns again.
    const t3 = direct(w);
    const lost2 = new MemoryCosignatures();
    const same = collector(w, lost2, t3);
    same.notify(checkpointAt(30));
    await settle(same);
    expect(t3.calls).toEqual(['old 0', 'old 30']);
    expect(lost2.rows.map((r) => r.size)).toEqual([30]);
  });

  it('refuses a tampered or foreign cosignature, backs off, and recovers', async () => {
    const w = startWitness('w3.example/witness');
    const impostor = startWitness('w3.example/witness', 'another key');
    expect(impostor.verifierKey).not.toBe(w.verifierKey);
    const store = new MemoryCosignatures();
    let mode: 'bad' | 'foreign' | 'down' | 'good' = 'bad';
    const t = direct(w, (r) => {
      if (mode === 'down') return undefined;
      if (mode === 'bad' && r.status === 200) return { ...r, body: r.body.replace(/[A-Za-z0-9+/](=*\n)$/, (m, rest: string) => `${m[0] === 'A' ? 'B' : 'A'}${rest}`) };
      return r;
    });
    const reports: CosignatureReport[] = [];
    const c = collector(w, store, t, reports);
    c.notify(checkpointAt(4));
    await settle(c);
    expect(store.rows).toEqual([]);
    expect(reports.at(-1)).toMatchObject({ event: 'bad-reply', failures: 1 });
    // While backing off, a new checkpoint does not hammer the witness.
    const before = t.calls.length;
    c.notify(checkpointAt(6));
    await settle(c);
    expect(t.calls.length).toBe(before);
    // A cosignature from another key of the same name (an impostor) is not taken either.
    mode = 'foreign';
    // The same name, another key: the log trusts w's key only.
    const wrongKey = new CosignatureCollector(source, store, [{ url: 'http://witness.invalid', vkey: w.verifierKey }], { clock: systemClock, transport: direct(impostor), minBackoffMs: 20, maxBackoffMs: 80 });
    const wrongReports: CosignatureReport[] = [];
    wrongKey.onReport((r) => wrongReports.push(r));
    wrongKey.notify(checkpointAt(6));
    await settle(wrongKey);
    await wrongKey.stop();
    expect(wrongReports.map((r) => r.event)).toEqual(['bad-reply']);
    expect(store.rows).toEqual([]);
    // Unreachable: reported, retried later.
    mode = 'down';
    await settle(c, 60);
    expect(reports.some((r) => r.event === 'unreachable')).toBe(true);
    // Back: the retry timer sends the newest checkpoint.
    mode = 'good';
    const until = Date.now() + 3000;
    while (store.rows.length === 0 && Date.now() < until) await settle(c, 20);
    expect(store.rows.map((r) => r.size)).toEqual([6]);
    expect(reports.at(-1)).toMatchObject({ event: 'cosigned', failures: 0 });
    await c.stop();
  });

  it('reports a witness that is ahead of the log, and a refusal of a fork', async () => {
    const w = startWitness('w4.example/witness');
    const ahead = collector(w, new MemoryCosignatures(), direct(w));
    ahead.notify(checkpointAt(40));
    await settle(ahead);
    await ahead.stop();
    const reports: CosignatureReport[] = [];
    const behind = collector(w, new MemoryCosignatures(), direct(w), reports);
    behind.notify(checkpointAt(10));
    await settle(behind);
    await behind.stop();
    expect(reports.map((r) => r.event)).toEqual(['conflict', 'ahead']);
    const forkReports: CosignatureReport[] = [];
    const store = new MemoryCosignatures();
    await store.add({ size: 40, witness: ahead.witnesses[0]!, line: 'x', at: 0 });
    const forked = collector(w, store, direct(w), forkReports);
    forked.notify(checkpointAt(40, true));
    await settle(forked);
    await forked.stop();
    // The store says 40 is cosigned, and the forked checkpoint is of that size: nothing is sent…
    expect(forkReports).toEqual([]);
    const forkReports2: CosignatureReport[] = [];
    const forked2 = collector(w, new MemoryCosignatures(), direct(w), forkReports2);
    forked2.notify(checkpointAt(40, true));
    await settle(forked2);
    await forked2.stop();
    // …but asked afresh, the witness answers 409 (40), then 422 for the fork at 40.
    expect(forkReports2.map((r) => [r.event, r.status])).toEqual([['conflict', undefined], ['refused', 422]]);
  });
});

describe('CosignedCheckpoints', () => {
  it('publishes the newest checkpoint with a quorum of verifying cosignatures, else the fallback', async () => {
    const w1 = startWitness('q1.example/witness');
    const w2 = startWitness('q2.example/witness');
    const store = new MemoryCosignatures();
    const stored = new Map<number, StoredCheckpoint>();
    const log = { checkpointAt: async (size: number) => stored.get(size) };
    const published = new CosignedCheckpoints(log, store, [w1.verifierKey, w2.verifierKey], 2);
    const newest = async (): Promise<StoredCheckpoint> => [...stored.values()].sort((a, b) => b.size - a.size)[0]!;
    for (const size of [3, 9]) stored.set(size, checkpointAt(size));
    expect(await published.published(newest)).toMatchObject({ size: 9, cosignatures: 0, note: checkpointAt(9).note });

    const c1 = collector(w1, store, direct(w1));
    const c2 = collector(w2, store, direct(w2));
    for (const size of [3, 9]) {
      for (const c of [c1, c2]) {
        c.notify(stored.get(size)!);
        await settle(c);
      }
    }
    stored.set(12, checkpointAt(12));
    c1.notify(stored.get(12)!); // only one witness for 12: below the quorum
    await settle(c1);
    const p = await published.published(newest);
    expect(p).toMatchObject({ size: 9, cosignatures: 2 });
    const verified = openNote(p.note, new NoteVerifierSet([cosignatureVerifier(w1.verifierKey), cosignatureVerifier(w2.verifierKey)])).verified;
    expect(verified.map((v) => v.name).sort()).toEqual(['q1.example/witness', 'q2.example/witness']);

    // Checkpoint 9 rewritten (a fork re-signed with the log's own key): its cosignatures no longer verify; 3 is served.
    stored.set(9, checkpointAt(9, true));
    expect(await published.published(newest)).toMatchObject({ size: 3, cosignatures: 2 });
    // Every witnessed one rewritten: back to the newest signed checkpoint, uncosigned.
    stored.set(3, checkpointAt(3, true));
    expect(await published.published(newest)).toMatchObject({ size: 12, cosignatures: 0 });
  });
});
