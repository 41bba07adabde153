/**
 * Device telemetry messages in the WUSTL-EHMS shape for tests: a patient monitor's normal
 * readings with seeded jitter, and the attacks of the data set's paper — vital signs
 * altered in transit and a flood.
 */
import { NETWORK_FEATURES, VITAL_SIGNS } from '../../src/detect/index.js';

/** mulberry32: small, seeded, good enough for test jitter. */
export function jitter(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Monitor {
  readonly mac: string;
  readonly addr: string;
}

/** One normal message of `m`; `rand` draws the jitter. */
export function normalMessage(m: Monitor, rand: () => number, over: Record<string, unknown> = {}): Record<string, unknown> {
  const around = (x: number, spread: number): number => Math.round((x + (rand() * 2 - 1) * spread) * 100) / 100;
  const network: Record<string, number> = {};
  for (const f of NETWORK_FEATURES) network[f] = Math.round(around(100, 10));
  network['Rate'] = around(12, 1.5);
  network['Load'] = around(6000, 500);
  network['SrcLoad'] = around(4000, 400);
  network['DstLoad'] = around(2000, 200);
  network['TotPkts'] = Math.round(around(20, 2));
  network['TotBytes'] = Math.round(around(2400, 200));
  network['Packet_num'] = Math.round(around(20, 2));
  network['pLoss'] = 0;
  network['Loss'] = 0;
  network['pSrcLoss'] = 0;
  network['pDstLoss'] = 0;
  const hr = Math.round(around(78, 4));
  const vitals: Record<string, number> = {
    Temp: around(36.8, 0.2),
    SpO2: Math.round(around(97, 1)),
    Pulse_Rate: hr + Math.round(around(0, 1)),
    SYS: Math.round(around(122, 4)),
    DIA: Math.round(around(78, 3)),
    Heart_rate: hr,
    Resp_Rate: Math.round(around(16, 1)),
    ST: around(0.1, 0.03),
  };
  for (const v of VITAL_SIGNS) if (vitals[v] === undefined) throw new Error(v);
  return { SrcAddr: m.addr, DstAddr: '10.0.0.1', SrcMac: m.mac, DstMac: '02:00:00:00:00:01', Sport: 50000, Dport: 1883, Dir: '->', Flgs: 'e', ...network, ...vitals, ...over };
}

export const encode = (o: unknown): Buffer => Buffer.from(JSON.stringify(o), 'utf8');

/** A FHIR Device linked by its MAC (the IHE ethernet-address identifier), with more members (`type`, `patient`, `url`) as given. */
export const macDevice = (id: string, mac: string, more: Record<string, unknown> = {}): Record<string, unknown> => ({
  resourceType: 'Device',
  id,
  status: 'active',
  identifier: [{ system: 'http://terminology.hl7.org/NamingSystem/ethernet-address-identifier', value: mac }],
  ...more,
});
