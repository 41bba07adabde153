/**
 * The ONNX adapter: imported models (trained elsewhere, exported as ONNX) scored through
 * onnxruntime-node behind the detect/ Scorer port. Only this module names the runtime;
 * app/ constructs it.
 */
export { loadOnnxRuntime, ONNX_RUNTIME_PACKAGE, type OnnxRuntime, type OrtSession, type OrtTensor, type OrtValueMetadata, type OrtSessionOptions } from './onnx-runtime.js';
export { openOnnxScorer, MAX_ONNX_MODEL_BYTES } from './onnx-scorer.js';
