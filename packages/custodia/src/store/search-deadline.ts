/**
 * How a search thread (search-thread.ts) stops a statement at its deadline, shared by the
 * thread and the vault's side (search-runner.ts). Constants only: the thread loads this
 * module, and nothing more than it needs.
 */

/** The SQL function a search thread defines: 1 while its statement is within its deadline; past it, an error that abandons the statement. */
export const IN_TIME_FUNCTION = 'custodia_in_time';

/** The code of that error, as the thread reports it. */
export const STOPPED_AT_DEADLINE = 'CUSTODIA_STOPPED_AT_DEADLINE';

/**
 * A statement looks at its deadline once in this many of the rows it inspects (by their
 * key), not at each: a call into JavaScript costs about 0.12 µs a row, which would double
 * the cost of a cheap scan; the arithmetic that skips it costs a few nanoseconds.
 */
export const ROWS_PER_LOOK = 256;
