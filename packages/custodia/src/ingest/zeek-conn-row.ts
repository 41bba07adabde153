/**
 * One conn.log row, by column name, into a ZeekFlowRecord: the columns of Zeek's
 * `Conn::Info` (base/protocols/conn/main.zeek) and of the policy scripts that add to it
 * (mac-logging: `orig_l2_addr`, `resp_l2_addr`; vlan-logging: `vlan`, `inner_vlan`;
 * community-id-logging: `community_id`). The TSV and JSON readers both end here, so a
 * row means the same whichever way Zeek wrote it.
 *
 * The values are attacker-controlled and arrive typed only loosely (JSON has no `count`
 * or `addr`), so each known column is checked for its Zeek type and its meaning: counts
 * are non-negative safe integers, ports 0–65535, addresses IPv4/IPv6, and `duration` is
 * never negative. A required column that is missing refuses the row.
 */
import { ZEEK_TRANSPORTS, type FlowEndpoints, type ZeekConnFeatures, type ZeekFlowRecord, type ZeekTransport, type ZeekValue } from '../detect/index.js';
import { checkPort, readAddress, readMac } from './field-values.js';
import { excerpt, refuse } from './record-refused.js';

/** A row: column name → value, null (or absent) for unset. A null-prototype object. */
export type ZeekRow = Record<string, ZeekValue | null | undefined>;

const UID = /^[A-Za-z0-9]{1,64}$/;
const SERVICE = /^[A-Za-z0-9_.,-]{1,128}$/;
const CONN_STATE = /^[A-Za-z0-9_]{1,16}$/;
const HISTORY = /^[A-Za-z^]{1,256}$/;
const COMMUNITY_ID = /^[A-Za-z0-9+/=:]{1,128}$/;
const TRANSPORTS = new Set<string>(ZEEK_TRANSPORTS);

/** The columns this reader understands; any other goes to `extra`. */
export const ZEEK_CONN_COLUMNS = new Set([
  'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'service', 'duration', 'orig_bytes',
  'resp_bytes', 'conn_state', 'local_orig', 'local_resp', 'missed_bytes', 'history', 'orig_pkts', 'orig_ip_bytes',
  'resp_pkts', 'resp_ip_bytes', 'tunnel_parents', 'ip_proto', 'orig_l2_addr', 'resp_l2_addr', 'vlan', 'inner_vlan',
  'community_id',
]);

/** The columns every conn.log row has. */
export const ZEEK_CONN_REQUIRED = ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto'] as const;

const COUNTS = ['orig_bytes', 'resp_bytes', 'missed_bytes', 'orig_pkts', 'orig_ip_bytes', 'resp_pkts', 'resp_ip_bytes', 'ip_proto'] as const;

function isSet(v: ZeekValue | null | undefined): v is ZeekValue {
  return v !== undefined && v !== null;
}

function required(row: ZeekRow, name: string): ZeekValue {
  const v = row[name];
  if (!isSet(v)) refuse(`${name}: missing`);
  return v;
}

function number(v: ZeekValue, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) refuse(`${name}: not a number`);
  return v;
}

function count(v: ZeekValue, name: string): number {
  const n = number(v, name);
  if (!Number.isSafeInteger(n) || n < 0) refuse(`${name}: not a count: ${n}`);
  return n;
}

function text(v: ZeekValue, name: string, pattern: RegExp): string {
  if (typeof v !== 'string' || !pattern.test(v)) refuse(`${name}: not a valid value: ${excerpt(typeof v === 'string' ? v : JSON.stringify(v))}`);
  return v;
}

function bool(v: ZeekValue, name: string): boolean {
  if (typeof v !== 'boolean') refuse(`${name}: not a bool`);
  return v;
}

function address(v: ZeekValue, name: string): string {
  if (typeof v !== 'string') refuse(`${name}: not an address`);
  return readAddress(v, name);
}

function port(v: ZeekValue, name: string): number {
  return checkPort(count(v, name), name);
}

function vlanId(v: ZeekValue, name: string): number {
  const n = count(v, name);
  if (n > 4095) refuse(`${name}: not a VLAN id: ${n}`);
  return n;
}

function features(row: ZeekRow): ZeekConnFeatures {
  const proto = text(required(row, 'proto'), 'proto', /^[a-z_]{1,32}$/);
  if (!TRANSPORTS.has(proto)) refuse(`proto: not a transport protocol: ${excerpt(proto)}`);
  const out: { -readonly [K in keyof ZeekConnFeatures]: ZeekConnFeatures[K] } = { proto: proto as ZeekTransport };
  const v = (name: string): ZeekValue | undefined => {
    const x = row[name];
    return isSet(x) ? x : undefined;
  };
  let x: ZeekValue | undefined;
  if ((x = v('service')) !== undefined) out.service = text(x, 'service', SERVICE);
  if ((x = v('duration')) !== undefined) {
    out.duration = number(x, 'duration');
    if (out.duration < 0) refuse(`duration: negative: ${out.duration}`);
  }
  for (const name of COUNTS) if ((x = v(name)) !== undefined) out[name] = count(x, name);
  if (out.ip_proto !== undefined && out.ip_proto > 255) refuse(`ip_proto: not an IP protocol number: ${out.ip_proto}`);
  if ((x = v('conn_state')) !== undefined) out.conn_state = text(x, 'conn_state', CONN_STATE);
  if ((x = v('local_orig')) !== undefined) out.local_orig = bool(x, 'local_orig');
  if ((x = v('local_resp')) !== undefined) out.local_resp = bool(x, 'local_resp');
  if ((x = v('history')) !== undefined) out.history = text(x, 'history', HISTORY);
  return out;
}

function endpoints(row: ZeekRow): FlowEndpoints {
  const out: { -readonly [K in keyof FlowEndpoints]: FlowEndpoints[K] } = {
    flowId: text(required(row, 'uid'), 'uid', UID),
    origAddr: address(required(row, 'id.orig_h'), 'id.orig_h'),
    origPort: port(required(row, 'id.orig_p'), 'id.orig_p'),
    respAddr: address(required(row, 'id.resp_h'), 'id.resp_h'),
    respPort: port(required(row, 'id.resp_p'), 'id.resp_p'),
  };
  const mac = (name: string): string | undefined => {
    const x = row[name];
    if (!isSet(x)) return undefined;
    if (typeof x !== 'string') refuse(`${name}: not a MAC address`);
    return readMac(x, name);
  };
  const origMac = mac('orig_l2_addr');
  if (origMac !== undefined) out.origMac = origMac;
  const respMac = mac('resp_l2_addr');
  if (respMac !== undefined) out.respMac = respMac;
  const vlan = row['vlan'];
  if (isSet(vlan)) out.vlan = vlanId(vlan, 'vlan');
  const innerVlan = row['inner_vlan'];
  if (isSet(innerVlan)) out.innerVlan = vlanId(innerVlan, 'inner_vlan');
  const communityId = row['community_id'];
  if (isSet(communityId)) out.communityId = text(communityId, 'community_id', COMMUNITY_ID);
  const parents = row['tunnel_parents'];
  if (isSet(parents)) {
    if (!Array.isArray(parents)) refuse('tunnel_parents: not a set');
    out.tunnelParents = (parents as readonly ZeekValue[]).map((p) => text(p, 'tunnel_parents', UID));
  }
  return out;
}

/**
 * The record of one row. `extra` holds the row's other columns, already typed.
 *
 * @example
 *   zeekConnRecord(row, 7).endpoints.respPort; // 53
 */
export function zeekConnRecord(row: ZeekRow, line: number, extra?: Record<string, ZeekValue>): ZeekFlowRecord {
  const startTime = number(required(row, 'ts'), 'ts');
  if (startTime < 0) refuse(`ts: negative: ${startTime}`);
  const record = { source: 'zeek', line, startTime, endpoints: endpoints(row), features: features(row) } as const;
  return extra === undefined ? record : { ...record, extra };
}
