/** For the broker suites: the refusal a connection that must fail gives. */
import { isCustodiaError } from '../../src/kernel/index.js';

/** The message of a promise that must fail with a `stream-unavailable` CustodiaError (any other outcome fails the test). */
export async function unavailable(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isCustodiaError(e, 'stream-unavailable')) return e.message;
    throw e;
  }
  throw new Error('connected, though it should have been refused');
}
