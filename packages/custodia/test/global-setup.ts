/**
 * Runs once in the main vitest process: says which suites are skipped on this machine
 * and why, so a green run on a laptop never pretends it tested PostgreSQL, an HSM or the
 * message brokers.
 */
import { createRequire } from 'node:module';

export default function setup(): void {
  if (process.env['CUSTODIA_TEST_POSTGRES_URL'] === undefined) {
    process.stdout.write(
      '\n[custodia] CUSTODIA_TEST_POSTGRES_URL is not set: the PostgreSQL legs of the store, API and search suites are SKIPPED.\n' +
        '[custodia] Set it (e.g. postgres://postgres@127.0.0.1:5432/test) to run them; .ci/run does.\n\n',
    );
  } else {
    process.stdout.write('\n[custodia] PostgreSQL legs ON (CUSTODIA_TEST_POSTGRES_URL is set).\n\n');
  }
  if (process.env['CUSTODIA_TEST_SOFTHSM'] !== '1') {
    process.stdout.write(
      '[custodia] CUSTODIA_TEST_SOFTHSM is not set: the PKCS#11 key-provider suite (SoftHSM2) is SKIPPED.\n' +
        '[custodia] Install SoftHSM2 (packages/custodia/scripts/install-softhsm.sh) and set CUSTODIA_TEST_SOFTHSM=1 to run it; .ci/run does.\n\n',
    );
  } else {
    process.stdout.write('[custodia] PKCS#11 key-provider suite ON (CUSTODIA_TEST_SOFTHSM=1, SoftHSM2).\n\n');
  }
  if (process.env['CUSTODIA_TEST_MQTT_URL'] === undefined) {
    process.stdout.write(
      '[custodia] CUSTODIA_TEST_MQTT_URL is not set: the MQTT telemetry suites (Mosquitto, end to end to /detect/findings) are SKIPPED.\n' +
        '[custodia] Start Mosquitto and set it (e.g. mqtt://127.0.0.1:1883) to run them; .ci/run does.\n\n',
    );
  } else {
    process.stdout.write('[custodia] MQTT telemetry suites ON (CUSTODIA_TEST_MQTT_URL is set).\n\n');
  }
  if (process.env['CUSTODIA_TEST_NATS_URL'] === undefined) {
    process.stdout.write(
      '[custodia] CUSTODIA_TEST_NATS_URL is not set: the NATS JetStream bus suites are SKIPPED.\n' +
        '[custodia] Start nats-server with -js and set it (e.g. nats://127.0.0.1:4222) to run them; .ci/run does.\n\n',
    );
  } else {
    process.stdout.write('[custodia] NATS JetStream suites ON (CUSTODIA_TEST_NATS_URL is set).\n\n');
  }
  try {
    createRequire(import.meta.url)('onnxruntime-node');
    process.stdout.write('[custodia] ONNX model suites ON (the optional onnxruntime-node loads).\n\n');
  } catch {
    process.stdout.write(
      '[custodia] The optional onnxruntime-node does not load here: the ONNX model suites are SKIPPED.\n' +
        '[custodia] Install it with ONNXRUNTIME_NODE_INSTALL=skip npm ci to run them.\n\n',
    );
  }
}
