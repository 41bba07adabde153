/**
 * The blind-index HMAC-SHA256 (crypto/hmac-sha256.ts) against FIPS 180-4 and RFC 4231
 * vectors, and against node:crypto for any key, message and way of feeding it.
 */
import { createHash, createHmac } from 'node:crypto';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { HmacSha256, Sha256State } from '../../src/crypto/hmac-sha256.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const sha256 = (m: Uint8Array): string => hex(new Sha256State().update(m).finishInto(new Uint8Array(32)));
const hmac = (k: Uint8Array, m: Uint8Array): string => hex(new HmacSha256(k).macInto(m, new Uint8Array(32)));

describe('SHA-256 (FIPS 180-4 examples)', () => {
  it('hashes the standard messages', () => {
    expect(sha256(Buffer.from(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256(Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256(Buffer.from('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    expect(sha256(Buffer.alloc(1_000_000, 'a'))).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });
});

describe('HMAC-SHA256 (RFC 4231 §4)', () => {
  const cases: [key: string, data: string, mac: string][] = [
    ['0b'.repeat(20), Buffer.from('Hi There').toString('hex'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
    [Buffer.from('Jefe').toString('hex'), Buffer.from('what do ya want for nothing?').toString('hex'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'],
    ['aa'.repeat(20), 'dd'.repeat(50), '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe'],
    ['0102030405060708090a0b0c0d0e0f10111213141516171819', 'cd'.repeat(50), '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b'],
    ['aa'.repeat(131), Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First').toString('hex'), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54'],
    [
      'aa'.repeat(131),
      Buffer.from('This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.').toString('hex'),
      '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
    ],
  ];
  it.each(cases)('test case with key %s…', (key, data, mac) => {
    expect(hmac(Buffer.from(key, 'hex'), Buffer.from(data, 'hex'))).toBe(mac);
  });
});

describe('agreement with node:crypto', () => {
  test.prop([fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(300), { maxLength: 6 })])('SHA-256 of any message, fed in any chunks', (message, cuts) => {
    const s = new Sha256State();
    let at = 0;
    for (const c of [...cuts].sort((a, b) => a - b)) {
      const end = Math.min(c, message.length);
      if (end < at) continue;
      s.update(message, at, end);
      at = end;
    }
    s.update(message, at);
    expect(hex(s.finishInto(new Uint8Array(32)))).toBe(createHash('sha256').update(message).digest('hex'));
  });

  test.prop([fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 300 })])('HMAC of any key and message, and of every prefix', (key, message) => {
    const mac = new HmacSha256(key);
    expect(hex(mac.macInto(message, new Uint8Array(32)))).toBe(createHmac('sha256', key).update(message).digest('hex'));
    const inner = mac.begin(new Sha256State(), new Uint8Array(0));
    for (let n = 1; n <= Math.min(message.length, 70); n++) {
      inner.update(message, n - 1, n);
      expect(hex(mac.finishInto(inner, new Uint8Array(32)))).toBe(createHmac('sha256', key).update(message.subarray(0, n)).digest('hex'));
    }
  });

  it('covers every padding boundary (55, 56, 63, 64, 65 bytes and beyond)', () => {
    for (let n = 0; n <= 200; n++) {
      const m = Buffer.alloc(n, n & 0xff);
      expect(sha256(m)).toBe(createHash('sha256').update(m).digest('hex'));
    }
  });
});
