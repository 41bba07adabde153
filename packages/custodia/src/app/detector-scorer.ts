/**
 * The Scorer of a model file (detect/scorer.ts), whichever kind it is:
 *
 * - a Custodia JSON model (model-file.ts), scored in process;
 * - an ONNX model trained elsewhere — a file named `*.onnx`, or whose first byte is an
 *   ONNX ModelProto's (field 1, `ir_version`, a varint: 0x08) — scored through the
 *   optional onnxruntime-node (src/onnx/), with its sidecar `<model>.json` beside it
 *   (detect/onnx-sidecar.ts) saying which schema its columns are and which output scores.
 *
 * Both files are hostile input: size-limited before reading, every refusal `model-invalid`
 * (exit 2 in the CLI). An ONNX model without the runtime installed is `model-unsupported`.
 */
import { readFile, stat } from 'node:fs/promises';
import { MAX_ONNX_SIDECAR_BYTES, modelScorer, parseModelFile, parseOnnxSidecar, type OnnxSidecar, type Scorer } from '../detect/index.js';
import { CustodiaError, isCustodiaError } from '../kernel/index.js';
import { loadOnnxRuntime, MAX_ONNX_MODEL_BYTES, openOnnxScorer } from '../onnx/index.js';

const MAX_JSON_MODEL_BYTES = 64 * 1024 * 1024;
const ONNX_FIRST_BYTE = 0x08;

async function readLimited(path: string, maxBytes: number, what: string, missing: () => CustodiaError): Promise<Buffer> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new CustodiaError('request-malformed', `the ${what} is not a file`);
    if (s.size > maxBytes) throw new CustodiaError('model-invalid', `Invalid ${what}: it is larger than ${maxBytes} bytes`);
    return await readFile(path);
  } catch (e) {
    if (isCustodiaError(e)) throw e;
    if ((e as { code?: string }).code === 'ENOENT') throw missing();
    throw new CustodiaError('request-malformed', `cannot read the ${what} (${(e as { code?: string }).code ?? 'error'})`);
  }
}

/** True for a file to be read as ONNX: by name, or by its first byte when it is not JSON. */
export function isOnnxModel(path: string, bytes: Uint8Array): boolean {
  return /\.onnx$/i.test(path) || bytes[0] === ONNX_FIRST_BYTE;
}

/** The sidecar of the ONNX model at `modelPath` (`<model>.json`), read size-limited and checked: its bytes and what they say. */
export async function readOnnxSidecar(modelPath: string): Promise<{ readonly path: string; readonly bytes: Buffer; readonly sidecar: OnnxSidecar }> {
  const path = `${modelPath}.json`;
  const bytes = await readLimited(path, MAX_ONNX_SIDECAR_BYTES, 'ONNX sidecar', () => new CustodiaError('model-invalid', `Invalid ONNX model: its sidecar ${path} is missing (it names the feature schema, the output and the threshold; see docs/operations.md)`));
  return { path, bytes, sidecar: parseOnnxSidecar(bytes) };
}

async function openOnnx(path: string, bytes: Uint8Array): Promise<Scorer> {
  return openOnnxScorer(await loadOnnxRuntime(), bytes, (await readOnnxSidecar(path)).sidecar);
}

/**
 * Reads a model file as a Scorer; close it when done.
 *
 * @example
 *   const scorer = await readDetectorScorer('model.onnx'); // needs model.onnx.json beside it
 *   try { await scorer.score(matrix); } finally { await scorer.close(); }
 */
export async function readDetectorScorer(path: string): Promise<Scorer> {
  const missing = () => new CustodiaError('request-malformed', 'cannot read the model file (ENOENT)');
  const bytes = await readLimited(path, Math.max(MAX_JSON_MODEL_BYTES, MAX_ONNX_MODEL_BYTES), 'model file', missing);
  if (isOnnxModel(path, bytes)) return openOnnx(path, bytes);
  return modelScorer(parseModelFile(bytes, { maxBytes: MAX_JSON_MODEL_BYTES }));
}
