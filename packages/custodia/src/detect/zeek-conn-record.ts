/**
 * A Zeek connection: the columns of `Conn::Info` (Zeek's base/protocols/conn/main.zeek,
 * the record logged to conn.log), under Zeek's own names. For UDP and ICMP a
 * "connection" is a flow; for ICMP the ports are the message type and code.
 *
 * The identifying columns (`uid`, `id.orig_h`, `id.orig_p`, `id.resp_h`, `id.resp_p`,
 * `tunnel_parents`, and the policy scripts' `orig_l2_addr`/`resp_l2_addr`, `vlan`,
 * `inner_vlan`, `community_id`) are not here: they go to the record's endpoints.
 */

/** `transport_proto`, Zeek's enum of transport protocols. */
export const ZEEK_TRANSPORTS = ['tcp', 'udp', 'icmp', 'unknown_transport'] as const;
export type ZeekTransport = (typeof ZEEK_TRANSPORTS)[number];

/**
 * The `conn_state` values Conn::Info documents (S0 … OTH). The field is a string in Zeek,
 * so a later version may log another; the parser accepts any short token.
 */
export const ZEEK_CONN_STATES = ['S0', 'S1', 'SF', 'REJ', 'S2', 'S3', 'RSTO', 'RSTR', 'RSTOS0', 'RSTRH', 'SH', 'SHR', 'OTH'] as const;

/** The measured columns of one conn.log row. Absent means unset (`-`) in the log. */
export interface ZeekConnFeatures {
  readonly proto: ZeekTransport;
  /** Confirmed application protocols, comma-separated (`dns`, `http,ssl`; `-x` for one Zeek dropped). */
  readonly service?: string;
  /** Seconds (`interval`); unset when Zeek saw no duration. Never negative. */
  readonly duration?: number;
  /** Payload bytes the originator sent (from TCP sequence numbers, so approximate). */
  readonly orig_bytes?: number;
  readonly resp_bytes?: number;
  readonly conn_state?: string;
  /** Whether the originator is in `Site::local_nets`; unset when that is not configured. */
  readonly local_orig?: boolean;
  readonly local_resp?: boolean;
  /** Bytes missed in content gaps (packet loss). */
  readonly missed_bytes?: number;
  /** The state history letters (`ShADadFf`). */
  readonly history?: string;
  readonly orig_pkts?: number;
  /** IP-level bytes (IP total_length) the originator sent. */
  readonly orig_ip_bytes?: number;
  readonly resp_pkts?: number;
  readonly resp_ip_bytes?: number;
  /** The IP protocol number from the header (Zeek 7+). */
  readonly ip_proto?: number;
}

/**
 * A value of a column this code does not know, typed by its `#types` entry (or by its
 * JSON type): numbers for time/interval/count/int/double/port, booleans for bool,
 * strings for addr/subnet/string/enum and anything else, arrays for set/vector/table.
 * An unset column is absent, as in Zeek's JSON logs.
 */
export type ZeekValue = string | number | boolean | readonly ZeekValue[];
