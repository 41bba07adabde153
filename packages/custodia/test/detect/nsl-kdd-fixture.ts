/**
 * A minimal, test-only loader for the NSL-KDD fixture (the real flow-file parsers live in
 * ingest/): split lines on commas, name the fields, encode under a schema. The fixture is
 * trusted here; a malformed line fails the test run loudly.
 */
import { readFileSync } from 'node:fs';
import { FeatureEncoder, NSL_KDD_SCHEMA, nslKddLabel, nslKddRow, type FeatureMatrix, type FeatureSchema, type NslKddLabel, type NslKddRow } from '../../src/detect/index.js';

const FIXTURE = new URL('../fixtures/nsl-kdd/KDDTrain+_20Percent.txt', import.meta.url);

export interface NslKddFixture {
  readonly rows: readonly NslKddRow[];
  readonly labels: readonly NslKddLabel[];
  readonly matrix: FeatureMatrix;
}

let cached: readonly NslKddRow[] | undefined;

/** The fixture's 25,192 records, split and named. */
export function nslKddRows(): readonly NslKddRow[] {
  cached ??= readFileSync(FIXTURE, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => nslKddRow(line.split(',')));
  return cached;
}

/** The fixture encoded under `schema` (default NSL_KDD_SCHEMA), with each row's label. */
export function loadNslKdd(schema: FeatureSchema = NSL_KDD_SCHEMA): NslKddFixture {
  const rows = nslKddRows();
  const labels = rows.map((r) => nslKddLabel(r.label ?? ''));
  const matrix = new FeatureEncoder(schema).encodeAll(rows.map((r) => r.features));
  return { rows, labels, matrix };
}

/** The rows of `matrix` whose indexes are `pick`, as a new matrix. */
export function selectRows(matrix: FeatureMatrix, pick: readonly number[]): FeatureMatrix {
  const { width } = matrix;
  const data = new Float64Array(pick.length * width);
  pick.forEach((r, i) => data.set(matrix.data.subarray(r * width, (r + 1) * width), i * width));
  return { data, rows: pick.length, width };
}
