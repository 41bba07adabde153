/**
 * The column spellings of CICFlowMeter CSV files, by canonical feature. Three dialects
 * are known, and they disagree:
 * - CIC-IDS2017 (the published CSVs): long names, most with a leading space
 *   (" Flow Duration", " Total Backward Packets"), `Init_Win_bytes_forward`-style
 *   snake names, "Fwd Header Length" twice;
 * - CSE-CIC-IDS2018 (the published CSVs): abbreviations ("Tot Fwd Pkts",
 *   "Flow Byts/s", "Init Fwd Win Byts");
 * - CICFlowMeter-V4 (the tool's own header, FlowFeature.java): "Total Fwd Packet",
 *   "Total Bwd packets", "FWD Init Win Bytes", "CWR Flag Count".
 *
 * Names are compared after normalising: lower case, everything but letters and digits
 * removed, so " Flow Bytes/s", "Flow Bytes/s" and "flow_bytes_s" are one name.
 */
import type { CicFeatureName } from '../detect/index.js';

/** What a column holds: a feature, an endpoint identifier, the time, the label. */
export type CicColumn =
  | { readonly kind: 'feature'; readonly name: CicFeatureName }
  | { readonly kind: 'flowId' | 'origAddr' | 'origPort' | 'respAddr' | 'respPort' | 'timestamp' | 'label' };

const FEATURE_SPELLINGS: readonly (readonly [CicFeatureName, ...string[]])[] = [
  ['protocol', 'Protocol'],
  ['flow_duration', 'Flow Duration'],
  ['total_fwd_packets', 'Total Fwd Packets', 'Tot Fwd Pkts', 'Total Fwd Packet'],
  ['total_bwd_packets', 'Total Backward Packets', 'Tot Bwd Pkts', 'Total Bwd packets'],
  ['total_length_fwd_packets', 'Total Length of Fwd Packets', 'TotLen Fwd Pkts', 'Total Length of Fwd Packet'],
  ['total_length_bwd_packets', 'Total Length of Bwd Packets', 'TotLen Bwd Pkts', 'Total Length of Bwd Packet'],
  ['fwd_packet_length_max', 'Fwd Packet Length Max', 'Fwd Pkt Len Max'],
  ['fwd_packet_length_min', 'Fwd Packet Length Min', 'Fwd Pkt Len Min'],
  ['fwd_packet_length_mean', 'Fwd Packet Length Mean', 'Fwd Pkt Len Mean'],
  ['fwd_packet_length_std', 'Fwd Packet Length Std', 'Fwd Pkt Len Std'],
  ['bwd_packet_length_max', 'Bwd Packet Length Max', 'Bwd Pkt Len Max'],
  ['bwd_packet_length_min', 'Bwd Packet Length Min', 'Bwd Pkt Len Min'],
  ['bwd_packet_length_mean', 'Bwd Packet Length Mean', 'Bwd Pkt Len Mean'],
  ['bwd_packet_length_std', 'Bwd Packet Length Std', 'Bwd Pkt Len Std'],
  ['flow_bytes_per_s', 'Flow Bytes/s', 'Flow Byts/s'],
  ['flow_packets_per_s', 'Flow Packets/s', 'Flow Pkts/s'],
  ['flow_iat_mean', 'Flow IAT Mean'],
  ['flow_iat_std', 'Flow IAT Std'],
  ['flow_iat_max', 'Flow IAT Max'],
  ['flow_iat_min', 'Flow IAT Min'],
  ['fwd_iat_total', 'Fwd IAT Total', 'Fwd IAT Tot'],
  ['fwd_iat_mean', 'Fwd IAT Mean'],
  ['fwd_iat_std', 'Fwd IAT Std'],
  ['fwd_iat_max', 'Fwd IAT Max'],
  ['fwd_iat_min', 'Fwd IAT Min'],
  ['bwd_iat_total', 'Bwd IAT Total', 'Bwd IAT Tot'],
  ['bwd_iat_mean', 'Bwd IAT Mean'],
  ['bwd_iat_std', 'Bwd IAT Std'],
  ['bwd_iat_max', 'Bwd IAT Max'],
  ['bwd_iat_min', 'Bwd IAT Min'],
  ['fwd_psh_flags', 'Fwd PSH Flags'],
  ['bwd_psh_flags', 'Bwd PSH Flags'],
  ['fwd_urg_flags', 'Fwd URG Flags'],
  ['bwd_urg_flags', 'Bwd URG Flags'],
  ['fwd_header_length', 'Fwd Header Length', 'Fwd Header Len'],
  ['bwd_header_length', 'Bwd Header Length', 'Bwd Header Len'],
  ['fwd_packets_per_s', 'Fwd Packets/s', 'Fwd Pkts/s'],
  ['bwd_packets_per_s', 'Bwd Packets/s', 'Bwd Pkts/s'],
  ['packet_length_min', 'Min Packet Length', 'Pkt Len Min', 'Packet Length Min'],
  ['packet_length_max', 'Max Packet Length', 'Pkt Len Max', 'Packet Length Max'],
  ['packet_length_mean', 'Packet Length Mean', 'Pkt Len Mean'],
  ['packet_length_std', 'Packet Length Std', 'Pkt Len Std'],
  ['packet_length_variance', 'Packet Length Variance', 'Pkt Len Var'],
  ['fin_flag_count', 'FIN Flag Count', 'FIN Flag Cnt'],
  ['syn_flag_count', 'SYN Flag Count', 'SYN Flag Cnt'],
  ['rst_flag_count', 'RST Flag Count', 'RST Flag Cnt'],
  ['psh_flag_count', 'PSH Flag Count', 'PSH Flag Cnt'],
  ['ack_flag_count', 'ACK Flag Count', 'ACK Flag Cnt'],
  ['urg_flag_count', 'URG Flag Count', 'URG Flag Cnt'],
  // The data sets' "CWE" is a typo for CWR (Congestion Window Reduced); the tool fixed it.
  ['cwr_flag_count', 'CWE Flag Count', 'CWR Flag Count', 'CWE Flag Cnt'],
  ['ece_flag_count', 'ECE Flag Count', 'ECE Flag Cnt'],
  ['down_up_ratio', 'Down/Up Ratio'],
  ['average_packet_size', 'Average Packet Size', 'Pkt Size Avg'],
  ['fwd_segment_size_avg', 'Avg Fwd Segment Size', 'Fwd Seg Size Avg', 'Fwd Segment Size Avg'],
  ['bwd_segment_size_avg', 'Avg Bwd Segment Size', 'Bwd Seg Size Avg', 'Bwd Segment Size Avg'],
  ['fwd_bytes_per_bulk_avg', 'Fwd Avg Bytes/Bulk', 'Fwd Byts/b Avg', 'Fwd Bytes/Bulk Avg'],
  ['fwd_packets_per_bulk_avg', 'Fwd Avg Packets/Bulk', 'Fwd Pkts/b Avg', 'Fwd Packet/Bulk Avg'],
  ['fwd_bulk_rate_avg', 'Fwd Avg Bulk Rate', 'Fwd Blk Rate Avg', 'Fwd Bulk Rate Avg'],
  ['bwd_bytes_per_bulk_avg', 'Bwd Avg Bytes/Bulk', 'Bwd Byts/b Avg', 'Bwd Bytes/Bulk Avg'],
  ['bwd_packets_per_bulk_avg', 'Bwd Avg Packets/Bulk', 'Bwd Pkts/b Avg', 'Bwd Packet/Bulk Avg'],
  ['bwd_bulk_rate_avg', 'Bwd Avg Bulk Rate', 'Bwd Blk Rate Avg', 'Bwd Bulk Rate Avg'],
  ['subflow_fwd_packets', 'Subflow Fwd Packets', 'Subflow Fwd Pkts'],
  ['subflow_fwd_bytes', 'Subflow Fwd Bytes', 'Subflow Fwd Byts'],
  ['subflow_bwd_packets', 'Subflow Bwd Packets', 'Subflow Bwd Pkts'],
  ['subflow_bwd_bytes', 'Subflow Bwd Bytes', 'Subflow Bwd Byts'],
  ['init_fwd_win_bytes', 'Init_Win_bytes_forward', 'Init Fwd Win Byts', 'FWD Init Win Bytes'],
  ['init_bwd_win_bytes', 'Init_Win_bytes_backward', 'Init Bwd Win Byts', 'Bwd Init Win Bytes'],
  ['fwd_act_data_packets', 'act_data_pkt_fwd', 'Fwd Act Data Pkts'],
  ['fwd_seg_size_min', 'min_seg_size_forward', 'Fwd Seg Size Min'],
  ['active_mean', 'Active Mean'],
  ['active_std', 'Active Std'],
  ['active_max', 'Active Max'],
  ['active_min', 'Active Min'],
  ['idle_mean', 'Idle Mean'],
  ['idle_std', 'Idle Std'],
  ['idle_max', 'Idle Max'],
  ['idle_min', 'Idle Min'],
];

const OTHER_SPELLINGS: readonly (readonly [Exclude<CicColumn['kind'], 'feature'>, ...string[]])[] = [
  ['flowId', 'Flow ID'],
  ['origAddr', 'Source IP', 'Src IP'],
  ['origPort', 'Source Port', 'Src Port'],
  ['respAddr', 'Destination IP', 'Dst IP'],
  ['respPort', 'Destination Port', 'Dst Port'],
  ['timestamp', 'Timestamp'],
  ['label', 'Label'],
];

/** A column name as compared: lower case, letters and digits only. */
export function normaliseColumnName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

const COLUMNS = new Map<string, CicColumn>();
function add(spelling: string, column: CicColumn): void {
  const key = normaliseColumnName(spelling);
  // Two spellings that normalise alike must mean the same column; a table edit that breaks this fails at load.
  if (COLUMNS.has(key)) throw new Error(`CICFlowMeter spelling ${spelling} is already taken`);
  COLUMNS.set(key, column);
}
for (const [name, ...spellings] of FEATURE_SPELLINGS) for (const s of spellings) add(s, { kind: 'feature', name });
for (const [kind, ...spellings] of OTHER_SPELLINGS) for (const s of spellings) add(s, { kind });

/**
 * CIC-IDS2017 writes "Fwd Header Length" a second time (column 62, the same values);
 * saved through pandas it becomes "Fwd Header Length.1". The repeat is ignored.
 */
export const KNOWN_DUPLICATE: CicFeatureName = 'fwd_header_length';
export const PANDAS_DUPLICATE = normaliseColumnName('Fwd Header Length.1');

/** What the column `name` holds, or undefined for a column this reader does not know. */
export function cicColumn(name: string): CicColumn | undefined {
  return COLUMNS.get(normaliseColumnName(name));
}
