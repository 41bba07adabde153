/**
 * The one place errors become responses: CustodiaError codes through the catalogue;
 * anything else is an internal error whose details go to the log, never to the client.
 */
import { catalogEntry, CustodiaError, isCustodiaError } from '../kernel/index.js';
import { outcomeFromError, type OperationOutcome } from '../fhir/index.js';

export interface ErrorResponse {
  readonly status: number;
  readonly body: OperationOutcome;
  /** True when the error is ours to investigate (a 5xx). */
  readonly internal: boolean;
}

export function errorResponse(e: unknown): ErrorResponse {
  const err = isCustodiaError(e) ? e : new CustodiaError('internal', 'An unexpected error occurred; it has been logged', { cause: e });
  const status = catalogEntry(err.code).status;
  const safe = status >= 500 && err.code === 'internal' ? new CustodiaError('internal', 'An unexpected error occurred; it has been logged') : err;
  return { status, body: outcomeFromError(safe), internal: status >= 500 };
}
