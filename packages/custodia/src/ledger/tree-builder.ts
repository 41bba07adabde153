/**
 * An append-only Merkle tree held as its frontier (a "compact range" [0, n)): the hashes
 * of the complete subtrees that tree size n splits into, one per one bit of n, largest
 * first. Appending a leaf merges equal-sized subtrees like a binary counter carries, so
 * n appends cost n − popcount(n) node hashes in all (O(1) amortised), and the memory is
 * O(log n): at most 53 hashes. The root at the current size is RFC 9162 §2.1.1's MTH.
 *
 * Used by the sequencer appending batches (persisting every new node through `onNode`)
 * and by a verifier recounting a whole log from storage. Hashes are held as latin1 text
 * inside (see hashLeafText), and are Buffers wherever they leave.
 */
import { emptyTreeHash, hashChildrenText, hashLeafText, isHash } from './merkle-hash.js';
import { malformedProof } from './proof-error.js';
import { checkTreeSize, popCount, rangeNodes, type TreeNode } from './tree-math.js';

/** Called with each complete subtree as it comes into being (leaves included). */
export type NodeSink = (node: TreeNode, hash: Buffer) => void;

export interface TreeBuilderOptions {
  /**
   * Receives every node, the leaf first and then each subtree that leaf completes, lowest
   * first: exactly the order of storedHashIndex, so a store can append them as they come.
   */
  readonly onNode?: NodeSink;
}

function toText(hash: Uint8Array): string {
  return (Buffer.isBuffer(hash) ? hash : Buffer.from(hash.buffer, hash.byteOffset, hash.length)).toString('latin1');
}

const toBuffer = (text: string): Buffer => Buffer.from(text, 'latin1');

/**
 * @example
 *   const tree = new TreeBuilder();
 *   for (const entry of entries) tree.appendEntry(entry); // or tree.append(hashLeaf(entry))
 *   tree.root();     // MTH(D[0:n])
 *   tree.frontier(); // what to keep to resume with TreeBuilder.resume(n, frontier)
 */
export class TreeBuilder {
  readonly #stack: string[] = [];
  readonly #onNode: NodeSink | undefined;
  #size = 0;

  constructor(options: TreeBuilderOptions = {}) {
    this.#onNode = options.onNode;
  }

  /**
   * Resumes a tree of `size` leaves from its {@link frontier} (e.g. read back from the
   * store: the hashes of `rangeNodes(0, size)`); `size` and the hashes are checked.
   *
   * @example
   *   const tree = TreeBuilder.resume(checkpoint.size, store.readHashes(rangeNodes(0, checkpoint.size)));
   */
  static resume(size: number, frontier: readonly Uint8Array[], options: TreeBuilderOptions = {}): TreeBuilder {
    checkTreeSize(size, 'tree size');
    if (!Array.isArray(frontier) || frontier.length !== popCount(size) || !frontier.every(isHash)) {
      throw malformedProof(`a tree of size ${size} has ${popCount(size)} frontier hashes of 32 bytes`);
    }
    const tree = new TreeBuilder(options);
    for (const h of frontier) tree.#stack.push(toText(h));
    tree.#size = size;
    return tree;
  }

  /** The number of leaves appended so far. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends one leaf by its hash (RFC 9162 §2.1.1 `SHA-256(0x00 || entry)`, hashLeaf).
   *
   * @example
   *   tree.append(hashLeaf(Buffer.from('entry')));
   */
  append(leafHash: Uint8Array): void {
    if (!isHash(leafHash)) throw malformedProof('a leaf hash is 32 bytes');
    this.#push(toText(leafHash));
  }

  /**
   * Appends one entry, hashing it as a leaf: the same as `append(hashLeaf(entry))`, and
   * the fastest way to recount a log from its entries.
   *
   * @example
   *   for (const row of store.entries()) tree.appendEntry(row.bytes);
   */
  appendEntry(entry: Uint8Array): void {
    this.#push(hashLeafText(entry));
  }

  #push(leaf: string): void {
    if (this.#size === Number.MAX_SAFE_INTEGER) throw malformedProof('the tree is full');
    const sink = this.#onNode;
    let hash = leaf;
    let index = this.#size;
    let level = 0;
    sink?.({ level, index }, toBuffer(hash));
    // Each trailing one bit of the old size is a subtree of the new one's size to its left.
    while (index % 2 === 1) {
      hash = hashChildrenText(this.#stack.pop()!, hash);
      index = (index - 1) / 2;
      level++;
      sink?.({ level, index }, toBuffer(hash));
    }
    this.#stack.push(hash);
    this.#size++;
  }

  /**
   * RFC 9162 §2.1.1: the Merkle Tree Hash of the leaves appended so far (the hash of the
   * empty string for none), the frontier folded from the right. Does not change the tree.
   */
  root(): Buffer {
    const stack = this.#stack;
    if (stack.length === 0) return emptyTreeHash();
    let at = stack.length - 1;
    let acc = stack[at]!;
    while (at > 0) acc = hashChildrenText(stack[--at]!, acc);
    return toBuffer(acc);
  }

  /** The frontier's hashes: the subtrees `rangeNodes(0, size)`, largest first. */
  frontier(): Buffer[] {
    return this.#stack.map(toBuffer);
  }

  /** The nodes of the {@link frontier}, in the same order. */
  frontierNodes(): TreeNode[] {
    return rangeNodes(0, this.#size);
  }
}
