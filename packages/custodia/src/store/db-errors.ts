/**
 * Driver errors become typed errors at the adapter boundary. Messages from the driver
 * can quote values (and so patient data); they are kept only as `cause`, which the
 * server logs without the request body, and never reach a response.
 */
import { CustodiaError } from '../kernel/index.js';

function codeOf(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'code' in e) return String((e as { code: unknown }).code);
  return '';
}

/** Whether `e` is SQLite saying another connection holds a lock it needs (SQLITE_BUSY and its extended codes). */
export const isSqliteBusy = (e: unknown): boolean => codeOf(e).startsWith('SQLITE_BUSY');

export function translateDbError(e: unknown): unknown {
  if (e instanceof CustodiaError) return e;
  const code = codeOf(e);
  // SQLite: SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY; PostgreSQL: 23505 unique_violation.
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505') {
    return new CustodiaError('version-conflict', 'A concurrent write created or changed the same resource; retry', { cause: e });
  }
  // PostgreSQL: 40001 serialization_failure, 40P01 deadlock_detected.
  if (code === '40001' || code === '40P01') {
    return new CustodiaError('storage-conflict', 'The database aborted a concurrent write; retry', { cause: e });
  }
  if (isSqliteBusy(e) || code.startsWith('SQLITE_LOCKED') || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === '57P01' || code === '53300') {
    return new CustodiaError('storage-unavailable', 'The database is busy or unreachable; retry later', { cause: e });
  }
  return new CustodiaError('internal', 'Storage failure', { cause: e });
}

/** Runs `fn`, translating driver errors. */
export async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw translateDbError(e);
  }
}
