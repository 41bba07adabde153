/**
 * fast-check parameters for the ingest property tests: a fixed seed, so a run is
 * reproducible, unless CUSTODIA_FC_SEED names another (to explore, or to replay a failure).
 */
const fromEnv = process.env['CUSTODIA_FC_SEED'];

export const SEED = fromEnv === undefined ? 0x6f10 : Number(fromEnv);

export function runs(numRuns: number): { seed: number; numRuns: number } {
  return { seed: SEED, numRuns };
}
