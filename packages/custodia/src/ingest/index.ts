export { readFhirFile, listImportFiles, totalBytes, type FhirFileItem } from './fhir-file-source.js';
export { openFlowFile, readFlows, detectFlowFormat, detectFlowFileFormat } from './flow-file-source.js';
export { type FlowStreamOptions } from './flow-stream.js';
export { parseTelemetryMessage, formatTelemetryMessage, TELEMETRY_MAX_BYTES, type TelemetryParseContext } from './wustl-message.js';
export { RecordRefused } from './record-refused.js';
export { openMqttTelemetry, type MqttTelemetryOptions, type MqttTelemetrySource } from './mqtt-telemetry-source.js';
export { NatsTelemetryBus, type NatsBusOptions } from './nats-telemetry-bus.js';
export type { BrokerTls, NatsAuth } from './broker-connection.js';
