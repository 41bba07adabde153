/**
 * RFC 4514 distinguished names for RFC 8705 tls_client_auth: parsing (escapes, multi-valued
 * RDNs, OIDs), comparison (order matters, case and insignificant space do not), and the
 * subject as Node prints it, read back in RFC 4514 order. The certificates are real,
 * made with @peculiar/x509 as test/oauth/mutual-tls.test.ts makes them.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto, X509Certificate } from 'node:crypto';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { formatDistinguishedName, parseCertificateSubject, parseDistinguishedName, sameDistinguishedName } from '../../src/access/index.js';

const same = (a: string, b: string): boolean => sameDistinguishedName(parseDistinguishedName(a), parseDistinguishedName(b));

/** Node's view of the subject of a certificate whose ASN.1 name is `name` (a JSON name: RDNs in ASN.1 order). */
async function nodeSubject(name: x509.JsonName): Promise<string> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name, notBefore: new Date(), notAfter: new Date(Date.now() + 3600_000), keys, signingAlgorithm: alg }, webcrypto);
  return new X509Certificate(cert.toString('pem')).subject;
}

describe('distinguished names (RFC 4514)', () => {
  it('parses RDNs last-to-first, types to OIDs, escapes undone', () => {
    expect(parseDistinguishedName('CN=lab-system,O=Hospital\\, Inc.,C=NL')).toEqual([
      [{ type: '2.5.4.3', value: 'lab-system' }],
      [{ type: '2.5.4.10', value: 'Hospital, Inc.' }],
      [{ type: '2.5.4.6', value: 'NL' }],
    ]);
    expect(parseDistinguishedName('uid=7+cn=Lab\\2C x, dc=example , OID.1.2.3.4=\\#hash, 1.2.3.5=a\\+b')).toEqual([
      [
        { type: '0.9.2342.19200300.100.1.1', value: '7' },
        { type: '2.5.4.3', value: 'Lab, x' },
      ],
      [{ type: '0.9.2342.19200300.100.1.25', value: 'example' }],
      [{ type: '1.2.3.4', value: '#hash' }],
      [{ type: '1.2.3.5', value: 'a+b' }],
    ]);
    expect(parseDistinguishedName('CN=J\\C3\\BCrgen')[0]![0]!.value).toBe('Jürgen');
  });

  it('refuses what is not a name', () => {
    for (const bad of ['', 'CN', 'CN=', 'CN=a,', '=a', 'C N=a', '1.2.=a', 'CN=a\\', 'CN=#04026869', 'CN=\\FF', 'CN=a\nO=b', 'CN=' + 'a'.repeat(1100), Array(40).fill('O=a').join(',')]) {
      expect(() => parseDistinguishedName(bad), bad).toThrow(expect.objectContaining({ code: 'request-malformed' }));
    }
  });

  it('matches whatever the case and insignificant spaces, never another order or another value', () => {
    expect(same('CN=lab-system,O=Hospital', 'cn=LAB-SYSTEM, o = hospital')).toBe(true);
    expect(same('CN=lab  system,O=Hospital', 'CN= lab system ,O=Hospital')).toBe(true);
    expect(same('CN=a+UID=1,O=b', 'UID=1+CN=a,O=b')).toBe(true);
    expect(same('CN=lab-system,O=Hospital', '2.5.4.3=lab-system,2.5.4.10=Hospital')).toBe(true);
    expect(same('CN=lab-system,O=Hospital', 'O=Hospital,CN=lab-system')).toBe(false);
    expect(same('CN=lab-system,O=Hospital', 'CN=lab-system,O=Hospital,C=NL')).toBe(false);
    expect(same('CN=lab-system,O=Hospital', 'CN=lab-system2,O=Hospital')).toBe(false);
    expect(same('CN=a+UID=1,O=b', 'CN=a,UID=1,O=b')).toBe(false);
    expect(same('CN=lab-system', 'OU=lab-system')).toBe(false);
  });

  it('reads a certificate subject as Node prints it (ASN.1 order, one RDN a line) in RFC 4514 order', async () => {
    const subject = await nodeSubject([{ C: ['NL'] }, { O: ['Hospital, Inc.'] }, { CN: ['lab+1'], '0.9.2342.19200300.100.1.1': ['7'] }, { OU: ['  spaced\nline #'] }]);
    const dn = parseCertificateSubject(subject);
    expect(dn[0]).toEqual([{ type: '2.5.4.11', value: '  spaced\nline #' }]);
    expect(formatDistinguishedName(dn)).toBe('OU=\\  spaced\\0Aline #,CN=lab\\+1+UID=7,O=Hospital\\, Inc.,C=NL');
    expect(sameDistinguishedName(dn, parseDistinguishedName('OU=spaced\\0Aline #,UID=7+CN=lab\\+1,O=Hospital\\, Inc.,C=NL'))).toBe(true);
    expect(sameDistinguishedName(parseCertificateSubject(await nodeSubject([{ O: ['Hospital'] }, { CN: ['lab-system'] }])), parseDistinguishedName('CN=lab-system,O=Hospital'))).toBe(true);
  });

  const value = fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 })).filter((v) => v.trim() !== '');
  const attribute = fc.tuple(fc.constantFrom('CN', 'O', 'OU', 'C', 'DC', '1.2.3'), value);
  test.prop([fc.array(fc.array(attribute, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 5 })])(
    'formats a name so that it parses back to the same name',
    (rdns) => {
      const dn = rdns.map((rdn) => rdn.map(([type, value]) => ({ type: parseDistinguishedName(`${type}=x`)[0]![0]!.type, value })));
      expect(sameDistinguishedName(parseDistinguishedName(formatDistinguishedName(dn)), dn)).toBe(true);
    },
  );
});
