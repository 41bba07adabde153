/**
 * The hash functions of the audit ledger's Merkle tree: RFC 9162 §2.1.1 (the same as
 * RFC 6962 §2.1) with SHA-256. Leaves and interior nodes are hashed under different
 * one-byte prefixes, so a leaf can never be passed off as a node (second-preimage
 * resistance across levels).
 */
import { hash } from 'node:crypto';
import { CustodiaError } from '../kernel/index.js';

/** Bytes in every hash of the tree (SHA-256). */
export const HASH_SIZE = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/**
 * RFC 9162 §2.1.1: `MTH({d(0)}) = SHA-256(0x00 || d(0))`, the hash of one log entry.
 *
 * @example
 *   hashLeaf(Buffer.alloc(0)).toString('hex'); // '6e340b9c…afa01d'
 */
export function hashLeaf(entry: Uint8Array): Buffer {
  const input = Buffer.allocUnsafe(1 + entry.length);
  input[0] = LEAF_PREFIX;
  input.set(entry, 1);
  return hash('sha256', input, 'buffer');
}

// Reaching a node hash with anything but two hashes is a bug: outside input is checked first.
const notHashes = (): CustodiaError => new CustodiaError('internal', 'A Merkle node hashes two 32-byte hashes');

// One input buffer reused by every node hash: hashing is synchronous and the buffer never
// escapes, so sharing it is safe and saves an allocation per node (a whole-log recount
// hashes millions of nodes).
const nodeInput = Buffer.alloc(1 + 2 * HASH_SIZE);
nodeInput[0] = NODE_PREFIX;

/**
 * RFC 9162 §2.1.1: `SHA-256(0x01 || left || right)`, the hash of an interior node from
 * the hashes of its two children. Both must be {@link HASH_SIZE} bytes (callers check
 * anything that came from outside before it gets here).
 *
 * @example
 *   hashChildren(hashLeaf(a), hashLeaf(b)); // the root of the two-entry tree [a, b]
 */
export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) throw notHashes();
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return hash('sha256', nodeInput, 'buffer');
}

/**
 * The same two hashes with each hash as a 32-character latin1 ('binary') string, one
 * character per byte: the fast path of TreeBuilder. V8 makes a short string several times
 * faster than a Buffer (a Buffer's backing store is allocated outside the heap), and a
 * whole-log recount makes two million of them per million entries.
 *
 * @example
 *   Buffer.from(hashLeafText(entry), 'latin1').equals(hashLeaf(entry)); // true
 */
export function hashLeafText(entry: Uint8Array): string {
  const input = Buffer.allocUnsafe(1 + entry.length);
  input[0] = LEAF_PREFIX;
  input.set(entry, 1);
  return hash('sha256', input, 'binary');
}

/**
 * {@link hashChildren} over latin1 strings (see {@link hashLeafText}).
 *
 * @example
 *   hashChildrenText(hashLeafText(a), hashLeafText(b)); // the root of [a, b], as text
 */
export function hashChildrenText(left: string, right: string): string {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) throw notHashes();
  nodeInput.write(left, 1, HASH_SIZE, 'latin1');
  nodeInput.write(right, 1 + HASH_SIZE, HASH_SIZE, 'latin1');
  return hash('sha256', nodeInput, 'binary');
}

/**
 * RFC 9162 §2.1.1: `MTH({}) = SHA-256()`, the root of the empty tree. A fresh copy on
 * each call, so no caller can change it for another.
 *
 * @example
 *   emptyTreeHash().toString('hex'); // 'e3b0c442…7852b855'
 */
export function emptyTreeHash(): Buffer {
  return hash('sha256', Buffer.alloc(0), 'buffer');
}

/**
 * True when `value` is a byte array of exactly {@link HASH_SIZE} bytes: what every hash
 * that arrives from outside (a proof, a checkpoint, a tile, a store) must be checked to be.
 *
 * @example
 *   isHash(new Uint8Array(32)); // true
 *   isHash('abc');              // false
 */
export function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === HASH_SIZE;
}
