/**
 * TOTP (RFC 6238) and HOTP (RFC 4226) against the RFCs' own test vectors, plus the
 * verification window and the otpauth:// URI.
 */
import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, hotp, otpauthUri, timeStep, totpAt, verifyTotp, type TotpAlgorithm } from '../../../src/access/index.js';

/*
 * RFC 6238 Appendix B, copied by hand from the RFC text:
 *
 *   +-------------+--------------+------------------+----------+--------+
 *   |  Time (sec) |   UTC Time   | Value of T (hex) |   TOTP   |  Mode  |
 *   +-------------+--------------+------------------+----------+--------+
 *   |      59     |  1970-01-01  | 0000000000000001 | 94287082 |  SHA1  |
 *   |      59     |  1970-01-01  | 0000000000000001 | 46119246 | SHA256 |
 *   |      59     |  1970-01-01  | 0000000000000001 | 90693936 | SHA512 |
 *   |  1111111109 |  2005-03-18  | 00000000023523EC | 07081804 |  SHA1  |
 *   |  1111111109 |  2005-03-18  | 00000000023523EC | 68084774 | SHA256 |
 *   |  1111111109 |  2005-03-18  | 00000000023523EC | 25091201 | SHA512 |
 *   |  1111111111 |  2005-03-18  | 00000000023523ED | 14050471 |  SHA1  |
 *   |  1111111111 |  2005-03-18  | 00000000023523ED | 67062674 | SHA256 |
 *   |  1111111111 |  2005-03-18  | 00000000023523ED | 99943326 | SHA512 |
 *   |  1234567890 |  2009-02-13  | 000000000273EF07 | 89005924 |  SHA1  |
 *   |  1234567890 |  2009-02-13  | 000000000273EF07 | 91819424 | SHA256 |
 *   |  1234567890 |  2009-02-13  | 000000000273EF07 | 93441116 | SHA512 |
 *   |  2000000000 |  2033-05-18  | 0000000003F940AA | 69279037 |  SHA1  |
 *   |  2000000000 |  2033-05-18  | 0000000003F940AA | 90698825 | SHA256 |
 *   |  2000000000 |  2033-05-18  | 0000000003F940AA | 38618901 | SHA512 |
 *   | 20000000000 |  2603-10-11  | 0000000027BC86AA | 65353130 |  SHA1  |
 *   | 20000000000 |  2603-10-11  | 0000000027BC86AA | 77737706 | SHA256 |
 *   | 20000000000 |  2603-10-11  | 0000000027BC86AA | 47863826 | SHA512 |
 *   +-------------+--------------+------------------+----------+--------+
 *
 * The seeds are the ASCII digits "1234567890" repeated to the HMAC's output length, as
 * in the RFC's reference implementation (Appendix A): 20 bytes for SHA1, 32 for SHA256,
 * 64 for SHA512. Time step X = 30 s, T0 = 0, 8 digits.
 */
const SEEDS: Record<TotpAlgorithm, Buffer> = {
  SHA1: Buffer.from('12345678901234567890', 'ascii'),
  SHA256: Buffer.from('12345678901234567890123456789012', 'ascii'),
  SHA512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234', 'ascii'),
};

const APPENDIX_B: readonly [seconds: number, stepHex: string, totp: string, mode: TotpAlgorithm][] = [
  [59, '0000000000000001', '94287082', 'SHA1'],
  [59, '0000000000000001', '46119246', 'SHA256'],
  [59, '0000000000000001', '90693936', 'SHA512'],
  [1111111109, '00000000023523EC', '07081804', 'SHA1'],
  [1111111109, '00000000023523EC', '68084774', 'SHA256'],
  [1111111109, '00000000023523EC', '25091201', 'SHA512'],
  [1111111111, '00000000023523ED', '14050471', 'SHA1'],
  [1111111111, '00000000023523ED', '67062674', 'SHA256'],
  [1111111111, '00000000023523ED', '99943326', 'SHA512'],
  [1234567890, '000000000273EF07', '89005924', 'SHA1'],
  [1234567890, '000000000273EF07', '91819424', 'SHA256'],
  [1234567890, '000000000273EF07', '93441116', 'SHA512'],
  [2000000000, '0000000003F940AA', '69279037', 'SHA1'],
  [2000000000, '0000000003F940AA', '90698825', 'SHA256'],
  [2000000000, '0000000003F940AA', '38618901', 'SHA512'],
  [20000000000, '0000000027BC86AA', '65353130', 'SHA1'],
  [20000000000, '0000000027BC86AA', '77737706', 'SHA256'],
  [20000000000, '0000000027BC86AA', '47863826', 'SHA512'],
];

describe('RFC 6238 Appendix B', () => {
  it('has all 18 vectors', () => {
    expect(APPENDIX_B).toHaveLength(18);
  });

  for (const [seconds, stepHex, expected, mode] of APPENDIX_B) {
    it(`${mode} at T=${seconds}s is ${expected}`, () => {
      const params = { algorithm: mode, digits: 8, period: 30 };
      expect(timeStep(seconds * 1000, 30)).toBe(parseInt(stepHex, 16));
      expect(totpAt(SEEDS[mode], seconds * 1000, params)).toBe(expected);
      // And a verifier at that instant accepts it, in the current step.
      expect(verifyTotp(SEEDS[mode], expected, seconds * 1000, params)).toBe(parseInt(stepHex, 16));
    });
  }
});

describe('RFC 4226 Appendix D (HOTP, SHA-1, 6 digits)', () => {
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  it('counters 0 to 9', () => {
    expect(expected.map((_, c) => hotp(SEEDS.SHA1, c, 'SHA1', 6))).toEqual(expected);
  });
});

describe('verification window', () => {
  const params = { algorithm: 'SHA1' as const, digits: 6, period: 30 };
  const now = 1_111_111_111_000;
  const step = timeStep(now, 30);
  const at = (s: number): string => hotp(SEEDS.SHA1, s, 'SHA1', 6);

  it('accepts the current step and one either side, and says which', () => {
    expect(verifyTotp(SEEDS.SHA1, at(step), now, params)).toBe(step);
    expect(verifyTotp(SEEDS.SHA1, at(step - 1), now, params)).toBe(step - 1);
    expect(verifyTotp(SEEDS.SHA1, at(step + 1), now, params)).toBe(step + 1);
  });

  it('refuses two steps away, wrong lengths and non-digits', () => {
    expect(verifyTotp(SEEDS.SHA1, at(step - 2), now, params)).toBeUndefined();
    expect(verifyTotp(SEEDS.SHA1, at(step + 2), now, params)).toBeUndefined();
    expect(verifyTotp(SEEDS.SHA1, at(step).slice(1), now, params)).toBeUndefined();
    expect(verifyTotp(SEEDS.SHA1, `${at(step)}0`, now, params)).toBeUndefined();
    expect(verifyTotp(SEEDS.SHA1, 'abcdef', now, params)).toBeUndefined();
    expect(verifyTotp(SEEDS.SHA1, '', now, params)).toBeUndefined();
  });

  it('supports 6, 7 and 8 digits as truncations of the same value', () => {
    const eight = totpAt(SEEDS.SHA1, 59_000, { algorithm: 'SHA1', digits: 8, period: 30 });
    expect(totpAt(SEEDS.SHA1, 59_000, { algorithm: 'SHA1', digits: 7, period: 30 })).toBe(eight.slice(1));
    expect(totpAt(SEEDS.SHA1, 59_000, { algorithm: 'SHA1', digits: 6, period: 30 })).toBe(eight.slice(2));
  });
});

describe('base32 (RFC 4648 §10 vectors, unpadded)', () => {
  const vectors: [string, string][] = [
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ];
  it('encodes and decodes', () => {
    for (const [plain, encoded] of vectors) {
      expect(base32Encode(Buffer.from(plain))).toBe(encoded);
      expect(base32Decode(encoded)?.toString()).toBe(plain);
    }
    expect(base32Decode('mzxw6ytboi======')?.toString()).toBe('foobar');
    expect(base32Decode('MZXW1')).toBeUndefined();
  });
  it('the RFC 6238 SHA1 seed is the well-known GEZDGNBVGY3TQOJQ…', () => {
    expect(base32Encode(SEEDS.SHA1)).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  });
});

describe('otpauth:// URI', () => {
  it('follows the Key Uri Format', () => {
    const uri = otpauthUri({ issuer: 'Custodia Vault', account: 'alice@ward-3', secret: SEEDS.SHA1, params: { algorithm: 'SHA256', digits: 8, period: 30 } });
    expect(uri).toBe('otpauth://totp/Custodia%20Vault:alice%40ward-3?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Custodia%20Vault&algorithm=SHA256&digits=8&period=30');
    const u = new URL(uri);
    expect(u.protocol).toBe('otpauth:');
    expect(u.searchParams.get('secret')).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  });
});
