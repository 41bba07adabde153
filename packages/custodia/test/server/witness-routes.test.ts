/**
 * The tlog-witness HTTP interface (fastify.inject), on the standalone witness server and
 * under /witness in a vault: exact statuses, media types and bodies (200 signature lines,
 * 409 text/x.tlog.size, 400/403/404/422 plain text, 413 before parsing), any request
 * Content-Type or none, no OperationOutcome and never a stray 409, the monitor view, and
 * the evidence kept for a refused fork. Configuration: URL=VKEY and ORIGIN=VKEY parsing.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom, systemClock } from '../../src/kernel/index.js';
import {
  cosignatureVerifier,
  ed25519NoteSigner,
  formatAddCheckpointRequest,
  generateNoteKey,
  hashLeaf,
  merkleRoot,
  NoteVerifierSet,
  openNote,
  parseSignedNote,
  signCheckpoint,
  SIGNATURE_TYPE_COSIGNATURE_V1,
  SIGNATURE_TYPE_ED25519,
  generateConsistencyProof,
} from '../../src/ledger/index.js';
import { createVault, openWitnessNode, parseWitnessedLog, parseWitnessPeer, resolveConfig, resolveWitnessNodeConfig, type Vault, type WitnessService } from '../../src/app/index.js';
import { buildServer, buildWitnessServer } from '../../src/server/index.js';
import { openWitnessStateFile } from '../../src/store/index.js';
import { nodeStore } from '../ledger/node-store.js';

const ORIGIN = 'hospital.example/ledger';
const logKey = generateNoteKey(ORIGIN, SIGNATURE_TYPE_ED25519, seededRandom('routes-log'));
const otherKey = generateNoteKey(ORIGIN, SIGNATURE_TYPE_ED25519, seededRandom('routes-impostor'));
const leaves = Array.from({ length: 32 }, (_, i) => hashLeaf(Buffer.from(`leaf ${i}`)));
const tree = nodeStore(leaves);

const note = (size: number, key = logKey.privateKey, fork = false) => {
  const ls = leaves.slice(0, size).map((l, i) => (fork && i === 0 ? hashLeaf(Buffer.from('forged')) : l));
  return signCheckpoint({ origin: ORIGIN, size, rootHash: merkleRoot(ls), extensions: [] }, [ed25519NoteSigner(key)]);
};
const body = (oldSize: number, size: number, o: { key?: string; fork?: boolean; proof?: Buffer[] } = {}): string =>
  formatAddCheckpointRequest({ oldSize, proof: o.proof ?? (oldSize === 0 || oldSize === size ? [] : generateConsistencyProof(tree, oldSize, size)), checkpoint: note(size, o.key, o.fork) });

describe('witness routes (standalone server)', () => {
  let dir: string;
  let witness: WitnessService;
  let app: FastifyInstance;
  const post = (payload: string | Buffer, contentType?: string) =>
    app.inject({ method: 'POST', url: '/add-checkpoint', payload, headers: contentType === undefined ? {} : { 'content-type': contentType } });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'custodia-witness-routes-'));
    witness = openWitnessNode(resolveWitnessNodeConfig({ dataDir: dir, name: 'witness.example/w1', logs: [`${ORIGIN}=${logKey.verifierKey}`] }), systemClock, seededRandom('routes-witness'));
    app = buildWitnessServer(witness);
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    witness.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('cosigns (200, signature lines), then answers 409 with text/x.tlog.size for a stale old size', async () => {
    const first = await post(body(0, 5), 'text/plain');
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(first.body).toMatch(/^— witness\.example\/w1 [A-Za-z0-9+/]+=*\n$/);
    const text = note(5).text;
    expect(openNote(`${text}\n${first.body}`, new NoteVerifierSet([cosignatureVerifier(witness.verifierKey)])).verified).toHaveLength(1);
    // No Content-Type at all, and an odd one: the body is read the same.
    expect((await post(body(5, 9))).statusCode).toBe(200);
    expect((await post(body(9, 12), 'application/octet-stream')).statusCode).toBe(200);
    const stale = await post(body(5, 20));
    expect(stale.statusCode).toBe(409);
    expect(stale.headers['content-type']).toBe('text/x.tlog.size');
    expect(stale.body).toBe('12\n');
  });

  it('answers 400, 403, 404, 422 and 413 as plain text, never as an OperationOutcome', async () => {
    const cases: [string | Buffer, number][] = [
      ['old 01\n\nnot a checkpoint\n', 400],
      [body(12, 5, { proof: [] }), 400], // truncation: the old size above the checkpoint's
      [body(12, 20, { key: otherKey.privateKey }), 403],
      [formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpoint: signCheckpoint({ origin: 'stranger.example/log', size: 1, rootHash: leaves[0]!, extensions: [] }, [ed25519NoteSigner(logKey.privateKey)]) }), 404],
      [body(12, 12, { fork: true }), 422], // a fork at the same size
      [body(12, 20, { proof: generateConsistencyProof(tree, 11, 20) }), 422], // a proof that does not verify
      [Buffer.alloc(70 * 1024, 0x61), 413],
      [Buffer.from([0xff, 0xfe, 0x0a]), 400],
    ];
    for (const [payload, status] of cases) {
      const r = await post(payload, 'text/plain');
      expect(r.statusCode, r.body).toBe(status);
      expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(r.body).not.toMatch(/OperationOutcome|^—/);
    }
    // The log-signed fork was kept as evidence.
    witness.close();
    const state = openWitnessStateFile(join(dir, 'witness-state.db'), () => 0);
    try {
      expect(state.evidence(ORIGIN).map((e) => e.reason)).toEqual(['fork', 'bad-proof']);
      expect((await state.load(ORIGIN))?.size).toBe(12);
    } finally {
      state.close();
    }
    witness = openWitnessNode(resolveWitnessNodeConfig({ dataDir: dir, name: 'witness.example/w1', logs: [`${ORIGIN}=${logKey.verifierKey}`] }), systemClock, seededRandom('x'));
    await app.close();
    app = buildWitnessServer(witness);
    await app.ready();
    expect((await post(body(12, 14))).statusCode).toBe(200);
  });

  it('serves the latest cosigned checkpoint per origin hash (monitor retrieval), 404 otherwise', async () => {
    const hash = createHash('sha256').update(ORIGIN).digest('hex');
    const r = await app.inject({ method: 'GET', url: `/${hash}/checkpoint` });
    expect(r.statusCode).toBe(200);
    const parsed = parseSignedNote(r.body);
    expect(parsed.text).toBe(note(14).text);
    expect(parsed.signatures.map((s) => s.name)).toEqual([ORIGIN, 'witness.example/w1']);
    for (const url of [`/${'0'.repeat(64)}/checkpoint`, `/${hash.toUpperCase()}/checkpoint`, '/nothing/checkpoint']) {
      expect((await app.inject({ method: 'GET', url })).statusCode).toBe(404);
    }
    expect((await app.inject({ method: 'GET', url: '/add-checkpoint' })).statusCode).toBe(404);
  });
});

describe('witness routes in a vault (--witness-for)', () => {
  let dataDir: string;
  let vault: Vault;
  let app: FastifyInstance;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'custodia-vault-witness-'));
    vault = await createVault(resolveConfig({ dataDir, logLevel: 'silent', ledger: { witnessFor: [`${ORIGIN}=${logKey.verifierKey}`], witnessName: 'vault.example/witness' } }), { identity: { scrypt: { logN: 4, r: 8, p: 1 } } });
    app = buildServer(vault);
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await vault.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves add-checkpoint under /witness with its own 0x04 key from <data-dir>/keys', async () => {
    expect(vault.witness?.verifierKey).toMatch(/^vault\.example\/witness\+[0-9a-f]{8}\+/);
    const ok = await app.inject({ method: 'POST', url: '/witness/add-checkpoint', payload: body(0, 7), headers: { 'content-type': 'text/plain' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toMatch(/^— vault\.example\/witness /);
    const conflict = await app.inject({ method: 'POST', url: '/witness/add-checkpoint', payload: body(0, 9) });
    expect([conflict.statusCode, conflict.headers['content-type'], conflict.body]).toEqual([409, 'text/x.tlog.size', '7\n']);
    const big = await app.inject({ method: 'POST', url: '/witness/add-checkpoint', payload: Buffer.alloc(100 * 1024, 0x61), headers: { 'content-type': 'application/fhir+json' } });
    expect([big.statusCode, big.headers['content-type']]).toEqual([413, 'text/plain; charset=utf-8']);
    // The rest of the vault is as before.
    expect((await app.inject({ method: 'GET', url: '/fhir/metadata' })).statusCode).toBe(200);
  });
});

describe('witness configuration', () => {
  const w = generateNoteKey('witness.example/w1', SIGNATURE_TYPE_COSIGNATURE_V1, seededRandom('cfg'));
  it('splits URL=VKEY and ORIGIN=VKEY where the key is, whatever "=" the rest holds', () => {
    expect(parseWitnessPeer(`https://w.example/a=b/=${w.verifierKey}`)).toEqual({ url: 'https://w.example/a=b', vkey: w.verifierKey });
    expect(parseWitnessedLog(`odd=origin/ledger=${logKey.verifierKey}`)).toEqual({ origin: 'odd=origin/ledger', vkey: logKey.verifierKey });
  });
  it('refuses the wrong key type, bad URLs and origins, and bad quorums', () => {
    expect(() => parseWitnessPeer(`https://w.example=${logKey.verifierKey}`)).toThrow(/0x04/);
    expect(() => parseWitnessedLog(`${ORIGIN}=${w.verifierKey}`)).toThrow(/0x01/);
    expect(() => parseWitnessPeer(`ftp://w.example=${w.verifierKey}`)).toThrow(/http/);
    expect(() => parseWitnessPeer(`https://w.example?x=1=${w.verifierKey}`)).toThrow(/query/);
    expect(() => parseWitnessPeer('https://w.example=garbage')).toThrow(/URL=VKEY/);
    expect(() => parseWitnessedLog(`with space=${logKey.verifierKey}`)).toThrow(/origin/);
    const spec = `https://w.example=${w.verifierKey}`;
    expect(resolveConfig({ ledger: { witnesses: [spec] } }).ledger).toMatchObject({ witnessQuorum: 1, witnesses: [{ url: 'https://w.example' }] });
    expect(() => resolveConfig({ ledger: { witnesses: [spec], witnessQuorum: '2' } })).toThrow(/quorum/);
    expect(() => resolveConfig({ ledger: { witnesses: [spec], witnessQuorum: '0' } })).toThrow(/quorum/);
    expect(() => resolveConfig({ ledger: { witnessQuorum: 1 } })).toThrow(/at least one --witness/);
    expect(() => resolveConfig({ ledger: { witnesses: [spec, `https://other.example=${w.verifierKey}`] } })).toThrow(/twice/);
  });
});
