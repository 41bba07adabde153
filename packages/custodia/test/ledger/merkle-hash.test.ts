/**
 * RFC 9162 §2.1.1 hashing against the RFC 6962 reference tree (test/fixtures/merkle,
 * transparency-dev/merkle's constants): leaf, node and empty-tree hashes, and the text
 * fast path agreeing with the Buffer one.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { emptyTreeHash, hashChildren, hashChildrenText, hashLeaf, hashLeafText, isHash } from '../../src/ledger/merkle-hash.js';
import { leafHash, nodeHash } from './rfc-oracle.js';
import { runs } from './seeded.js';
import { referenceTree } from './vectors.js';

const { leafInputs, roots } = referenceTree();

describe('Merkle hashes (RFC 9162 §2.1.1)', () => {
  it('hashes the empty tree as SHA-256 of the empty string, a fresh copy each time', () => {
    expect(emptyTreeHash().equals(roots[0]!)).toBe(true);
    emptyTreeHash().fill(0);
    expect(emptyTreeHash().toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('gives the reference roots of one and two leaves: SHA-256(0x00 || d) and SHA-256(0x01 || l || r)', () => {
    expect(hashLeaf(leafInputs[0]!).equals(roots[1]!)).toBe(true);
    expect(hashChildren(hashLeaf(leafInputs[0]!), hashLeaf(leafInputs[1]!)).equals(roots[2]!)).toBe(true);
  });

  test.prop([fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 })], runs(200))(
    'agrees with the oracle, in bytes and as text',
    (entry, l, r) => {
      expect(hashLeaf(entry).equals(leafHash(entry))).toBe(true);
      expect(Buffer.from(hashLeafText(entry), 'latin1').equals(leafHash(entry))).toBe(true);
      expect(hashChildren(l, r).equals(nodeHash(l, r))).toBe(true);
      const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');
      expect(Buffer.from(hashChildrenText(text(l), text(r)), 'latin1').equals(nodeHash(l, r))).toBe(true);
    },
  );

  it('keeps leaves and nodes apart (second-preimage resistance across levels)', () => {
    const l = hashLeaf(Buffer.from('a'));
    const r = hashLeaf(Buffer.from('b'));
    expect(hashLeaf(Buffer.concat([l, r])).equals(hashChildren(l, r))).toBe(false);
  });

  it('refuses to hash children that are not 32-byte hashes (a programming error)', () => {
    const internal = expect.objectContaining({ code: 'internal' });
    expect(() => hashChildren(Buffer.alloc(31), Buffer.alloc(32))).toThrow(internal);
    expect(() => hashChildren(Buffer.alloc(32), Buffer.alloc(33))).toThrow(internal);
    expect(() => hashChildrenText('x'.repeat(32), 'x'.repeat(31))).toThrow(internal);
    expect(() => hashChildrenText('x', 'x'.repeat(32))).toThrow(internal);
  });

  it('recognises 32-byte hashes only', () => {
    expect(isHash(new Uint8Array(32))).toBe(true);
    expect(isHash(Buffer.alloc(32))).toBe(true);
    for (const bad of [new Uint8Array(31), new Uint8Array(33), 'x'.repeat(32), null, undefined, Array(32).fill(0)]) expect(isHash(bad)).toBe(false);
  });
});
