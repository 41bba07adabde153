/**
 * The part of onnxruntime-node (an optional dependency: a native addon, installed with
 * `ONNXRUNTIME_NODE_INSTALL=skip` and its install script denied) that the ONNX scorer
 * uses, declared structurally — as kysely declares the part of better-sqlite3 it uses —
 * so that the project type-checks, builds and runs without the package. It is loaded on
 * first use, never at start-up; absent or unloadable, it is `model-unsupported`.
 */
import { CustodiaError } from '../kernel/index.js';

/** The package that provides the runtime. Named only here (test/architecture.test.ts checks). */
export const ONNX_RUNTIME_PACKAGE = 'onnxruntime-node';

export interface OrtTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
}

export type OrtValueMetadata = { readonly name: string; readonly isTensor: false } | { readonly name: string; readonly isTensor: true; readonly type: string; readonly shape: readonly (number | string)[] };

export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly OrtValueMetadata[];
  readonly outputMetadata: readonly OrtValueMetadata[];
  run(feeds: Record<string, OrtTensor>, fetches: readonly string[]): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

export interface OrtSessionOptions {
  readonly intraOpNumThreads?: number;
  readonly interOpNumThreads?: number;
  readonly executionMode?: 'sequential' | 'parallel';
  readonly logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

export interface OnnxRuntime {
  readonly InferenceSession: { create(model: Uint8Array, options?: OrtSessionOptions): Promise<OrtSession> };
  readonly Tensor: new (type: 'float32' | 'float64', data: Float32Array | Float64Array, dims: readonly number[]) => OrtTensor;
}

function hasRuntime(m: unknown): m is OnnxRuntime {
  const r = m as Partial<OnnxRuntime> | null;
  return typeof r === 'object' && r !== null && typeof r.InferenceSession?.create === 'function' && typeof r.Tensor === 'function';
}

/**
 * Loads the runtime, or throws `model-unsupported` saying how to get it.
 *
 * @example
 *   const ort = await loadOnnxRuntime();
 */
export async function loadOnnxRuntime(packageName: string = ONNX_RUNTIME_PACKAGE): Promise<OnnxRuntime> {
  let m: unknown;
  try {
    m = await import(packageName);
  } catch (e) {
    throw new CustodiaError('model-unsupported', `ONNX models need the optional package ${ONNX_RUNTIME_PACKAGE}, which is not installed or does not load here (install it with ONNXRUNTIME_NODE_INSTALL=skip npm install), or use a Custodia JSON model`, { cause: e });
  }
  // A CommonJS package: its exports are the namespace's default, and usually named too.
  const runtime = hasRuntime(m) ? m : (m as { default?: unknown }).default;
  if (!hasRuntime(runtime)) throw new CustodiaError('model-unsupported', `the installed ${ONNX_RUNTIME_PACKAGE} does not offer InferenceSession and Tensor`);
  return runtime;
}
