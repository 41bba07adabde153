/**
 * SoftHSM2 tokens for the PKCS#11 suites: on when CUSTODIA_TEST_SOFTHSM=1 (`.ci/run` sets it
 * after scripts/install-softhsm.sh), skipped otherwise, and global-setup.ts says so. Each
 * token lives in its own temp directory with its own softhsm2.conf; SoftHSM reads
 * SOFTHSM2_CONF at C_Initialize, so `useToken` points the process at a token right before a
 * provider (or a raw session) opens it.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SOFTHSM_ENABLED = process.env['CUSTODIA_TEST_SOFTHSM'] === '1';
export const SOFTHSM_MODULE = process.env['CUSTODIA_TEST_SOFTHSM_MODULE'] ?? '/usr/lib/softhsm/libsofthsm2.so';

export interface TestToken {
  readonly dir: string;
  readonly conf: string;
  readonly module: string;
  readonly tokenLabel: string;
  readonly pin: string;
  readonly soPin: string;
}

/** The token in `dir`, initialised (softhsm2-util --init-token --free) on first use. */
export function testToken(dir: string, tokenLabel = 'custodia-test'): TestToken {
  const token = { dir, conf: join(dir, 'softhsm2.conf'), module: SOFTHSM_MODULE, tokenLabel, pin: '24681357', soPin: '97531864' };
  if (existsSync(token.conf)) return token;
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens, { recursive: true, mode: 0o700 });
  writeFileSync(token.conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', tokenLabel, '--pin', token.pin, '--so-pin', token.soPin], {
    env: { ...process.env, SOFTHSM2_CONF: token.conf },
    stdio: 'pipe',
  });
  return token;
}

/** Points this process's SoftHSM at `token` (read at the next C_Initialize). */
export function useToken(token: TestToken): void {
  process.env['SOFTHSM2_CONF'] = token.conf;
}

export type Pkcs11js = typeof import('pkcs11js');
export type RawSession = { readonly ck: Pkcs11js; readonly lib: import('pkcs11js').PKCS11; readonly session: Buffer };

/**
 * A logged-in session with `token` straight through pkcs11js, for looking at what the
 * provider left on the token (no provider may be open meanwhile: Cryptoki is per process).
 */
export function withRawSession<T>(token: TestToken, f: (s: RawSession) => T): T {
  useToken(token);
  const ck = createRequire(import.meta.url)('pkcs11js') as Pkcs11js;
  const lib = new ck.PKCS11();
  lib.load(token.module);
  lib.C_Initialize();
  try {
    const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === token.tokenLabel);
    if (slot === undefined) throw new Error(`no token ${token.tokenLabel}`);
    const session = lib.C_OpenSession(slot, ck.CKF_SERIAL_SESSION | ck.CKF_RW_SESSION);
    lib.C_Login(session, ck.CKU_USER, token.pin);
    return f({ ck, lib, session });
  } finally {
    lib.C_Finalize();
    lib.close();
  }
}

/** Handles of the token's secret keys whose label is `label`. */
export function findByLabel({ ck, lib, session }: RawSession, label: string): Buffer[] {
  lib.C_FindObjectsInit(session, [
    { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
    { type: ck.CKA_LABEL, value: label },
  ]);
  try {
    return lib.C_FindObjects(session, 100);
  } finally {
    lib.C_FindObjectsFinal(session);
  }
}
