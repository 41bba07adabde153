import { CustodiaError } from '../../src/kernel/index.js';

/** The code of the CustodiaError `f` throws, or undefined if it returns; any other error is rethrown. */
export function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof CustodiaError) return e.code;
    throw e;
  }
  return undefined;
}
