/**
 * A throwaway PKI for the broker TLS suites, made with the `openssl` command (node:crypto
 * cannot issue X.509 certificates): a CA, a server certificate for localhost and
 * 127.0.0.1 and a client certificate issued by it, and a second, unrelated CA with its
 * own server certificate — the "wrong CA". Keys are EC P-256, written with mode 0600.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The path of a command on PATH (or in /usr/sbin), or undefined. */
export function which(command: string): string | undefined {
  for (const dir of [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/usr/local/sbin']) {
    const p = join(dir, command);
    if (dir !== '' && spawnSync('test', ['-x', p]).status === 0) return p;
  }
  return undefined;
}

export interface TestPki {
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A CA unrelated to caCert, and a localhost server certificate it issued. */
  readonly otherCaCert: string;
  readonly otherServerCert: string;
  readonly otherServerKey: string;
}

const openssl = (dir: string, args: string[]): void => {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
};

function makeCa(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=Custodia test ${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

function issue(dir: string, ca: string, name: string, cn: string, ext: string): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
  chmodSync(join(dir, `${name}.key`), 0o600);
}

const SERVER_EXT = 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n';
const CLIENT_EXT = 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n';

/** A client certificate (and its key, mode 0600) issued by `makeTestPki`'s CA in `dir`, with subject CN `cn`. */
export function issueClientCertificate(dir: string, cn: string): { readonly cert: string; readonly key: string } {
  const name = `client-${cn.replace(/[^A-Za-z0-9-]/g, '_')}`;
  issue(dir, 'ca', name, cn, CLIENT_EXT);
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

/** Makes the PKI in `dir` (an empty temporary directory) and returns the file paths. */
export function makeTestPki(dir: string): TestPki {
  makeCa(dir, 'ca');
  issue(dir, 'ca', 'server', 'localhost', SERVER_EXT);
  issue(dir, 'ca', 'client', 'custodia-vault', CLIENT_EXT);
  makeCa(dir, 'other-ca');
  issue(dir, 'other-ca', 'other-server', 'localhost', SERVER_EXT);
  const p = (f: string): string => join(dir, f);
  return { caCert: p('ca.crt'), serverCert: p('server.crt'), serverKey: p('server.key'), clientCert: p('client.crt'), clientKey: p('client.key'), otherCaCert: p('other-ca.crt'), otherServerCert: p('other-server.crt'), otherServerKey: p('other-server.key') };
}
