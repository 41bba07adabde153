/**
 * `custodia witness` and the witness flags of `custodia serve`, as an operator runs them
 * (the built binary): a missing key, a log given with a witness's key type, a bad quorum
 * and a malformed URL=VKEY are one-line errors with exit 2; `witness vkey` prints the key
 * the first start created, for a standalone witness and a vault's data directory alike.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom, secureRandom } from '../../src/kernel/index.js';
import { formatVerifierKey, generateNoteKey, SIGNATURE_TYPE_COSIGNATURE_V1, SIGNATURE_TYPE_ED25519 } from '../../src/ledger/index.js';
import { loadWitnessKey } from '../../src/store/index.js';
import { expectOneLineError, runCustodia } from '../helpers/spawn-cli.js';

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

describe('custodia serve witness flags', () => {
  it('refuses a quorum larger than the witnesses, a log key as a witness key, and --witness-for with a witness key', () => {
    const dir = tempDir();
    const w = `http://127.0.0.1:9/=${wit.verifierKey}`;
    expectOneLineError(runCustodia(['serve', '--data-dir', dir, '--port', '0', '--witness', w, '--witness-quorum', '2']), /--witness-quorum must be a whole number from 1 to the number of witnesses \(1\)/);
    expectOneLineError(runCustodia(['serve', '--data-dir', dir, '--port', '0', '--witness', `http://127.0.0.1:9=${log.verifierKey}`]), /0x04/);
    expectOneLineError(runCustodia(['serve', '--data-dir', dir, '--port', '0', '--witness-for', `hospital.example/ledger=${wit.verifierKey}`]), /type 0x01/);
    expectOneLineError(runCustodia(['serve', '--data-dir', dir, '--port', '0', '--witness-quorum', '1']), /needs at least one --witness/);
  });
});
