/**
 * An imported ONNX model as a Scorer (detect/scorer.ts), through onnxruntime-node.
 *
 * The model file is hostile input, like our JSON models: the runtime parses it (a
 * protobuf), and everything it refuses is `model-invalid`, never a crash. Then its
 * signature must be what the sidecar (detect/onnx-sidecar.ts) says: one input, a float
 * tensor [rows, features] whose width is the schema's; the sidecar's output, a float tensor
 * [rows, classes] with the normal column inside it (and, when the sidecar names the classes,
 * exactly one column per class). At scoring, every output value read must be a
 * probability, or the batch is refused (`model-invalid`) rather than half-scored.
 *
 * A row's score is 1 − P(normal). A model whose sidecar names its classes (a multi-class
 * classifier) calls an alert after its most probable attack class (the lowest column on a
 * tie); otherwise its alerts are `unknown`.
 *
 * The session runs on one thread (the machine is shared with the vault), sequentially.
 *
 * With a reference row in the sidecar, the scorer explains its alerts by Shapley values
 * (detect/shapley-explanation.ts), through its own `score`; without one it has no `explain`.
 */
import { attackProbabilityScores, explainByShapley, UNKNOWN_CLASS, NORMAL_CLASS, type DetectionScores, type FeatureMatrix, type OnnxSidecar, type Scorer } from '../detect/index.js';
import { CustodiaError } from '../kernel/index.js';
import type { OnnxRuntime, OrtSession, OrtValueMetadata } from './onnx-runtime.js';

/** The largest ONNX file accepted, in bytes. */
export const MAX_ONNX_MODEL_BYTES = 64 * 1024 * 1024;
/** Rows per run of the session. */
const CHUNK_ROWS = 8192;
/** How far outside [0, 1] float rounding may take a probability. */
const PROBABILITY_SLACK = 1e-5;

function invalid(message: string, cause?: unknown): CustodiaError {
  return new CustodiaError('model-invalid', `Invalid ONNX model: ${message}`, cause === undefined ? {} : { cause });
}

/** The runtime's own words, on one short printable line (they can quote the hostile file). */
function runtimeMessage(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 200);
}

type FloatType = 'float32' | 'float64';

function floatTensor(meta: OrtValueMetadata | undefined, where: string): { type: FloatType; shape: readonly (number | string)[] } {
  if (meta === undefined || !meta.isTensor) throw invalid(`${where} is not a tensor`);
  if (meta.type !== 'float32' && meta.type !== 'float64') throw invalid(`${where} is ${meta.type}, not float32 or float64`);
  if (meta.shape.length !== 2) throw invalid(`${where} is not a [rows, columns] tensor`);
  if (typeof meta.shape[0] === 'number') throw invalid(`${where} takes a fixed number of rows, not any number`);
  return { type: meta.type, shape: meta.shape };
}

function checkSignature(session: OrtSession, sidecar: OnnxSidecar): FloatType {
  const width = sidecar.schema.features.length;
  if (session.inputNames.length !== 1 || session.inputNames[0] !== sidecar.input) throw invalid(`it must have one input, named ${sidecar.input} as the sidecar says`);
  const input = floatTensor(session.inputMetadata[0], `input ${sidecar.input}`);
  if (input.shape[1] !== width) throw invalid(`input ${sidecar.input} takes ${typeof input.shape[1] === 'number' ? input.shape[1] : 'an unfixed number of'} features; the sidecar's schema ${sidecar.schema.id} has ${width}`);
  const at = session.outputNames.indexOf(sidecar.output);
  if (at < 0) throw invalid(`it has no output named ${sidecar.output}`);
  const output = floatTensor(session.outputMetadata[at], `output ${sidecar.output}`);
  const classes = output.shape[1];
  if (typeof classes === 'number' && classes <= sidecar.normalColumn) throw invalid(`output ${sidecar.output} has ${classes} columns; the sidecar's normal column is ${sidecar.normalColumn}`);
  if (typeof classes === 'number' && sidecar.classes !== undefined && classes !== sidecar.classes.length) throw invalid(`output ${sidecar.output} has ${classes} columns; the sidecar names ${sidecar.classes.length} classes`);
  return input.type;
}

async function createSession(runtime: OnnxRuntime, bytes: Uint8Array): Promise<OrtSession> {
  if (bytes.byteLength > MAX_ONNX_MODEL_BYTES) throw invalid(`it is larger than ${MAX_ONNX_MODEL_BYTES} bytes`);
  if (bytes.byteLength === 0) throw invalid('it is empty');
  try {
    return await runtime.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', logSeverityLevel: 3 });
  } catch (e) {
    throw invalid(`the ONNX runtime refused it (${runtimeMessage(e)})`, e);
  }
}

function probability(p: number, sidecar: OnnxSidecar, row: number): number {
  if (!(p >= -PROBABILITY_SLACK && p <= 1 + PROBABILITY_SLACK)) throw invalid(`output ${sidecar.output} is not a probability (row ${row})`);
  return p;
}

/**
 * 1 − P(normal) of each row of one run's output, checked to be probabilities, into
 * `pAttack`; with named classes, also each row's most probable attack class into
 * `attackClass` (an index of {@link classNames}: attack columns in order, from 1).
 */
function readProbabilities(out: { dims: readonly number[]; data: unknown } | undefined, rows: number, sidecar: OnnxSidecar, into: { pAttack: Float64Array; attackClass?: Int32Array }, at: number): void {
  const data = out?.data;
  if (out === undefined || !(data instanceof Float32Array || data instanceof Float64Array)) throw invalid(`output ${sidecar.output} is not a float tensor`);
  const [n, k] = out.dims;
  const normal = sidecar.normalColumn;
  if (out.dims.length !== 2 || n !== rows || k === undefined || k <= normal || data.length !== rows * k) throw invalid(`output ${sidecar.output} is not [rows, classes] with the normal column inside`);
  if (into.attackClass !== undefined && k !== sidecar.classes?.length) throw invalid(`output ${sidecar.output} does not have one column per class the sidecar names`);
  for (let r = 0; r < rows; r++) {
    into.pAttack[at + r] = Math.min(1, Math.max(0, 1 - probability(data[r * k + normal]!, sidecar, at + r + 1)));
    if (into.attackClass === undefined) continue;
    let best = -1;
    for (let c = 0; c < k; c++) if (c !== normal && probability(data[r * k + c]!, sidecar, at + r + 1) > (best < 0 ? -Infinity : data[r * k + best]!)) best = c;
    into.attackClass[at + r] = best < normal ? best + 1 : best;
  }
}

/** The names of the scorer's class indices: normal, then the attack classes in column order. */
function classNames(sidecar: OnnxSidecar): readonly string[] {
  return [NORMAL_CLASS, ...(sidecar.classes ?? []).filter((c) => c !== NORMAL_CLASS)];
}

/**
 * Opens `bytes` (an ONNX model) with `runtime`, checks it against `sidecar`, and returns
 * its Scorer. Close it when done.
 *
 * @example
 *   const scorer = await openOnnxScorer(await loadOnnxRuntime(), readFileSync('m.onnx'), parseOnnxSidecar(readFileSync('m.onnx.json')));
 *   const scores = await scorer.score(matrix);
 *   await scorer.close();
 */
export async function openOnnxScorer(runtime: OnnxRuntime, bytes: Uint8Array, sidecar: OnnxSidecar): Promise<Scorer> {
  const session = await createSession(runtime, bytes);
  let type: FloatType;
  try {
    type = checkSignature(session, sidecar);
  } catch (e) {
    await session.release();
    throw e;
  }
  const width = sidecar.schema.features.length;
  let released = false;
  const score = async (matrix: FeatureMatrix): Promise<DetectionScores> => {
    if (matrix.width !== width) throw new RangeError(`rows of ${matrix.width} features, the model takes ${width}`);
    const into = { pAttack: new Float64Array(matrix.rows), ...(sidecar.classes === undefined ? {} : { attackClass: new Int32Array(matrix.rows) }) };
    for (let at = 0; at < matrix.rows; at += CHUNK_ROWS) {
      const rows = Math.min(CHUNK_ROWS, matrix.rows - at);
      const slice = matrix.data.subarray(at * width, (at + rows) * width);
      const tensor = new runtime.Tensor(type, type === 'float32' ? new Float32Array(slice) : new Float64Array(slice), [rows, width]);
      let out: Record<string, { dims: readonly number[]; data: unknown }>;
      try {
        out = await session.run({ [sidecar.input]: tensor }, [sidecar.output]);
      } catch (e) {
        throw invalid(`the ONNX runtime failed to score it (${runtimeMessage(e)})`, e);
      }
      readProbabilities(out[sidecar.output], rows, sidecar, into, at);
    }
    return attackProbabilityScores(into.pAttack, sidecar.threshold, into.attackClass);
  };
  const names = classNames(sidecar);
  const scorer = {
    kind: 'onnx',
    schema: sidecar.schema,
    threshold: sidecar.threshold,
    score,
    className: (index: number) => (index < 0 ? UNKNOWN_CLASS : names[index] ?? UNKNOWN_CLASS),
    close: async () => {
      if (released) return;
      released = true;
      await session.release();
    },
  };
  const { reference } = sidecar;
  if (reference === undefined) return Object.freeze(scorer);
  return Object.freeze({ ...scorer, explain: (matrix: FeatureMatrix, scores: DetectionScores, count: number) => explainByShapley(scorer, reference, matrix, scores, count) });
}
