/**
 * The log's side of C2SP tlog-witness: where it keeps the cosignature lines its witnesses
 * returned (a port; the store module implements it over `ledger_cosignatures`). Each
 * line is kept as the witness sent it, after it verified under that witness's configured
 * key; it is checked again whenever it is served (cosigned-note.ts), so a row edited in
 * the database is not believed either.
 */

/** One witness's cosignature line (`— <name> base64(keyId ‖ timestamp ‖ signature)\n`) on the checkpoint of `size`. */
export interface StoredCosignature {
  readonly size: number;
  /** The witness key's `<name>+<hex key ID>` ({@link witnessKeyRef}). */
  readonly witness: string;
  readonly line: string;
  /** When the log stored it (epoch ms). */
  readonly at: number;
}

export interface CosignatureStore {
  /** Keeps a verified line; the first line per (size, witness) wins, later ones are dropped. */
  add(cosignature: StoredCosignature): Promise<void>;
  /** The lines stored for the checkpoint of `size`. */
  at(size: number): Promise<StoredCosignature[]>;
  /** The largest size each of `witnesses` has a stored line for (absent: none). */
  latestSizes(witnesses: readonly string[]): Promise<Map<string, number>>;
  /**
   * Sizes from `fromSize` up with lines from at least `quorum` of `witnesses`, largest
   * first, at most `limit` of them (`fromSize` keeps the search to the recent rows).
   */
  quorumSizes(witnesses: readonly string[], quorum: number, limit: number, fromSize?: number): Promise<number[]>;
  /** For `custodia ledger verify`: up to `limit` stored lines after (`afterSize`, `afterWitness`), in (size, witness) order. */
  scan(afterSize: number, afterWitness: string, limit: number): Promise<StoredCosignature[]>;
}

/**
 * The name a witness key is stored under: its key name and key ID, which together
 * "uniquely identify the key" (C2SP signed-note §Signatures).
 *
 * @example
 *   witnessKeyRef('witness.example/w1', 0xda77ade7); // 'witness.example/w1+da77ade7'
 */
export function witnessKeyRef(name: string, keyId: number): string {
  return `${name}+${keyId.toString(16).padStart(8, '0')}`;
}
