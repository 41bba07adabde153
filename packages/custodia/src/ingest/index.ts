export { readFhirFile, listImportFiles, totalBytes, type FhirFileItem } from './fhir-file-source.js';
export { openFlowFile, readFlows, detectFlowFormat, detectFlowFileFormat } from './flow-file-source.js';
export { type FlowStreamOptions } from './flow-stream.js';
