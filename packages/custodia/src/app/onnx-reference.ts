/**
 * The reference row of an imported ONNX model, computed from the operator's own normal
 * traffic and written into the model's sidecar (`custodia detect reference`): what its
 * alerts are then explained against by Shapley values (detect/shapley-explanation.ts,
 * detect/reference-row.ts). Without one an imported model scores but cannot explain.
 *
 * The rows used are those labelled `normal` in a labelled file, or every row of an
 * unlabelled file the operator vouches is all normal traffic (`allNormal`). The flow file and the sidecar
 * are hostile input, read as `detect score` reads them (bounded, every record checked, bad
 * ones counted and skipped); the sidecar is checked again with its new member before it
 * replaces the old one, atomically, so a refused or interrupted run leaves it as it was.
 */
import { statSync } from 'node:fs';
import { normalReferenceRow, parseOnnxSidecar, selectRows, type FlowFormat } from '../detect/index.js';
import { CustodiaError, secureRandom } from '../kernel/index.js';
import { writeFileAtomically } from '../store/index.js';
import { formatFor } from './detector-files.js';
import { readOnnxSidecar } from './detector-scorer.js';
import { readAllFlowRows, type FlowReadReport } from './flow-rows.js';

export interface OnnxReferenceResult {
  /** The sidecar written. */
  readonly sidecar: string;
  /** Normal rows the reference was computed from. */
  readonly rows: number;
  readonly report: FlowReadReport;
}

/**
 * Computes the reference row of the ONNX model at `modelPath` from the normal rows of
 * `input` and writes it into the model's sidecar.
 *
 * @example
 *   await writeOnnxReference('model.onnx', 'normal-week.log', { format: 'zeek', allNormal: true });
 */
export async function writeOnnxReference(modelPath: string, input: string, o: { readonly format?: FlowFormat; readonly allNormal?: boolean } = {}): Promise<OnnxReferenceResult> {
  const { path, bytes, sidecar } = await readOnnxSidecar(modelPath);
  const format = formatFor(sidecar, o.format);
  const { matrix, classes, report } = await readAllFlowRows(input, format, sidecar.schema);
  const labelled = classes.some((c) => c !== undefined);
  if (!labelled && o.allNormal !== true) throw new CustodiaError('request-malformed', `${input} has no labels: give --all-normal if every row in it is normal traffic, or a labelled file`);
  const normal = classes.flatMap((c, i) => (!labelled || c === 'normal' ? [i] : []));
  if (normal.length === 0) throw new CustodiaError('request-malformed', `${input} has no row labelled normal to compute a reference from`);
  const reference = normalReferenceRow(sidecar.schema, selectRows(matrix, normal));
  // The sidecar was checked as it was read; it is rewritten member for member, with the reference set.
  const text = `${JSON.stringify({ ...(JSON.parse(bytes.toString('utf8')) as Record<string, unknown>), reference: [...reference] }, null, 2)}\n`;
  parseOnnxSidecar(Buffer.from(text, 'utf8'));
  writeFileAtomically(path, text, statSync(path).mode & 0o777, secureRandom);
  return { sidecar: path, rows: normal.length, report };
}
