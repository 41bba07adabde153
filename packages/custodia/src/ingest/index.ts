export { readFhirFile, listImportFiles, totalBytes, type FhirFileItem } from './fhir-file-source.js';
