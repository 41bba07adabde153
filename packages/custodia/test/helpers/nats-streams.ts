/**
 * Cleanup for the suites that make telemetry buses on the shared nats-server: each bus
 * leaves a stream and its lease bucket (a KV bucket is the stream `KV_<bucket>`), and both
 * would outlive the run.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { leaseBucket } from '../../src/ingest/nats-bus-topology.js';
import { NATS_URL } from './brokers.js';

export async function removeTelemetryStreams(streams: readonly string[]): Promise<void> {
  const nc = await connect({ servers: NATS_URL! });
  const jsm = await jetstreamManager(nc);
  for (const s of streams) {
    await jsm.streams.delete(s).catch(() => undefined);
    await jsm.streams.delete(`KV_${leaseBucket(s)}`).catch(() => undefined);
  }
  await nc.close();
}
