/**
 * The self-signed localhost pair of `--tls-self-signed` (app/self-signed-certificate.ts):
 * issued once, kept while it is good, re-issued (same key) when it has expired or is
 * within 30 days of expiring, or when the stored certificate is not one for this key and
 * these names. Time from a ManualClock; the server side is in test/cli/transport-cli.test.ts.
 */
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ManualClock, secureRandom } from '../../src/kernel/index.js';
import { ensureSelfSignedCertificate, RENEW_BEFORE_DAYS, resolveConfig, selfSignedTlsFiles, VALIDITY_DAYS } from '../../src/app/index.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const DAY = 24 * 3600_000;
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const tempDir = tempDirs('custodia-selfsigned-');

const spki = (pem: Buffer): string => new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

describe('self-signed localhost certificate', () => {
  it('lives under <data-dir>/keys/tls, as the configuration says', () => {
    const d = tempDir();
    const config = resolveConfig({ dataDir: d, tlsSelfSigned: true });
    expect(config.tls).toEqual({ ...selfSignedTlsFiles(d), selfSigned: true });
    expect(config.tls!.keyFile).toBe(join(d, 'keys', 'tls', 'localhost.key'));
    expect(config.fhirBaseUrl).toMatch(/^https:\/\/127\.0\.0\.1:8080\/fhir$/);
    expect(resolveConfig({ dataDir: d }, { CUSTODIA_TLS_SELF_SIGNED: 'true' }).tls?.selfSigned).toBe(true);
    expect(resolveConfig({ dataDir: d }, { CUSTODIA_TLS_SELF_SIGNED: '0' }).tls).toBeUndefined();
    // It is TLS: a non-loopback address may serve it.
    expect(resolveConfig({ dataDir: d, host: '0.0.0.0', tlsSelfSigned: true }).tls).toBeDefined();
  });

  it('is issued once, for 90 days, and kept while more than 30 days are left', async () => {
    const files = selfSignedTlsFiles(tempDir());
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const first = await ensureSelfSignedCertificate(files, clock, secureRandom);
    expect(first.issued).toBe(true);
    expect(statSync(files.keyFile).mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(readFileSync(files.certFile));
    expect(cert.fingerprint256).toBe(first.fingerprint);
    expect(Date.parse(cert.validTo)).toBe(Date.UTC(2030, 0, 1) + VALIDITY_DAYS * DAY);
    expect(Date.parse(cert.validFrom)).toBeLessThan(Date.UTC(2030, 0, 1));
    expect(cert.subject).toBe('CN=localhost');
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.verify(cert.publicKey)).toBe(true);

    clock.set(Date.UTC(2030, 0, 1) + (VALIDITY_DAYS - RENEW_BEFORE_DAYS - 1) * DAY);
    const kept = await ensureSelfSignedCertificate(files, clock, secureRandom);
    expect(kept).toMatchObject({ issued: false, fingerprint: first.fingerprint });
  });

  it('is re-issued with the same key when it nears expiry or has expired', async () => {
    const files = selfSignedTlsFiles(tempDir());
    const start = Date.UTC(2030, 0, 1);
    const clock = new ManualClock(start);
    const first = await ensureSelfSignedCertificate(files, clock, secureRandom);
    const key = spki(readFileSync(files.certFile));

    clock.set(start + (VALIDITY_DAYS - RENEW_BEFORE_DAYS + 1) * DAY);
    const renewed = await ensureSelfSignedCertificate(files, clock, secureRandom);
    expect(renewed.issued).toBe(true);
    expect(renewed.fingerprint).not.toBe(first.fingerprint);
    expect(renewed.notAfter.getTime()).toBe(clock.now() + VALIDITY_DAYS * DAY);
    expect(spki(readFileSync(files.certFile))).toBe(key);

    clock.set(start + 10 * VALIDITY_DAYS * DAY);
    const afterExpiry = await ensureSelfSignedCertificate(files, clock, secureRandom);
    expect(afterExpiry.issued).toBe(true);
    expect(spki(readFileSync(files.certFile))).toBe(key);
  });

  it('replaces a stored certificate that is not for its key, and a file that is not a certificate', async () => {
    const files = selfSignedTlsFiles(tempDir());
    const clock = new ManualClock(Date.now());
    await ensureSelfSignedCertificate(files, clock, secureRandom);
    // Another key's certificate (the committed test fixture), valid for a century.
    copyFileSync(join(FIXTURES, 'localhost-test.crt'), files.certFile);
    const replaced = await ensureSelfSignedCertificate(files, clock, secureRandom);
    expect(replaced.issued).toBe(true);
    expect(new X509Certificate(readFileSync(files.certFile)).subjectAltName).toMatch(/0:0:0:0:0:0:0:1/);
    writeFileSync(files.certFile, 'garbage');
    expect((await ensureSelfSignedCertificate(files, clock, secureRandom)).issued).toBe(true);
  });
});
