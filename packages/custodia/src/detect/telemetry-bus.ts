/**
 * The bus between ingestion and scoring (issue 6 §1): ingestion publishes telemetry
 * records to a subject; scorers consume them. Several consumers of one bus share the
 * work: each record goes to one of them, and a record a consumer took but did not finish
 * (it stopped, crashed, or its handler threw) goes to another. Delivery is at least once;
 * the flow id lets the bus drop duplicate publishes.
 *
 * Adapters: {@link InProcessBus} (the default: one process, no broker) and the NATS
 * JetStream adapter in ingest/ (a work-queue stream and a durable pull consumer with
 * explicit acks).
 */
import type { TelemetryRecord, TelemetryReport } from './telemetry-record.js';

/** Handles one record; the bus acknowledges it when the promise resolves, and redelivers it when it rejects. */
export type TelemetryHandler = (record: TelemetryRecord) => Promise<void>;

export interface BusConsumer {
  /** Stops taking records. Records taken and not yet handled are redelivered to other consumers. */
  stop(): Promise<void>;
  /** What this consumer received, handled and refused. */
  report(): TelemetryReport;
  /** Settles when the consumer has stopped (by `stop`, or because the bus closed). */
  readonly done: Promise<void>;
}

/**
 * What a consumer of a partitioned bus is told about the partitions it gives up, so that
 * state kept per device (the baselines) can follow them. Partition k of P holds the records
 * of the senders with `partitionOf(senderKey, P) === k` (telemetry-partition.ts). An
 * unpartitioned bus never calls them.
 */
export interface ConsumerHooks {
  /**
   * The consumer has stopped taking partition k's records and is about to hand it to
   * another consumer, which will start on it once the promise settles (or after a bounded
   * wait): the moment to write what the next holder should start from.
   */
  readonly releasing?: (partition: number, partitions: number) => Promise<void>;
  /** Partition k was lost without a hand-over (its lease expired): another consumer may already hold it. */
  readonly lost?: (partition: number, partitions: number) => void;
}

/** What became of a publish: the bus holds the record, or already held one with its flow id and dropped this one. */
export type PublishOutcome = 'held' | 'duplicate';

export interface TelemetryBus {
  /** Publishes one record; resolves when the bus holds it (or has dropped it as a duplicate), saying which. */
  publish(record: TelemetryRecord): Promise<PublishOutcome>;
  /** Starts a consumer that shares this bus's records with the others. */
  consume(handler: TelemetryHandler, hooks?: ConsumerHooks): Promise<BusConsumer>;
  close(): Promise<void>;
}
