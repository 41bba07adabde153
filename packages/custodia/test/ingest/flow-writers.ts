/**
 * Writers of the three flow formats, for the round-trip property tests: a record written
 * the way Zeek, CICFlowMeter or the NSL-KDD files write it must parse back to itself.
 * Numbers are written with String(), the shortest text that reads back to the same double.
 */
import { NSL_KDD_FEATURES, type CicFlowRecord, type NslKddFlowRecord, type ZeekFlowRecord, type ZeekValue } from '../../src/detect/index.js';

export function writeNslKdd(r: NslKddFlowRecord): string {
  const fields: (string | number)[] = NSL_KDD_FEATURES.map((f) => r.features[f]);
  if (r.truth !== undefined) fields.push(r.truth.label);
  if (r.truth?.difficulty !== undefined) fields.push(r.truth.difficulty);
  return fields.join(',');
}

/** The TSV header for the columns ZEEK_TSV_COLUMNS, with one local string column. */
export const ZEEK_TSV_COLUMNS: readonly (readonly [string, string])[] = [
  ['ts', 'time'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'], ['id.resp_h', 'addr'], ['id.resp_p', 'port'],
  ['proto', 'enum'], ['service', 'string'], ['duration', 'interval'], ['orig_bytes', 'count'], ['resp_bytes', 'count'],
  ['conn_state', 'string'], ['local_orig', 'bool'], ['local_resp', 'bool'], ['missed_bytes', 'count'], ['history', 'string'],
  ['orig_pkts', 'count'], ['orig_ip_bytes', 'count'], ['resp_pkts', 'count'], ['resp_ip_bytes', 'count'],
  ['tunnel_parents', 'set[string]'], ['ip_proto', 'count'], ['orig_l2_addr', 'string'], ['resp_l2_addr', 'string'],
  ['vlan', 'int'], ['inner_vlan', 'int'], ['community_id', 'string'], ['note', 'string'],
];

export const ZEEK_TSV_HEADER = [
  '#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-', '#path\tconn', '#open\t2026-01-01-00-00-00',
  `#fields\t${ZEEK_TSV_COLUMNS.map((c) => c[0]).join('\t')}`, `#types\t${ZEEK_TSV_COLUMNS.map((c) => c[1]).join('\t')}`,
].join('\n');

const hex = (s: string): string => [...Buffer.from(s, 'utf8')].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');

/** A string as Zeek's ASCII writer escapes it: separators, controls and the markers as \xHH. */
function zeekString(s: string): string {
  if (s === '') return '(empty)';
  if (s === '-' || s === '(empty)') return hex(s);
  return s.replace(/[\u0000-\u001f\u007f\\,]/g, (c) => hex(c));
}

function zeekValue(v: ZeekValue | undefined): string {
  if (v === undefined || v === null) return '-';
  if (typeof v === 'boolean') return v ? 'T' : 'F';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return zeekString(v);
  return v.length === 0 ? '(empty)' : v.map((e) => zeekValue(e)).join(',');
}

/** Column name → value of a record, in Zeek's names (undefined when unset). */
function zeekColumns(r: ZeekFlowRecord): Record<string, ZeekValue | undefined> {
  const e = r.endpoints;
  return {
    ts: r.startTime, uid: e.flowId, 'id.orig_h': e.origAddr, 'id.orig_p': e.origPort, 'id.resp_h': e.respAddr, 'id.resp_p': e.respPort,
    ...r.features, tunnel_parents: e.tunnelParents, orig_l2_addr: e.origMac, resp_l2_addr: e.respMac, vlan: e.vlan,
    inner_vlan: e.innerVlan, community_id: e.communityId, ...r.extra,
  };
}

export function writeZeekTsv(r: ZeekFlowRecord): string {
  const columns = zeekColumns(r);
  return ZEEK_TSV_COLUMNS.map(([name]) => zeekValue(columns[name])).join('\t');
}

export function writeZeekJson(r: ZeekFlowRecord): string {
  return JSON.stringify(zeekColumns(r)); // undefined (unset) columns are left out, as Zeek does
}

/** The CICFlowMeter-V4 header, its own spellings (FlowFeature.java). */
export const CIC_V4_HEADER =
  'Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp,Flow Duration,Total Fwd Packet,Total Bwd packets,Total Length of Fwd Packet,Total Length of Bwd Packet,Fwd Packet Length Max,Fwd Packet Length Min,Fwd Packet Length Mean,Fwd Packet Length Std,Bwd Packet Length Max,Bwd Packet Length Min,Bwd Packet Length Mean,Bwd Packet Length Std,Flow Bytes/s,Flow Packets/s,Flow IAT Mean,Flow IAT Std,Flow IAT Max,Flow IAT Min,Fwd IAT Total,Fwd IAT Mean,Fwd IAT Std,Fwd IAT Max,Fwd IAT Min,Bwd IAT Total,Bwd IAT Mean,Bwd IAT Std,Bwd IAT Max,Bwd IAT Min,Fwd PSH Flags,Bwd PSH Flags,Fwd URG Flags,Bwd URG Flags,Fwd Header Length,Bwd Header Length,Fwd Packets/s,Bwd Packets/s,Packet Length Min,Packet Length Max,Packet Length Mean,Packet Length Std,Packet Length Variance,FIN Flag Count,SYN Flag Count,RST Flag Count,PSH Flag Count,ACK Flag Count,URG Flag Count,CWR Flag Count,ECE Flag Count,Down/Up Ratio,Average Packet Size,Fwd Segment Size Avg,Bwd Segment Size Avg,Fwd Bytes/Bulk Avg,Fwd Packet/Bulk Avg,Fwd Bulk Rate Avg,Bwd Bytes/Bulk Avg,Bwd Packet/Bulk Avg,Bwd Bulk Rate Avg,Subflow Fwd Packets,Subflow Fwd Bytes,Subflow Bwd Packets,Subflow Bwd Bytes,FWD Init Win Bytes,Bwd Init Win Bytes,Fwd Act Data Pkts,Fwd Seg Size Min,Active Mean,Active Std,Active Max,Active Min,Idle Mean,Idle Std,Idle Max,Idle Min,Label';

const csvText = (s: string | undefined): string => (s === undefined ? '' : /[",]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

/** A row under CIC_V4_HEADER; `features` in the tool's order (CIC_FEATURES without protocol). */
export function writeCicV4(r: CicFlowRecord, statistics: readonly string[]): string {
  const e = r.endpoints;
  const f = r.features as Record<string, number | undefined>;
  const num = (n: number | undefined): string => (n === undefined ? '' : String(n));
  return [
    csvText(e.flowId), csvText(e.origAddr), num(e.origPort), csvText(e.respAddr), num(e.respPort), num(f['protocol']), csvText(r.timestamp),
    ...statistics.map((s) => num(f[s])),
    csvText(r.truth?.label),
  ].join(',');
}
