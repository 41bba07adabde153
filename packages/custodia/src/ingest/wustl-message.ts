/**
 * One device telemetry message, JSON in the shape of a WUSTL-EHMS 2020 row (see
 * detect/telemetry-record.ts), read into a TelemetryRecord — and written back, so the
 * JetStream bus carries the same format and its consumers read it with this same parser.
 *
 * The message is attacker-controlled: anyone who can publish to the broker, or sits
 * between a device and it, writes it. It is parsed defensively, in order:
 *   1. size: at most `maxBytes` (default 16 KiB), before anything is decoded;
 *   2. strict UTF-8 (no replacement characters), then JSON, which must be one object;
 *   3. only known members (an unknown name is refused, so nothing rides along unseen);
 *   4. strict types: numbers are JSON numbers (no strings, no null), finite, in range;
 *      addresses, MACs and ports as field-values.ts reads them.
 * A refusal throws RecordRefused with a reason naming the member, never quoting more
 * than a short escaped excerpt.
 *
 * Ranges are of the *type*, not of health: a vital sign only has to be a number of the
 * right order of magnitude. SpO2 = 140 % is accepted here on purpose, so the detector can
 * raise it as an implausible value — dropping it at the parser would hide a
 * man-in-the-middle's work instead of reporting it.
 *
 * Members beyond WUSTL-EHMS, both optional: `FlowId` (a flow identifier, unique per flow;
 * the bus deduplicates on it) and `ts` (epoch milliseconds when the device measured).
 */
import { NETWORK_FEATURES, VITAL_SIGNS, type NetworkFeature, type TelemetryPosition, type TelemetryRecord, type VitalSign } from '../detect/index.js';
import { checkPort, readAddress, readMac, readToken } from './field-values.js';
import { excerpt, refuse } from './record-refused.js';

export const TELEMETRY_MAX_BYTES = 16 * 1024;

/** Sanity bounds per vital sign: the order of magnitude of its unit, not physiology. */
const VITAL_BOUNDS: Record<VitalSign, readonly [number, number]> = {
  Temp: [-100, 1000],
  SpO2: [0, 1000],
  Pulse_Rate: [0, 1000],
  SYS: [0, 1000],
  DIA: [0, 1000],
  Heart_rate: [0, 1000],
  Resp_Rate: [0, 1000],
  ST: [-100, 100],
};
/** Network counters: not negative, below 10¹⁵ (a petabyte, or a rate no link reaches). */
const NETWORK_MAX = 1e15;
/** 2000-01-01 to 2200-01-01, epoch ms. */
const TS_RANGE = [946_684_800_000, 7_258_118_400_000] as const;

const IDENTIFIERS = ['SrcAddr', 'DstAddr', 'SrcMac', 'DstMac', 'Sport', 'Dport'] as const;
const OTHER = ['Dir', 'Flgs', 'Attack Category', 'Label', 'FlowId', 'ts'] as const;
const KNOWN = new Set<string>([...IDENTIFIERS, ...OTHER, ...NETWORK_FEATURES, ...VITAL_SIGNS]);

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function number(o: Record<string, unknown>, name: string, min: number, max: number): number {
  const v = o[name];
  if (v === undefined) refuse(`${name}: missing`);
  if (typeof v !== 'number' || !Number.isFinite(v)) refuse(`${name}: not a number`);
  if (v < min || v > max) refuse(`${name}: out of range: ${excerpt(String(v))}`);
  return v === 0 ? 0 : v;
}

function text(o: Record<string, unknown>, name: string): string | undefined {
  const v = o[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') refuse(`${name}: not text`);
  return v;
}

function port(o: Record<string, unknown>, name: string): number | undefined {
  const v = o[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number') refuse(`${name}: not a port`);
  return checkPort(v, name);
}

function decode(bytes: Uint8Array, maxBytes: number): Record<string, unknown> {
  if (bytes.length > maxBytes) refuse(`message of ${bytes.length} bytes exceeds ${maxBytes}`);
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(bytes));
  } catch {
    refuse('not UTF-8 JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) refuse('not a JSON object');
  const o = json as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) refuse(`unknown member ${excerpt(k)}`);
  return o;
}

export interface TelemetryParseContext {
  readonly position: TelemetryPosition;
  /** The flow id when the message has no FlowId. */
  readonly fallbackId: string;
  /** The time when the message has no ts (when it was received). */
  readonly receivedMs: number;
  readonly maxBytes?: number;
}

/**
 * A telemetry record from one message; RecordRefused (with a reason) if it is not one.
 *
 * @example
 *   parseTelemetryMessage(payload, { position: { topic, sequence: 7 }, fallbackId: 'a1-7', receivedMs: clock.now() });
 */
export function parseTelemetryMessage(bytes: Uint8Array, ctx: TelemetryParseContext): TelemetryRecord {
  const o = decode(bytes, ctx.maxBytes ?? TELEMETRY_MAX_BYTES);
  const addr = (name: string): string | undefined => {
    const v = text(o, name);
    return v === undefined ? undefined : readAddress(v, name);
  };
  const mac = (name: string): string | undefined => {
    const v = text(o, name);
    return v === undefined ? undefined : readMac(v.replaceAll('-', ':'), name);
  };
  const endpoints = {
    ...opt('origAddr', addr('SrcAddr')),
    ...opt('origMac', mac('SrcMac')),
    ...opt('origPort', port(o, 'Sport')),
    ...opt('respAddr', addr('DstAddr')),
    ...opt('respMac', mac('DstMac')),
    ...opt('respPort', port(o, 'Dport')),
  };
  if (endpoints.origAddr === undefined && endpoints.origMac === undefined) refuse('SrcAddr or SrcMac is needed to know the device');
  const network = Object.fromEntries(NETWORK_FEATURES.map((f) => [f, number(o, f, 0, NETWORK_MAX)])) as Record<NetworkFeature, number>;
  const vitals = Object.fromEntries(VITAL_SIGNS.map((f) => [f, number(o, f, VITAL_BOUNDS[f][0], VITAL_BOUNDS[f][1])])) as Record<VitalSign, number>;
  const flowId = text(o, 'FlowId');
  const id = flowId === undefined ? ctx.fallbackId : readToken(flowId, 'FlowId', 128);
  const timeMs = o['ts'] === undefined ? ctx.receivedMs : Math.trunc(number(o, 'ts', TS_RANGE[0], TS_RANGE[1]));
  const direction = text(o, 'Dir');
  const flags = text(o, 'Flgs');
  const category = text(o, 'Attack Category');
  const label = o['Label'];
  if (label !== undefined && label !== 0 && label !== 1) refuse('Label: not 0 or 1');
  const truth = category !== undefined ? readToken(category, 'Attack Category', 64) : label === undefined ? undefined : label === 1 ? 'attack' : 'normal';
  return {
    source: 'wustl-ehms',
    id,
    timeMs,
    position: ctx.position,
    endpoints: { flowId: id, ...endpoints },
    network,
    vitals,
    ...opt('direction', direction === undefined ? undefined : readToken(direction, 'Dir', 8)),
    ...opt('flags', flags === undefined ? undefined : readToken(flags, 'Flgs', 16)),
    ...(truth === undefined ? {} : { truth: { label: truth } }),
  };
}

function opt<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}

/**
 * The message a record was read from (up to member order and ground truth, which the bus
 * does not carry): `FlowId` and `ts` always set. parse(format(r)) gives r back.
 */
export function formatTelemetryMessage(r: TelemetryRecord): Buffer {
  const e = r.endpoints;
  const o: Record<string, unknown> = {
    FlowId: r.id,
    ts: r.timeMs,
    ...opt('SrcAddr', e.origAddr),
    ...opt('DstAddr', e.respAddr),
    ...opt('SrcMac', e.origMac),
    ...opt('DstMac', e.respMac),
    ...opt('Sport', e.origPort),
    ...opt('Dport', e.respPort),
    ...opt('Dir', r.direction),
    ...opt('Flgs', r.flags),
    ...r.network,
    ...r.vitals,
  };
  return Buffer.from(JSON.stringify(o), 'utf8');
}
