/**
 * The one place errors become responses: CustodiaError codes through the catalogue;
 * anything else is an internal error whose details go to the log, never to the client.
 */
import { catalogEntry, CustodiaError, isCustodiaError, retryAfterSeconds } from '../kernel/index.js';
import { outcomeFromError, type OperationOutcome } from '../fhir/index.js';

export interface ErrorResponse {
  readonly status: number;
  readonly body: OperationOutcome;
  /** Headers the error calls for (`retry-after`), lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  /** True when the error is ours to investigate (a 5xx). */
  readonly internal: boolean;
}

export function errorResponse(e: unknown): ErrorResponse {
  const err = isCustodiaError(e) ? e : new CustodiaError('internal', 'An unexpected error occurred; it has been logged', { cause: e });
  const status = catalogEntry(err.code).status;
  const safe = status >= 500 && err.code === 'internal' ? new CustodiaError('internal', 'An unexpected error occurred; it has been logged') : err;
  const headers = err.retryAfterMs === undefined ? {} : { 'retry-after': retryAfterSeconds(err.retryAfterMs) };
  return { status, body: outcomeFromError(safe), headers, internal: status >= 500 };
}
