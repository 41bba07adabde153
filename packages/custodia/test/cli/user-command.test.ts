/**
 * `custodia user|client|role` as operators run them: the built binary in a child process
 * (`npm test` builds first). What a command wrote is checked through the app layer
 * against the same database.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createIdentityService, openVaultDatabase, resolveConfig, type IdentityService } from '../../src/app/index.js';
import { systemClock, seededRandom } from '../../src/kernel/index.js';
import { createTestDatabase, isAvailable } from '../helpers/databases.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const BIN = fileURLToPath(new URL('../../bin/custodia.mjs', import.meta.url));
const tempDir = tempDirs('custodia-user-cli-');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], input?: string): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input: input ?? '', env: { ...process.env, CUSTODIA_DATABASE_URL: '' }, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A usage error: exit 2, one line on stderr, no stack trace. */
function expectUsageError(r: Run): void {
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe('');
}

/** The identity service over a data directory's database (production scrypt, as the CLI used). */
async function withService<T>(dataDir: string, fn: (s: IdentityService) => Promise<T>, database?: { database: string; schema?: string }): Promise<T> {
  const config = resolveConfig({ dataDir, ...(database === undefined ? {} : { database: database.database }), ...(database?.schema === undefined ? {} : { postgresSchema: database.schema }) });
  const db = await openVaultDatabase(config);
  try {
    return await fn(createIdentityService(db, systemClock, seededRandom('cli-check')));
  } finally {
    await db.close();
  }
}

const PASSWORD = 'a ward round at dawn';

describe('custodia user', () => {
  it('is listed in the help with client and role', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['user', 'client', 'role']) expect(r.stdout).toContain(c);
  });

  it('adds a user with a generated password printed once, which signs in', async () => {
    const d = tempDir();
    const r = run(['user', 'add', '--data-dir', d, '--username', 'Alice', '--role', 'clinician', '--fhir-user', 'Practitioner/p-1']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^User alice added: role clinician, fhirUser Practitioner\/p-1, id [0-9a-f-]{36}\.\n/);
    const m = /Password \(shown once; store it now\): (\S+)\n$/.exec(r.stdout);
    expect(m).not.toBeNull();
    const password = m![1]!;
    expect(r.stdout.split(password)).toHaveLength(2); // printed exactly once
    await withService(d, async (s) => {
      const login = await s.authenticate('alice', password, '127.0.0.1');
      expect(login.user).toMatchObject({ username: 'alice', role: 'clinician', fhirUser: 'Practitioner/p-1' });
    });
  });

  it('reads the password from one line of stdin and never echoes it', async () => {
    const d = tempDir();
    const r = run(['user', 'add', '--data-dir', d, '--username', 'bob', '--role', 'nurse', '--password-stdin'], `${PASSWORD}\r\nignored second line\n`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^User bob added: role nurse, id /);
    expect(r.stdout).not.toContain('Password');
    expect(`${r.stdout}${r.stderr}`).not.toContain(PASSWORD);
    await withService(d, async (s) => {
      expect((await s.authenticate('bob', PASSWORD, '127.0.0.1')).user.username).toBe('bob');
    });
  });

  it('refuses policy violations, duplicates and bad input with exit 2 and one line', () => {
    const d = tempDir();
    expect(run(['user', 'add', '--data-dir', d, '--username', 'carol', '--role', 'admin', '--password-stdin'], `${PASSWORD}\n`).code).toBe(0);

    const duplicate = run(['user', 'add', '--data-dir', d, '--username', 'CAROL', '--role', 'nurse']);
    expectUsageError(duplicate);
    expect(duplicate.stderr).toMatch(/already exists/);

    for (const weak of ['tiny-pw', 'password1234', 'aaaaaaaaaaaaaaaa', 'dave-and-dave-again']) {
      const r = run(['user', 'add', '--data-dir', d, '--username', 'dave', '--role', 'nurse', '--password-stdin'], `${weak}\n`);
      expectUsageError(r);
      expect(r.stderr).not.toContain(weak);
    }
    const empty = run(['user', 'add', '--data-dir', d, '--username', 'dave', '--role', 'nurse', '--password-stdin'], '');
    expectUsageError(empty);

    expectUsageError(run(['user', 'add', '--data-dir', d, '--username', 'dave', '--role', 'surgeon']));
    expectUsageError(run(['user', 'add', '--data-dir', d, '--username', 'dave', '--role', 'patient', '--fhir-user', 'Practitioner/x']));
    expectUsageError(run(['user', 'add', '--data-dir', d, '--username', 'dave', '--role', 'nurse', '--fhir-user', 'Patient']));
    expectUsageError(run(['user', 'add', '--data-dir', d, '--username', 'no spaces please', '--role', 'nurse']));
    expectUsageError(run(['user', 'add', '--data-dir', d, '--role', 'nurse']));
    expectUsageError(run(['user', 'disable', '--data-dir', d, '--username', 'nobody']));
    expectUsageError(run(['user', 'reset-mfa', '--data-dir', d, '--username', 'nobody']));
  });

  it('disables and re-enables a user', async () => {
    const d = tempDir();
    run(['user', 'add', '--data-dir', d, '--username', 'erin', '--role', 'privacy-officer', '--password-stdin'], `${PASSWORD}\n`);
    const r = run(['user', 'disable', '--data-dir', d, '--username', 'Erin']);
    expect(r).toMatchObject({ code: 0, stdout: 'User erin disabled.\n' });
    await withService(d, async (s) => {
      await expect(s.authenticate('erin', PASSWORD, '127.0.0.1')).rejects.toMatchObject({ code: 'login-failed' });
    });
    expect(run(['user', 'enable', '--data-dir', d, '--username', 'erin']).code).toBe(0);
    await withService(d, async (s) => {
      expect((await s.authenticate('erin', PASSWORD, '127.0.0.1')).user.status).toBe('active');
    });
  });

  it('resets a second factor', async () => {
    const d = tempDir();
    run(['user', 'add', '--data-dir', d, '--username', 'fay', '--role', 'patient', '--fhir-user', 'Patient/123', '--password-stdin'], `${PASSWORD}\n`);
    const { totpAt, base32Decode } = await import('../../src/access/index.js');
    await withService(d, async (s) => {
      const u = (await s.getUserByUsername('fay'))!;
      const e = await s.enrollTotp(u.id);
      await s.confirmTotp(u.id, totpAt(base32Decode(e.secret)!, Date.now()));
      expect((await s.getUser(u.id))?.mfaEnrolled).toBe(true);
    });
    const r = run(['user', 'reset-mfa', '--data-dir', d, '--username', 'fay']);
    expect(r).toMatchObject({ code: 0, stdout: 'Second factor of user fay reset.\n' });
    await withService(d, async (s) => {
      expect((await s.getUserByUsername('fay'))?.mfaEnrolled).toBe(false);
    });
  });

  it('sets a new password, generated or from stdin, under the same policy, and lifts a lockout', async () => {
    const d = tempDir();
    run(['user', 'add', '--data-dir', d, '--username', 'gil', '--role', 'nurse', '--password-stdin'], `${PASSWORD}\n`);
    const generated = run(['user', 'set-password', '--data-dir', d, '--username', 'gil']);
    expect(generated.code).toBe(0);
    const fresh = /^Password of user gil set\.\nPassword \(shown once; store it now\): (\S+)\n$/.exec(generated.stdout)![1]!;
    await withService(d, async (s) => {
      await expect(s.authenticate('gil', PASSWORD, '127.0.0.1')).rejects.toMatchObject({ code: 'login-failed' });
      expect((await s.authenticate('gil', fresh, '127.0.0.1')).user.username).toBe('gil');
    });
    const chosen = 'another long enough passphrase 7';
    const r = run(['user', 'set-password', '--data-dir', d, '--username', 'gil', '--password-stdin'], `${chosen}\n`);
    expect(r).toMatchObject({ code: 0, stdout: 'Password of user gil set.\n' });
    expect(r.stdout + r.stderr).not.toContain(chosen);
    await withService(d, async (s) => expect((await s.authenticate('gil', chosen, '127.0.0.1')).user.username).toBe('gil'));
    expectUsageError(run(['user', 'set-password', '--data-dir', d, '--username', 'gil', '--password-stdin'], 'short\n'));
    expectUsageError(run(['user', 'set-password', '--data-dir', d, '--username', 'nobody']));
  });
});

describe('custodia client and role', () => {
  it('registers confidential, public and key-based clients', async () => {
    const d = tempDir();
    const conf = run(['client', 'add', '--data-dir', d, '--client-id', 'ehr', '--name', 'EHR', '--redirect-uri', 'https://ehr.example/cb', '--redirect-uri', 'https://ehr.example/cb2', '--scope', 'openid user/*.rs']);
    expect(conf.code).toBe(0);
    expect(conf.stdout).toMatch(/^Client ehr added: confidential-symmetric \(client_secret_basic\)\.\n/);
    const secret = /Client secret \(shown once; store it now\): (\S+)\n$/.exec(conf.stdout)![1]!;

    const pub = run(['client', 'add', '--data-dir', d, '--client-id', 'portal', '--name', 'Patient portal', '--public', '--redirect-uri', 'http://127.0.0.1:5173/cb']);
    expect(pub).toMatchObject({ code: 0, stdout: 'Client portal added: public (none).\n' });

    const jwksFile = join(d, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-384', kid: 'k1', x: 'ZqOVmbGLqqOPNVbV6TtGAjHuijBlxw-aSJLzqHVG2mkqC6P2IDFHxuVLIGH_Tq4R', y: 'Nf81l3ReMHgGsfODyZQLaS9ljVy3tjOQgDpDoAd6Rk7pA0TPBgZv9bOiF-f0Gk8M' }] }));
    const asym = run(['client', 'add', '--data-dir', d, '--client-id', 'bulk', '--name', 'Bulk export', '--jwks-file', jwksFile, '--scope', 'system/*.rs']);
    expect(asym).toMatchObject({ code: 0, stdout: 'Client bulk added: confidential-asymmetric (private_key_jwt).\n' });
    const byUri = run(['client', 'add', '--data-dir', d, '--client-id', 'svc', '--name', 'Service', '--jwks-uri', 'https://svc.example/jwks.json']);
    expect(byUri.code).toBe(0);

    await withService(d, async (s) => {
      expect((await s.authenticateClientSecret('ehr', secret)).redirectUris).toEqual(['https://ehr.example/cb', 'https://ehr.example/cb2']);
      expect((await s.getClient('portal'))?.kind).toBe('public');
      expect((await s.getClient('bulk'))?.jwks?.keys[0]?.['kid']).toBe('k1');
      expect((await s.getClient('svc'))?.jwksUri).toBe('https://svc.example/jwks.json');
    });

    const privateFile = join(d, 'private.json');
    writeFileSync(privateFile, JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'private-part' }] }));
    const refused = run(['client', 'add', '--data-dir', d, '--client-id', 'leaky', '--name', 'Leaky', '--jwks-file', privateFile]);
    expectUsageError(refused);
    expect(refused.stderr).not.toContain('private-part');
    expectUsageError(run(['client', 'add', '--data-dir', d, '--client-id', 'ehr', '--name', 'Again']));
    expectUsageError(run(['client', 'add', '--data-dir', d, '--client-id', 'x', '--name', 'X', '--public']));
    expectUsageError(run(['client', 'add', '--data-dir', d, '--client-id', 'x', '--name', 'X', '--redirect-uri', 'http://evil.example/cb']));
    expectUsageError(run(['client', 'add', '--data-dir', d, '--client-id', 'x', '--name', 'X', '--jwks-file', join(d, 'missing.json')]));
  });

  it('sets a role policy', async () => {
    const d = tempDir();
    expect(run(['role', 'require-mfa', '--data-dir', d, '--role', 'admin'])).toMatchObject({ code: 0, stdout: 'Role admin: second factor required.\n' });
    await withService(d, async (s) => expect(await s.getRolePolicy('admin')).toEqual({ mfaRequired: true }));
    expect(run(['role', 'require-mfa', '--data-dir', d, '--role', 'admin', '--off']).stdout).toBe('Role admin: second factor not required.\n');
    expectUsageError(run(['role', 'require-mfa', '--data-dir', d, '--role', 'janitor']));
  });

  it.skipIf(!isAvailable('postgres'))('works on PostgreSQL with --database and --schema', async () => {
    const pg = await createTestDatabase('postgres');
    const d = tempDir();
    try {
      const args = ['--data-dir', d, '--database', pg.options.database, '--schema', pg.options.schema!];
      expect(run(['user', 'add', ...args, '--username', 'gus', '--role', 'admin', '--password-stdin'], `${PASSWORD}\n`).code).toBe(0);
      expectUsageError(run(['user', 'add', ...args, '--username', 'gus', '--role', 'admin']));
      await withService(d, async (s) => expect((await s.authenticate('gus', PASSWORD, '127.0.0.1')).user.role).toBe('admin'), pg.options);
    } finally {
      await pg.cleanup();
    }
  });
});

describe('the operator log', () => {
  it('records every account, client, role and token command, without passwords, secrets or tokens', async () => {
    const d = tempDir();
    const added = run(['user', 'add', '--data-dir', d, '--username', 'olga', '--role', 'clinician', '--fhir-user', 'Practitioner/olga']);
    expect(added.code).toBe(0);
    const password = /Password \(shown once; store it now\): (\S+)/.exec(added.stdout)![1]!;
    expect(run(['user', 'disable', '--data-dir', d, '--username', 'olga']).code).toBe(0);
    expect(run(['user', 'enable', '--data-dir', d, '--username', 'olga']).code).toBe(0);
    expect(run(['user', 'reset-mfa', '--data-dir', d, '--username', 'olga']).code).toBe(0);
    const reset = run(['user', 'set-password', '--data-dir', d, '--username', 'olga']);
    expect(reset.code).toBe(0);
    const newPassword = /Password \(shown once; store it now\): (\S+)/.exec(reset.stdout)![1]!;
    expect(run(['role', 'require-mfa', '--data-dir', d, '--role', 'nurse']).code).toBe(0);
    const client = run(['client', 'add', '--data-dir', d, '--client-id', 'ehr', '--name', 'EHR', '--redirect-uri', 'https://ehr.example/cb', '--scope', 'openid user/*.rs']);
    expect(client.code).toBe(0);
    const secret = /Client secret \(shown once; store it now\): (\S+)/.exec(client.stdout)![1]!;
    expect(run(['client', 'disable', '--data-dir', d, '--client-id', 'ehr'])).toMatchObject({ code: 0, stdout: 'Client ehr disabled.\n' });
    expect(run(['client', 'enable', '--data-dir', d, '--client-id', 'ehr'])).toMatchObject({ code: 0, stdout: 'Client ehr enabled.\n' });
    expectUsageError(run(['client', 'disable', '--data-dir', d, '--client-id', 'nobody']));
    const token = run(['token', '--data-dir', d, '--user', 'olga', '--ttl', '5m']);
    expect(token.code).toBe(0);
    // A refused command changes nothing and records nothing.
    expect(run(['user', 'disable', '--data-dir', d, '--username', 'nobody']).code).toBe(2);

    const database = await openVaultDatabase(resolveConfig({ dataDir: d }, {}));
    try {
      const log = (await database.operatorLog.recent(50)).reverse();
      expect(log.map((e) => e.action)).toEqual(['user.add', 'user.disable', 'user.enable', 'user.reset-mfa', 'user.set-password', 'role.require-mfa', 'client.add', 'client.disable', 'client.enable', 'token.mint']);
      expect(log.every((e) => e.actor === 'operator')).toBe(true);
      expect(log[0]!.detail).toMatchObject({ username: 'olga', role: 'clinician', fhirUser: 'Practitioner/olga', via: 'cli' });
      expect(log[4]!.detail).toMatchObject({ username: 'olga', generated: true });
      expect(log[5]!.detail).toMatchObject({ role: 'nurse', required: true });
      expect(log[6]!.detail).toMatchObject({ clientId: 'ehr', scope: 'openid user/*.rs' });
      expect(log[7]!.detail).toMatchObject({ clientId: 'ehr', via: 'cli' });
      expect(log[9]!.detail).toMatchObject({ user: 'olga', kind: 'user', scope: 'user/*.cruds', ttl: 300, jti: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      const text = JSON.stringify(log);
      for (const s of [password, newPassword, secret, token.stdout.trim()]) expect(text).not.toContain(s);
    } finally {
      await database.close();
    }
  });
});
