/** Who is asking: the verified content of a bearer token. */
import type { ResourceScope } from './smart-scopes.js';

export interface Principal {
  /** Token subject (`operator` for tokens minted by `custodia token`). */
  readonly subject: string;
  readonly issuer: string;
  /** Token id (jti), for audit. */
  readonly tokenId: string;
  readonly scope: string;
  readonly scopes: readonly ResourceScope[];
  /** Epoch seconds. */
  readonly expiresAt: number;
}
