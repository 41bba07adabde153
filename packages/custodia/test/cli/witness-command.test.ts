/**
 * `custodia witness` and the witness flags of `custodia serve`, as an operator runs them
 * (the built binary): a missing key, a log given with a witness's key type, a bad quorum
 * and a malformed URL=VKEY are one-line errors with exit 2; `witness vkey` prints the key
 * the first start created, for a standalone witness and a vault's data directory alike.
 * `witness serve --tls-self-signed` serves HTTPS that a client pinning its certificate
 * reaches; a plain-http witness beyond loopback and a bad `--witness-ca` are refused.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom, secureRandom } from '../../src/kernel/index.js';
import { formatVerifierKey, generateNoteKey, SIGNATURE_TYPE_COSIGNATURE_V1, SIGNATURE_TYPE_ED25519 } from '../../src/ledger/index.js';
import { loadWitnessKey } from '../../src/store/index.js';
import { CUSTODIA_BIN, expectOneLineError, runCustodia } from '../helpers/spawn-cli.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'custodia-witness-cli-'));
  dirs.push(d);
  return d;
};

const log = generateNoteKey('hospital.example/ledger', SIGNATURE_TYPE_ED25519, seededRandom('cli-log'));
const wit = generateNoteKey('witness.example/w1', SIGNATURE_TYPE_COSIGNATURE_V1, seededRandom('cli-witness'));

describe('custodia witness', () => {
  it('vkey: a one-line error before the first start, the key afterwards', () => {
    const dir = tempDir();
    expectOneLineError(runCustodia(['witness', 'vkey', '--data-dir', dir]), /No witness key in .*start the witness once/);
    const key = loadWitnessKey(dir, { fallback: 'witness.example/cli' }, secureRandom, true);
    const r = runCustodia(['witness', 'vkey', '--data-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${formatVerifierKey(key.name, key.type, key.publicKey)}\n`);
  });

  it('serve: refuses a malformed --log, a witness key for a log, and a name other than the key\'s', () => {
    const dir = tempDir();
    expectOneLineError(runCustodia(['witness', 'serve', '--data-dir', dir, '--port', '0', '--log', 'hospital.example/ledger']), /--log must be ORIGIN=VKEY/);
    expectOneLineError(runCustodia(['witness', 'serve', '--data-dir', dir, '--port', '0', '--log', `hospital.example/ledger=${wit.verifierKey}`]), /type 0x01/);
    loadWitnessKey(dir, { explicit: 'witness.example/first', fallback: 'unused' }, secureRandom, true);
    expectOneLineError(runCustodia(['witness', 'serve', '--data-dir', dir, '--port', '0', '--name', 'witness.example/second', '--log', `hospital.example/ledger=${log.verifierKey}`]), /fixed when its key was created/);
  });
});

describe('custodia witness serve over TLS', () => {
  it('--tls-self-signed: prints an https URL and the fingerprint, and answers a client that pins the certificate', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CUSTODIA_')));
    const child = spawn(process.execPath, [CUSTODIA_BIN, 'witness', 'serve', '--data-dir', dir, '--port', '0', '--tls-self-signed', '--log-level', 'silent', '--log', `hospital.example/ledger=${log.verifierKey}`], { env });
    try {
      let out = '';
      child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          if (/SHA-256 fingerprint: /.test(out)) resolve();
        });
        child.once('exit', (code) => reject(new Error(`witness serve exited with ${code}: ${out}`)));
      });
      expect(out).toMatch(/listening at https:\/\/127\.0\.0\.1:\d+/);
      expect(out).not.toMatch(/WARNING/);
      const port = Number(/https:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);
      const ca = readFileSync(join(dir, 'keys', 'tls', 'localhost.crt'));
      const status = await new Promise<number>((resolve, reject) => get({ host: '127.0.0.1', port, path: '/healthz', ca }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject));
      expect(status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('refuses --tls-cert without --tls-key, and files that cannot be read', () => {
    const dir = tempDir();
    expectOneLineError(runCustodia(['witness', 'serve', '--data-dir', dir, '--port', '0', '--tls-cert', join(dir, 'c.pem')]), /needs both --tls-cert and --tls-key/);
    expectOneLineError(runCustodia(['witness', 'serve', '--data-dir', dir, '--port', '0', '--tls-cert', join(dir, 'missing.pem'), '--tls-key', join(dir, 'missing.key')]), /cannot be read/);
  });
});

describe('custodia serve witness flags', () => {
  it('refuses a quorum larger than the witnesses, a log key as a witness key, and --witness-for with a witness key', () => {
    const dir = tempDir();
    const w = `http://127.0.0.1:9/=${wit.verifierKey}`;
    expectOneLineError(runCustodia(['serve', '--data-dir', dir, '--port', '0', '--witness', w, '--witness-quorum', '2']), /--witness-quorum must be a whole number from 1 to the number of witnesses \(1\)/);
    expectOneLineError(runCustodia(['serve', '--data-dir', dir, '--port', '0', '--witness', `http://127.0.0.1:9=${log.verifierKey}`]), /0x04/);
    expectOneLineError(runCustodia(['serve', '--data-dir', dir, '--port', '0', '--witness-for', `hospital.example/ledger=${wit.verifierKey}`]), /type 0x01/);
    expectOneLineError(runCustodia(['serve', '--data-dir', dir, '--port', '0', '--witness-quorum', '1']), /needs at least one --witness/);
    expectOneLineError(runCustodia(['serve', '--data-dir', dir, '--port', '0', '--witness', `http://witness.example/w1=${wit.verifierKey}`]), /plain HTTP beyond loopback/);
    expectOneLineError(runCustodia(['serve', '--data-dir', dir, '--port', '0', '--witness', `https://witness.example/w1=${wit.verifierKey}`, '--witness-ca', join(dir, 'no-such-ca.pem')]), /witness CA file .* cannot be read/);
  });
});
