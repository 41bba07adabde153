/**
 * The client CRL file of mutual TLS (app/tls-crl.ts; RFC 5280 §5, §6.3.3): lists made by
 * real test CAs (@peculiar/x509), checked before OpenSSL is given them. Anything that would
 * make OpenSSL refuse every client of a CA — a list of no CA of ours, one signed by an
 * impostor under our CA's name, one not yet or no longer current, one without nextUpdate, a
 * CA left without a list — is a configuration error naming what to fix.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CRL_FILE_BYTES, readClientCrls } from '../../src/app/tls-crl.js';
import { createTestCa, type Issued, type TestCa } from '../helpers/test-pki.js';
import { threadModule } from '../../src/store/index.js';

const HOUR = 3600_000;

describe('client CRLs of mutual TLS', () => {
  let dir: string;
  let ca: TestCa;
  let second: TestCa;
  let impostor: TestCa;
  let leaf: Issued;
  const now = Date.now();
  const file = (name: string, content: string | Buffer): string => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  };
  const bundle = (...cas: TestCa[]): Buffer => Buffer.from(cas.map((c) => c.cert).join(''));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'custodia-crl-'));
    ca = await createTestCa('Client CA');
    second = await createTestCa('Second Client CA');
    impostor = await createTestCa('Client CA'); // the same name, another key
    leaf = await ca.issue([{ CN: ['lab-system'] }]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the current list of each CA, PEM or DER, and reports the earliest nextUpdate', async () => {
    const soon = new Date(now + 2 * HOUR);
    const pem = `${await ca.revoke([leaf], { nextUpdate: soon })}${await second.revoke([])}`;
    const read = await readClientCrls(file('both.pem', pem), bundle(ca, second), now);
    expect(read.nextUpdate.getTime()).toBe(Math.floor(soon.getTime() / 1000) * 1000);
    expect(read.pem.toString().match(/BEGIN X509 CRL/g)).toHaveLength(2);
    // What OpenSSL is given holds the revocation.
    const first = new x509.X509Crl(read.pem.toString().split('-----END X509 CRL-----')[0]! + '-----END X509 CRL-----');
    expect(first.findRevoked(new x509.X509Certificate(leaf.cert))).not.toBeNull();

    const der = Buffer.from(new x509.X509Crl(await ca.revoke([])).rawData);
    const fromDer = await readClientCrls(file('one.crl', der), bundle(ca), now);
    expect(fromDer.pem.toString()).toMatch(/^-----BEGIN X509 CRL-----\n/);
  });

  it('takes a list longer than asn1js\'s default node limit (10,000 nodes: about 2,500 revocations)', { timeout: 60_000 }, async () => {
    const signingKey = await webcrypto.subtle.importKey('pkcs8', Buffer.from(ca.key.replace(/-----[^-]+-----|\s/g, ''), 'base64'), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    const entries = Array.from({ length: 4000 }, (_, i) => ({ serialNumber: (0x100000 + i).toString(16), revocationDate: new Date(now - HOUR) }));
    const long = await x509.X509CrlGenerator.create({ issuer: new x509.X509Certificate(ca.cert).subject, thisUpdate: new Date(now - HOUR), nextUpdate: new Date(now + HOUR), signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' }, signingKey, entries }, webcrypto as never);
    const read = await readClientCrls(file('long.crl', Buffer.from(long.rawData)), bundle(ca), now);
    expect(new x509.X509Crl(read.pem.toString(), { berOptions: { maxNodes: 100_000 } }).findRevoked((0x100000 + 3999).toString(16))).not.toBeNull();
  });

  // A CA's list changes daily or hourly; checking one of 5,000 revocations takes 0.3–0.6 s.
  it.skipIf(threadModule('crl-check-thread', 'app') === undefined)('checks a changed list in a worker thread: the event loop keeps serving meanwhile', { timeout: 120_000 }, async () => {
    const signingKey = await webcrypto.subtle.importKey('pkcs8', Buffer.from(ca.key.replace(/-----[^-]+-----|\s/g, ''), 'base64'), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    const entries = Array.from({ length: 5_000 }, (_, i) => ({ serialNumber: (0x200000 + i).toString(16), revocationDate: new Date(now - HOUR) }));
    const big = await x509.X509CrlGenerator.create({ issuer: new x509.X509Certificate(ca.cert).subject, thisUpdate: new Date(now - HOUR), nextUpdate: new Date(now + HOUR), signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' }, signingKey, entries }, webcrypto as never);
    const path = file('big.crl', Buffer.from(big.rawData));
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(performance.now()), 5);
    const started = performance.now();
    const read = await readClientCrls(path, bundle(ca), now);
    const took = performance.now() - started;
    clearInterval(timer);
    const gaps = ticks.map((t, i) => t - (i === 0 ? started : ticks[i - 1]!));
    // In this thread the parse alone held the loop for most of the check (one gap of about its length).
    expect(Math.max(...gaps), `longest gap of ${ticks.length} ticks in ${took.toFixed(0)} ms`).toBeLessThan(Math.max(took / 2, 100));
    expect(ticks.length).toBeGreaterThan(10);
    expect(read.pem.toString()).toContain('-----BEGIN X509 CRL-----');
    // A bad list is reported from the worker with the same message as in this thread.
    await expect(readClientCrls(file('big-other.pem', await second.revoke([])), bundle(ca), now)).rejects.toThrow(/issuer CN=Second Client CA\) is not signed by any CA of --tls-client-ca/);
    // A list too large for the worker's heap ends the worker, not this process: refused like a bad list.
    await expect(readClientCrls(path, bundle(ca), now, undefined, 16)).rejects.toMatchObject({ code: 'config-invalid', message: expect.stringMatching(/big\.crl could not be checked \(.*memory/i) });
  });

  it('refuses a file that is not a CRL, and one larger than the limit without reading it', async () => {
    await expect(readClientCrls(file('junk.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), bundle(ca), now)).rejects.toThrow(/holds no PEM CRL/);
    await expect(readClientCrls(file('junk.der', Buffer.from('not DER at all')), bundle(ca), now)).rejects.toThrow(/CRL 1 of .* is not a certificate revocation list/);
    await expect(readClientCrls(file('bad.pem', '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n'), bundle(ca), now)).rejects.toThrow(/is not a certificate revocation list/);
    await expect(readClientCrls(join(dir, 'missing.pem'), bundle(ca), now)).rejects.toThrow(/cannot be read/);
    const huge = file('huge.crl', '');
    truncateSync(huge, MAX_CRL_FILE_BYTES + 1); // sparse: nothing is written
    await expect(readClientCrls(huge, bundle(ca), now)).rejects.toThrow(/larger than 64 MiB/);
  });

  it('refuses a list no CA of --tls-client-ca signed, even under its name', async () => {
    await expect(readClientCrls(file('other.pem', await second.revoke([])), bundle(ca), now)).rejects.toThrow(/issuer CN=Second Client CA\) is not signed by any CA of --tls-client-ca/);
    await expect(readClientCrls(file('forged.pem', await impostor.revoke([])), bundle(ca), now)).rejects.toThrow(/issuer CN=Client CA\) is not signed by any CA/);
  });

  it('refuses a list not yet or no longer current, or without nextUpdate', async () => {
    const expired = await ca.revoke([], { thisUpdate: new Date(now - 3 * HOUR), nextUpdate: new Date(now - HOUR) });
    await expect(readClientCrls(file('expired.pem', expired), bundle(ca), now)).rejects.toThrow(/expired at .*fetch a fresh one/);
    const future = await ca.revoke([], { thisUpdate: new Date(now + HOUR), nextUpdate: new Date(now + 3 * HOUR) });
    await expect(readClientCrls(file('future.pem', future), bundle(ca), now)).rejects.toThrow(/is not valid before/);
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const self = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=Open-ended CA', notBefore: new Date(now - HOUR), notAfter: new Date(now + HOUR), keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } }, webcrypto as never);
    const open = await x509.X509CrlGenerator.create({ issuer: self.subject, thisUpdate: new Date(now - HOUR), signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' }, signingKey: keys.privateKey }, webcrypto as never);
    const openPem = open.toString('pem').replace(/-----(BEGIN|END) CRL-----/g, '-----$1 X509 CRL-----');
    await expect(readClientCrls(file('open.pem', openPem), Buffer.from(self.toString('pem')), now)).rejects.toThrow(/has no nextUpdate/);
  });

  it('refuses a file that leaves a CA of --tls-client-ca without its list', async () => {
    await expect(readClientCrls(file('half.pem', await ca.revoke([])), bundle(ca, second), now)).rejects.toThrow(/has no CRL of CN=Second Client CA, a CA of --tls-client-ca/);
  });

  it('does not parse an unchanged file again while its lists are current, and does once it changes or they expire', async () => {
    const path = file('kept.pem', await ca.revoke([]));
    const first = await readClientCrls(path, bundle(ca), now);
    expect(await readClientCrls(path, bundle(ca), now + HOUR, first)).toBe(first);
    // Other CAs: checked again (and refused here, as the second CA has no list).
    await expect(readClientCrls(path, bundle(ca, second), now + HOUR, first)).rejects.toThrow(/has no CRL of CN=Second Client CA/);
    // Past nextUpdate the same bytes are refused, not served from the last check.
    await expect(readClientCrls(path, bundle(ca), now + 25 * HOUR, first)).rejects.toThrow(/expired at/);
    writeFileSync(path, await ca.revoke([leaf]));
    const changed = await readClientCrls(path, bundle(ca), now + HOUR, first);
    expect(changed).not.toBe(first);
    expect(changed.pem.equals(first.pem)).toBe(false);
    expect(readFileSync(path).equals(changed.checked.file)).toBe(true);
  });
});
