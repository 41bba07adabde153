/**
 * Whether the optional ONNX runtime (onnxruntime-node) loads here. The ONNX suites run only
 * when it does, and say so when it does not (global-setup.ts prints the reason too).
 */
import { loadOnnxRuntime } from '../../src/onnx/index.js';

export const ONNX_RUNTIME_MISSING: string | undefined = await loadOnnxRuntime().then(
  () => undefined,
  (e: Error) => e.message,
);

/** The imported model of test/fixtures/onnx (scripts/onnx-fixture/ made it). */
export const ONNX_FIXTURE = new URL('../fixtures/onnx/nsl-kdd-random-forest.onnx', import.meta.url).pathname;
