/**
 * The typed flow record every FlowSource yields (issue 6 §1): a discriminated union on
 * `source`, one variant per kind of input, over a small common core.
 *
 * Why a union and not one flat record: the sources measure different things. Zeek
 * counts payload and IP bytes and packets per direction; CICFlowMeter writes ~77
 * per-direction statistics in microseconds; KDD'99 has 41 connection and host-window
 * features computed in 1999. One flat record would either drop each source's own
 * features or become a bag of optionals in which "absent" could mean "this source never
 * has it" as well as "this row did not". Here each variant keeps its source's features
 * under their documented names, and `source` tells a consumer which set it holds; a
 * feature schema is written per source, on purpose.
 *
 * The common core keeps apart what must never become a model feature:
 * - `endpoints`: identifiers (addresses, ports, MACs, flow ids). They link a flow to a
 *   FHIR Device. Issue 6 forbids identifiers as features where they would leak the
 *   label, so they are not in `features` at all; a schema that wants, say, the service
 *   port must take it from here by name.
 * - `truth`: the data set's label (and NSL-KDD's difficulty). Ground truth for training
 *   and evaluation, never an input.
 * - `line`: where the record was read, for reports and for joining scores back to rows.
 */
import type { CicFlowFeatures } from './cic-flow-record.js';
import type { NslKddFeatures } from './nsl-kdd-record.js';
import type { ZeekConnFeatures, ZeekValue } from './zeek-conn-record.js';

/** The input formats, as the CLI names them (`--format`). */
export const FLOW_FORMATS = ['nsl-kdd', 'zeek', 'cicflowmeter'] as const;
export type FlowFormat = (typeof FLOW_FORMATS)[number];

/**
 * Who talked to whom: identifiers only. Each is absent when the source does not carry
 * it (NSL-KDD carries none; CIC-IDS2017's MachineLearningCVE files only the
 * destination port). Addresses are as written (IPv4 dotted quad or IPv6); MACs are
 * lower-case colon-separated.
 */
export interface FlowEndpoints {
  /** The source's flow identifier: Zeek's `uid`, CICFlowMeter's `Flow ID`. */
  readonly flowId?: string;
  /** Zeek's `community_id` (Community ID flow hash), when logged. */
  readonly communityId?: string;
  readonly origAddr?: string;
  readonly origPort?: number;
  readonly origMac?: string;
  readonly respAddr?: string;
  readonly respPort?: number;
  readonly respMac?: string;
  readonly vlan?: number;
  readonly innerVlan?: number;
  /** uids of the tunnels this connection was carried in (Zeek `tunnel_parents`). */
  readonly tunnelParents?: readonly string[];
}

/** The label a data set gives a row: `normal`, an attack name, `BENIGN`, … */
export interface GroundTruth {
  readonly label: string;
  /** NSL-KDD's difficulty level, 0–21 (how many of 21 learners classified it right). */
  readonly difficulty?: number;
}

interface FlowRecordCore {
  /** The 1-based line of the input the record was read from. */
  readonly line: number;
  readonly endpoints: FlowEndpoints;
  readonly truth?: GroundTruth;
}

/** A Zeek conn.log row (TSV or JSON). */
export interface ZeekFlowRecord extends FlowRecordCore {
  readonly source: 'zeek';
  /** `ts`: the first packet's time, seconds since the Unix epoch. */
  readonly startTime: number;
  readonly features: ZeekConnFeatures;
  /** Columns Conn::Info does not define (added by local scripts), by name. */
  readonly extra?: Readonly<Record<string, ZeekValue>>;
}

/** A CICFlowMeter CSV row (the tool's output, CIC-IDS2017, CSE-CIC-IDS2018). */
export interface CicFlowRecord extends FlowRecordCore {
  readonly source: 'cicflowmeter';
  /**
   * `Timestamp` as written. The files disagree on day/month order, 12/24-hour clock and
   * time zone (none is stated), so it is kept as text rather than guessed at.
   */
  readonly timestamp?: string;
  readonly features: CicFlowFeatures;
}

/** An NSL-KDD / KDD'99 row. */
export interface NslKddFlowRecord extends FlowRecordCore {
  readonly source: 'nsl-kdd';
  readonly features: NslKddFeatures;
}

export type FlowRecord = ZeekFlowRecord | CicFlowRecord | NslKddFlowRecord;
