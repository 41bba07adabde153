/**
 * Partitioning device telemetry by sender (issue 6 §1–§2): every record of one device goes
 * to one partition, and each partition is scored by one scorer at a time, so that a
 * device's robust baseline is learned from all of its traffic in one place even when
 * several scorer processes share the bus.
 *
 * - The sender key is the originator's MAC when the record carries one, else its IP
 *   address: the key the device directory links a flow by (app/device-directory.ts) and
 *   the unknown-talker inventory files it under.
 * - The partition is FNV-1a (32-bit) of the key's UTF-8 bytes, modulo the partition count.
 *   A fixed, documented function (not the runtime's string hash) so that a publisher in
 *   another language can place records where the scorers expect them:
 *   Fowler, Noll, Vo, "The FNV Non-Cryptographic Hash Algorithm", IETF draft
 *   draft-eastlake-fnv. Not a defence: anyone who may publish may choose a partition.
 * - The share of a scorer: the partitions divided among the live scorers as evenly as they
 *   go, the first (by id) getting one more while some remain. Every scorer computes the same
 *   shares from the same list of members, so they agree without a leader.
 */
import type { FlowEndpoints } from './flow-record.js';

/** The most partitions a bus may be cut into (each is a durable consumer on the server). */
export const MAX_PARTITIONS = 256;
/** Partitions when none are configured: the most scorers that work at once. */
export const DEFAULT_PARTITIONS = 8;

/** What a device's records are grouped by: `mac:<eui-48>`, else `ip:<address>`; undefined when the record names neither. */
export function senderKey(e: FlowEndpoints): string | undefined {
  return e.origMac !== undefined ? `mac:${e.origMac}` : e.origAddr !== undefined ? `ip:${e.origAddr}` : undefined;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a over the UTF-8 bytes of `key`, unsigned 32-bit. */
export function fnv1a32(key: string): number {
  let h = FNV_OFFSET;
  for (const byte of Buffer.from(key, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** The partition (0 … partitions − 1) of a sender key. */
export function partitionOf(key: string, partitions: number): number {
  return fnv1a32(key) % partitions;
}

/**
 * How many partitions `member` should hold when `members` (ids, in any order, `member`
 * among them) share `partitions`: ⌊P / M⌋, plus one for the first P mod M members in
 * sorted order. The shares sum to P and differ by at most one.
 */
export function partitionShare(partitions: number, members: readonly string[], member: string): number {
  const sorted = [...new Set(members)].sort();
  const rank = sorted.indexOf(member);
  if (rank < 0) return 0;
  return Math.floor(partitions / sorted.length) + (rank < partitions % sorted.length ? 1 : 0);
}
