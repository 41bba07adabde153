/**
 * fast-check parameters for the ledger's property tests: a fixed seed, so a run is
 * reproducible, unless CUSTODIA_FC_SEED names another (to explore, or to replay a failure
 * reported by a run with another seed).
 */
const fromEnv = process.env['CUSTODIA_FC_SEED'];

export const SEED = fromEnv === undefined ? 0x6962 : Number(fromEnv);

export function runs(numRuns: number): { seed: number; numRuns: number } {
  return { seed: SEED, numRuns };
}
