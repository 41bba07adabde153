/**
 * Device telemetry (issue 6 §1, §2): one message of a networked medical device — its
 * network counters and the vital signs it reports — in the shape of the WUSTL-EHMS 2020
 * data set (Hady, Ghubaish, Salman, Unal, Jain, "Intrusion Detection System for
 * Healthcare Systems Using Medical and Network Data: A Comparison Study", IEEE Access 8,
 * 2020; columns as published with the data set at Washington University in St. Louis).
 *
 * Why a record type of its own and not a fourth FlowRecord variant: a telemetry message
 * arrives on a topic, not on a line of a file; it carries vital signs, which no flow log
 * has; and it has no position but (topic, sequence). It keeps FlowRecord's discipline:
 * identifiers (addresses, MACs, ports) in `endpoints`, never among the features, and the
 * data set's label in `truth`, never an input.
 */
import type { FlowEndpoints, GroundTruth } from './flow-record.js';

/** Network counters per flow, as Argus names them in WUSTL-EHMS. */
export const NETWORK_FEATURES = [
  'SrcBytes', 'DstBytes', 'SrcLoad', 'DstLoad', 'SrcGap', 'DstGap', 'SIntPkt', 'DIntPkt', 'SIntPktAct', 'DIntPktAct',
  'SrcJitter', 'DstJitter', 'sMaxPktSz', 'dMaxPktSz', 'sMinPktSz', 'dMinPktSz', 'Dur', 'Trans', 'TotPkts', 'TotBytes',
  'Load', 'Loss', 'pLoss', 'pSrcLoss', 'pDstLoss', 'Rate', 'Packet_num',
] as const;
export type NetworkFeature = (typeof NETWORK_FEATURES)[number];

/**
 * Vital signs, as WUSTL-EHMS names them: temperature, oxygen saturation (%), pulse rate
 * from the oximeter (/min), systolic and diastolic blood pressure (mmHg), heart rate from
 * the ECG (/min), respiration rate (/min), ST segment (mV).
 */
export const VITAL_SIGNS = ['Temp', 'SpO2', 'Pulse_Rate', 'SYS', 'DIA', 'Heart_rate', 'Resp_Rate', 'ST'] as const;
export type VitalSign = (typeof VITAL_SIGNS)[number];

/** Where a message was read: its topic (or bus subject) and its sequence number there. */
export interface TelemetryPosition {
  readonly topic: string;
  /** 1-based count of messages received on this subscription (or the bus's stream sequence). */
  readonly sequence: number;
}

export interface TelemetryRecord {
  readonly source: 'wustl-ehms';
  /** The flow id: the message's `FlowId`, else one the source assigns. Unique per flow; the bus deduplicates on it. */
  readonly id: string;
  /** Epoch ms: the message's `ts`, else when it was received. */
  readonly timeMs: number;
  readonly position: TelemetryPosition;
  readonly endpoints: FlowEndpoints;
  readonly network: Readonly<Record<NetworkFeature, number>>;
  readonly vitals: Readonly<Record<VitalSign, number>>;
  /** Argus `Dir` and `Flgs`, as written (categorical; not used as features yet). */
  readonly direction?: string;
  readonly flags?: string;
  /** `Attack Category` and `Label` of the data set, when present: ground truth, never an input. */
  readonly truth?: GroundTruth;
}

/** A message a telemetry source or bus consumer refused: where, and why (never the content beyond a short excerpt). */
export interface BadTelemetry {
  readonly topic: string;
  readonly sequence: number;
  readonly reason: string;
}

/** The running report of a telemetry source or bus consumer. */
export interface TelemetryReport {
  readonly received: number;
  readonly records: number;
  readonly badRecords: number;
  /** The first bad messages (at most 20). */
  readonly firstBad: readonly BadTelemetry[];
  /** Messages dropped because the consumer was too far behind (bounded queue). */
  readonly dropped: number;
  /** A consumer of a bus partitioned by device: the partitions it consumes now. */
  readonly partitions?: readonly number[];
}
