/**
 * A durable record of operator and administrator actions — tokens minted with
 * `custodia token`, users and clients changed, break-the-glass reviews — until the
 * audit ledger (a later release) takes them over. It holds who did what and when, and
 * never a secret (no token, password or code).
 */
export interface OperatorAction {
  /** Epoch milliseconds. */
  readonly at: number;
  /** e.g. `token.mint`, `user.add`, `btg.review`. */
  readonly action: string;
  /** Who did it: `operator` (local CLI) or a principal's subject. */
  readonly actor: string;
  /** Non-secret details (subject, scope, purpose, patient…). */
  readonly detail: Readonly<Record<string, string | number | boolean | null>>;
}

export interface OperatorLog {
  record(a: OperatorAction): Promise<void>;
  recent(limit: number): Promise<OperatorAction[]>;
}
