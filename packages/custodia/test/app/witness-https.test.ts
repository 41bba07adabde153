/**
 * A witness over TLS (issue 5 §3), in process: the standalone witness server with a
 * self-signed certificate made in the test (`custodia witness serve --tls-self-signed`)
 * on loopback, and the log's collector with the default transport. Pinned to that
 * certificate (`--witness-ca`) it gets cosignatures; pinned to another CA, or left with
 * the system's roots, the handshake fails and nothing is stored. Config refuses a
 * plain-http witness beyond loopback unless told otherwise.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom, systemClock } from '../../src/kernel/index.js';
import { formatSignedNote, generateNoteKey, hashLeaf, merkleRoot, ed25519NoteSigner, signCheckpoint, SIGNATURE_TYPE_ED25519, SIGNATURE_TYPE_COSIGNATURE_V1, type CosignatureStore, type StoredCheckpoint, type StoredCosignature } from '../../src/ledger/index.js';
import { CosignatureCollector, ensureSelfSignedCertificate, openWitnessNode, prepareWitnessTls, resolveConfig, resolveWitnessNodeConfig, witnessPlainHttpWarning, type CosignatureReport, type WitnessService } from '../../src/app/index.js';
import { buildWitnessServer } from '../../src/server/index.js';

const ORIGIN = 'log.example/ledger';
const logKey = generateNoteKey(ORIGIN, SIGNATURE_TYPE_ED25519, seededRandom('https-log'));
const leaves = Array.from({ length: 8 }, (_, i) => hashLeaf(Buffer.from(`entry ${i}`)));
const checkpoint = (size: number): StoredCheckpoint => ({ size, note: formatSignedNote(signCheckpoint({ origin: ORIGIN, size, rootHash: merkleRoot(leaves.slice(0, size)), extensions: [] }, [ed25519NoteSigner(logKey.privateKey)])), at: size });
const source = { consistencyProof: async (): Promise<Buffer[]> => [] };

class MemoryCosignatures implements CosignatureStore {
  readonly rows: StoredCosignature[] = [];
  async add(c: StoredCosignature): Promise<void> {
    this.rows.push(c);
  }
  async at(size: number): Promise<StoredCosignature[]> {
    return this.rows.filter((r) => r.size === size);
  }
  async latestSizes(): Promise<Map<string, number>> {
    return new Map();
  }
  async quorumSizes(): Promise<number[]> {
    return [];
  }
  async scan(): Promise<StoredCosignature[]> {
    return [];
  }
}

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'custodia-witness-https-'));
  dirs.push(d);
  return d;
};

let witness: WitnessService;
let app: FastifyInstance;
let url: string;
let witnessCa: Buffer;

beforeAll(async () => {
  const config = resolveWitnessNodeConfig({ dataDir: tempDir(), port: 0, name: 'witness.example/tls', logs: [`${ORIGIN}=${logKey.verifierKey}`], tlsSelfSigned: true });
  const tls = (await prepareWitnessTls(config, systemClock, seededRandom('https-tls')))!;
  expect(tls.selfSigned).toBe(true);
  witnessCa = tls.cert;
  witness = openWitnessNode(config, systemClock, seededRandom('https-witness'));
  app = buildWitnessServer(witness, { tls });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  url = `https://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
});

afterAll(async () => {
  await app?.close();
  witness?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function submit(ca: Buffer | undefined): Promise<{ store: MemoryCosignatures; reports: CosignatureReport[] }> {
  const store = new MemoryCosignatures();
  const reports: CosignatureReport[] = [];
  const c = new CosignatureCollector(source, store, [{ url, vkey: witness.verifierKey }], { clock: systemClock, minBackoffMs: 60_000, timeoutMs: 5000, ...(ca === undefined ? {} : { ca }) });
  c.onReport((r) => reports.push(r));
  c.notify(checkpoint(4));
  await c.idle();
  await c.stop();
  return { store, reports };
}

describe('witness over HTTPS', () => {
  it('cosigns for a log that pins its certificate with --witness-ca', async () => {
    const { store, reports } = await submit(witnessCa);
    expect(reports.map((r) => r.event)).toEqual(['cosigned']);
    expect(store.rows.map((r) => r.size)).toEqual([4]);
  });

  it('is refused in the handshake by a log pinned to another CA, or trusting only the system roots', async () => {
    const other = tempDir();
    const made = await ensureSelfSignedCertificate({ certFile: join(other, 'other.crt'), keyFile: join(other, 'other.key') }, systemClock, seededRandom('other-ca'));
    for (const ca of [readFileSync(made.certFile), undefined]) {
      const { store, reports } = await submit(ca);
      expect(reports.map((r) => r.event)).toEqual(['unreachable']);
      expect(store.rows).toEqual([]);
    }
  });

  it('says nothing about plain HTTP once it serves TLS, and takes TLS options as `custodia serve` does', () => {
    const dataDir = tempDir();
    expect(witnessPlainHttpWarning(resolveWitnessNodeConfig({ dataDir, host: '0.0.0.0', tlsSelfSigned: true }))).toBeUndefined();
    expect(witnessPlainHttpWarning(resolveWitnessNodeConfig({ dataDir, host: '0.0.0.0' }))).toMatch(/plain HTTP/);
    expect(() => resolveWitnessNodeConfig({ dataDir, tlsCert: join(dataDir, 'c.pem') })).toThrow(/needs both --tls-cert and --tls-key/);
    expect(() => resolveWitnessNodeConfig({ dataDir, tlsCert: 'c.pem', tlsKey: 'k.pem', tlsSelfSigned: true })).toThrow(/not both/);
  });

  it('refuses a plain-http witness beyond loopback unless --witness-insecure-http, and --witness-ca without an https witness', () => {
    const wit = generateNoteKey('witness.example/w', SIGNATURE_TYPE_COSIGNATURE_V1, seededRandom('https-peer')).verifierKey;
    const dataDir = tempDir();
    const ledger = (l: object) => resolveConfig({ dataDir, ledger: l });
    expect(() => ledger({ witnesses: [`http://witness.example/w=${wit}`] })).toThrow(/plain HTTP beyond loopback/);
    expect(ledger({ witnesses: [`http://witness.example/w=${wit}`], witnessInsecureHttp: true }).ledger.witnesses).toHaveLength(1);
    for (const local of ['http://127.0.0.1:9', 'http://localhost:9', 'http://[::1]:9']) expect(ledger({ witnesses: [`${local}=${wit}`] }).ledger.witnesses).toHaveLength(1);
    expect(() => ledger({ witnesses: [`http://127.0.0.1:9=${wit}`], witnessCa: 'ca.pem' })).toThrow(/give at least one https --witness/);
    expect(ledger({ witnesses: [`https://witness.example/w=${wit}`], witnessCa: 'ca.pem' }).ledger.witnessCaFile).toBe(join(process.cwd(), 'ca.pem'));
  });
});
