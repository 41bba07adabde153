/**
 * The message brokers the streaming suites run against: Mosquitto when
 * CUSTODIA_TEST_MQTT_URL is set, NATS (with JetStream) when CUSTODIA_TEST_NATS_URL is set
 * (`.ci/run` starts both and sets them). Without them those suites are skipped, and
 * their names say which variable turns them on.
 */
export const MQTT_URL = process.env['CUSTODIA_TEST_MQTT_URL'];
export const NATS_URL = process.env['CUSTODIA_TEST_NATS_URL'];

export const mqttSuite = (name: string): string => `${name} (MQTT: ${MQTT_URL ?? 'skipped, set CUSTODIA_TEST_MQTT_URL'})`;
export const natsSuite = (name: string): string => `${name} (NATS JetStream: ${NATS_URL ?? 'skipped, set CUSTODIA_TEST_NATS_URL'})`;
