/**
 * A CICFlowMeter bidirectional flow: the statistics CICFlowMeter (Canadian Institute for
 * Cybersecurity, UNB; Draper-Gil, Habibi Lashkari, Mamun and Ghorbani, ICISSP 2016)
 * writes per flow, which the CIC-IDS2017 and CSE-CIC-IDS2018 data sets publish as CSV.
 * "Forward" is the direction of the flow's first packet.
 *
 * The tool's versions and the data sets spell the columns differently ("Total Fwd
 * Packets", "Tot Fwd Pkts", "Total Fwd Packet"); these are one canonical name per
 * feature, in the tool's column order. Units are CICFlowMeter's: durations and
 * inter-arrival times (IAT) in microseconds, lengths in bytes, rates per second.
 *
 * The flow id, addresses and ports are not features here: they go to the record's
 * endpoints. `protocol` (the IP protocol number) is a feature.
 */
export const CIC_FEATURES = [
  'protocol', 'flow_duration',
  'total_fwd_packets', 'total_bwd_packets', 'total_length_fwd_packets', 'total_length_bwd_packets',
  'fwd_packet_length_max', 'fwd_packet_length_min', 'fwd_packet_length_mean', 'fwd_packet_length_std',
  'bwd_packet_length_max', 'bwd_packet_length_min', 'bwd_packet_length_mean', 'bwd_packet_length_std',
  'flow_bytes_per_s', 'flow_packets_per_s',
  'flow_iat_mean', 'flow_iat_std', 'flow_iat_max', 'flow_iat_min',
  'fwd_iat_total', 'fwd_iat_mean', 'fwd_iat_std', 'fwd_iat_max', 'fwd_iat_min',
  'bwd_iat_total', 'bwd_iat_mean', 'bwd_iat_std', 'bwd_iat_max', 'bwd_iat_min',
  'fwd_psh_flags', 'bwd_psh_flags', 'fwd_urg_flags', 'bwd_urg_flags',
  'fwd_header_length', 'bwd_header_length', 'fwd_packets_per_s', 'bwd_packets_per_s',
  'packet_length_min', 'packet_length_max', 'packet_length_mean', 'packet_length_std', 'packet_length_variance',
  'fin_flag_count', 'syn_flag_count', 'rst_flag_count', 'psh_flag_count', 'ack_flag_count', 'urg_flag_count',
  'cwr_flag_count', 'ece_flag_count',
  'down_up_ratio', 'average_packet_size', 'fwd_segment_size_avg', 'bwd_segment_size_avg',
  'fwd_bytes_per_bulk_avg', 'fwd_packets_per_bulk_avg', 'fwd_bulk_rate_avg',
  'bwd_bytes_per_bulk_avg', 'bwd_packets_per_bulk_avg', 'bwd_bulk_rate_avg',
  'subflow_fwd_packets', 'subflow_fwd_bytes', 'subflow_bwd_packets', 'subflow_bwd_bytes',
  'init_fwd_win_bytes', 'init_bwd_win_bytes', 'fwd_act_data_packets', 'fwd_seg_size_min',
  'active_mean', 'active_std', 'active_max', 'active_min',
  'idle_mean', 'idle_std', 'idle_max', 'idle_min',
] as const;

export type CicFeatureName = (typeof CIC_FEATURES)[number];

/**
 * The features one CSV row has. A column the file lacks is absent, and so is a value
 * the file wrote as `Infinity` or `NaN` (CICFlowMeter divides by a zero duration for
 * `flow_bytes_per_s` and `flow_packets_per_s`). Other values are kept as written,
 * including the tool's sentinels (`init_fwd_win_bytes` of -1 when no window was seen).
 */
export type CicFlowFeatures = { readonly [K in CicFeatureName]?: number };
