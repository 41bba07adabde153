/**
 * Feature schemas for the flow formats other than NSL-KDD (whose schema is
 * nsl-kdd-features.ts), and how a flow record becomes a feature record under them.
 *
 * No identifier is a feature (issue 6): addresses, ports, MACs, uids, flow ids and
 * VLANs are in a record's `endpoints`, never in its `features`, and nothing here reads
 * them. Zeek's `service` is the analyzer that recognised the protocol (a role, as
 * NSL-KDD's `service`), not the port.
 *
 * Zeek conn.log (`zeek-conn`, version 1): proto and conn_state as categories; service as
 * the first analyzer named (`none` when Zeek named none); the eight byte, packet and
 * duration columns as ln(1 + x). An unset column (`-`) is 0: Zeek leaves duration and
 * bytes unset when it saw no reply or no payload, which is what 0 means here. local_orig
 * and local_resp are left out (they depend on the site's `Site::local_nets`, not on the
 * traffic), and so is history (a free-form string of state letters).
 *
 * CICFlowMeter (`cicflowmeter`, version 1): the 77 statistics of cic-flow-record.ts, as
 * numbers, untransformed (some are signed: init_fwd_win_bytes is −1 when no window was
 * seen). A column the file lacks, or a value it wrote as Infinity or NaN (a zero
 * duration's rates), is 0. The trees do not mind the scale; the forest would do better
 * with log-scaled counts, which is left for a schema version 2 measured on real captures.
 */
import { CIC_FEATURES } from './cic-flow-record.js';
import type { FeatureRecord } from './feature-encoder.js';
import { defineFeatureSchema, type FeatureSchema } from './feature-schema.js';
import type { CicFlowRecord, ZeekFlowRecord } from './flow-record.js';
import { ZEEK_CONN_STATES, ZEEK_TRANSPORTS } from './zeek-conn-record.js';

/** Analyzers of a stock Zeek (base/protocols and the common packages), as conn.log names them. */
const ZEEK_SERVICES = [
  'none', 'dce_rpc', 'dhcp', 'dnp3', 'dns', 'ftp', 'ftp-data', 'gssapi', 'http', 'imap', 'irc', 'krb', 'krb_tcp', 'ldap', 'ldap_tcp', 'modbus', 'mqtt', 'mysql',
  'ntlm', 'ntp', 'pop3', 'quic', 'radius', 'rdp', 'rfb', 'sip', 'smb', 'smtp', 'snmp', 'socks', 'ssh', 'ssl', 'syslog', 'teredo', 'ayiya', 'gtpv1', 'vxlan', 'geneve', 'websocket',
] as const;

const ZEEK_COUNTS = ['duration', 'orig_bytes', 'resp_bytes', 'missed_bytes', 'orig_pkts', 'orig_ip_bytes', 'resp_pkts', 'resp_ip_bytes'] as const;

export const ZEEK_CONN_SCHEMA: FeatureSchema = defineFeatureSchema({
  id: 'zeek-conn',
  version: 1,
  features: [
    { name: 'proto', kind: 'categorical', vocabulary: ZEEK_TRANSPORTS },
    { name: 'service', kind: 'categorical', vocabulary: ZEEK_SERVICES },
    { name: 'conn_state', kind: 'categorical', vocabulary: ZEEK_CONN_STATES },
    ...ZEEK_COUNTS.map((name) => ({ name, kind: 'numeric' as const, transform: 'log1p' as const })),
  ],
});

export const CIC_FLOW_SCHEMA: FeatureSchema = defineFeatureSchema({
  id: 'cicflowmeter',
  version: 1,
  features: CIC_FEATURES.map((name) => ({ name, kind: 'numeric' as const })),
});

/** A Zeek flow's features under {@link ZEEK_CONN_SCHEMA}. */
export function zeekFeatureRecord(flow: ZeekFlowRecord): FeatureRecord {
  const f = flow.features;
  const out: Record<string, string | number> = {
    proto: f.proto,
    service: f.service === undefined || f.service === '' ? 'none' : f.service.split(',')[0]!,
    conn_state: f.conn_state ?? 'unset',
  };
  for (const c of ZEEK_COUNTS) out[c] = f[c] ?? 0;
  return out;
}

/** A CICFlowMeter flow's features under {@link CIC_FLOW_SCHEMA}. */
export function cicFeatureRecord(flow: CicFlowRecord): FeatureRecord {
  const out: Record<string, number> = {};
  for (const c of CIC_FEATURES) out[c] = flow.features[c] ?? 0;
  return out;
}
