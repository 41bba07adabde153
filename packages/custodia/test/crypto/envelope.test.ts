/**
 * The stored envelope: the key id travels with the ciphertext and is authenticated; a
 * resource version's ciphertext is bound to its type, id and version, so a row moved to
 * another record or version fails to decrypt with a typed error.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { envelopeKeyId, openEnvelope, resourceVersionAad, sealEnvelope, type DataKey } from '../../src/crypto/index.js';
import { secureRandom } from '../../src/kernel/index.js';

const decryptFailed = expect.objectContaining({ code: 'decrypt-failed' });
const keyA: DataKey = { id: 'dk:patient:p1:1', key: Buffer.alloc(32, 0xa1) };
const keyB: DataKey = { id: 'dk:patient:p2:1', key: Buffer.alloc(32, 0xb2) };
const keys = new Map([keyA, keyB].map((k) => [k.id, k.key]));
const lookup = (id: string) => keys.get(id);

describe('envelope', () => {
  const json = Buffer.from('{"resourceType":"Observation","id":"o1"}');
  const aad = resourceVersionAad('Observation', 'o1', 3);

  it('carries the key id and opens with the key it names', () => {
    const stored = sealEnvelope(keyA, json, aad, secureRandom);
    expect(envelopeKeyId(stored)).toBe('dk:patient:p1:1');
    expect(openEnvelope(lookup, stored, aad).equals(json)).toBe(true);
  });

  it('fails when the ciphertext is moved to another resource, another version or another type', () => {
    const stored = sealEnvelope(keyA, json, aad, secureRandom);
    for (const other of [resourceVersionAad('Observation', 'o2', 3), resourceVersionAad('Observation', 'o1', 4), resourceVersionAad('Condition', 'o1', 3)]) {
      expect(() => openEnvelope(lookup, stored, other)).toThrow(decryptFailed);
    }
  });

  it('fails when the key id is swapped for another available key', () => {
    const stored = sealEnvelope(keyA, json, aad, secureRandom);
    const swapped = Buffer.from(stored);
    Buffer.from(keyB.id, 'ascii').copy(swapped, 2);
    expect(envelopeKeyId(swapped)).toBe(keyB.id);
    expect(() => openEnvelope(lookup, swapped, aad)).toThrow(decryptFailed);
  });

  it('says the key is unavailable when the key store has none for it (erased, or missing)', () => {
    const stored = sealEnvelope({ id: 'dk:patient:gone:1', key: Buffer.alloc(32, 3) }, json, aad, secureRandom);
    expect(() => openEnvelope(lookup, stored, aad)).toThrow(expect.objectContaining({ code: 'key-unavailable' }));
  });

  it('refuses malformed envelopes and bad names with typed errors', () => {
    for (const bad of [Buffer.alloc(0), Buffer.from([2, 1, 65]), Buffer.from([1, 0]), Buffer.from([1, 70, 65]), Buffer.from([1, 3, 0x41, 0x20, 0x42])]) {
      expect(() => openEnvelope(lookup, bad, aad)).toThrow(decryptFailed);
    }
    expect(() => sealEnvelope({ id: 'has space', key: keyA.key }, json, aad, secureRandom)).toThrow(/key id/);
    expect(() => resourceVersionAad('Observation', 'o1', 0)).toThrow();
    expect(() => resourceVersionAad('Observation', 'a/b', 1)).toThrow();
  });

  test.prop([fc.uint8Array({ maxLength: 2048 }), fc.nat(), fc.integer({ min: 0, max: 7 })])('opens what it sealed, and fails on any flipped bit', (pt, at, bit) => {
    const stored = sealEnvelope(keyA, pt, aad, secureRandom);
    expect(Buffer.compare(openEnvelope(lookup, stored, aad), Buffer.from(pt))).toBe(0);
    const flipped = Buffer.from(stored);
    flipped[at % flipped.length]! ^= 1 << bit;
    expect(() => openEnvelope(lookup, flipped, aad)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^(decrypt-failed|key-unavailable)$/) }));
  });
});
