/**
 * Runs once in the main vitest process: says which suites are skipped on this machine
 * and why, so a green run on a laptop never pretends it tested PostgreSQL.
 */
export default function setup(): void {
  if (process.env['CUSTODIA_TEST_POSTGRES_URL'] === undefined) {
    process.stdout.write(
      '\n[custodia] CUSTODIA_TEST_POSTGRES_URL is not set: the PostgreSQL legs of the store, API and search suites are SKIPPED.\n' +
        '[custodia] Set it (e.g. postgres://postgres@127.0.0.1:5432/test) to run them; .ci/run does.\n\n',
    );
  } else {
    process.stdout.write('\n[custodia] PostgreSQL legs ON (CUSTODIA_TEST_POSTGRES_URL is set).\n\n');
  }
}
