// A scorer on the NATS telemetry bus in a process of its own (the built package, dist/),
// for tests that kill it with SIGKILL: it prints `ready` once it holds its first
// partitions, then `handled <flow id>` as each record reaches its handler (before the
// acknowledgement), and takes 20 ms a record.
// Arguments: NATS URL, stream, subject, partitions, lease ms, ack wait ms.
import { NatsTelemetryBus } from '../../dist/ingest/index.js';
import { systemClock } from '../../dist/kernel/index.js';

const [url, stream, subject, partitions, leaseMs, ackWaitMs] = process.argv.slice(2);
const bus = await NatsTelemetryBus.open({ url, stream, subject, durable: 'scorers', partitions: Number(partitions), leaseMs: Number(leaseMs), ackWaitMs: Number(ackWaitMs), prefetch: 16, clock: systemClock });
await bus.consume(async (r) => {
  process.stdout.write(`handled ${r.id}\n`);
  await new Promise((res) => setTimeout(res, 20));
});
process.stdout.write('ready\n');
