/**
 * The telemetry message parser (ingest/wustl-message.ts) on hostile input: every refusal
 * is a RecordRefused with a reason naming the member, identifiers land in endpoints and
 * never among the features, and format → parse gives the record back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTelemetryMessage, parseTelemetryMessage } from '../../src/ingest/index.js';
import { RecordRefused } from '../../src/ingest/record-refused.js';
import { encode, jitter, normalMessage } from '../helpers/telemetry.js';

const ctx = { position: { topic: 'ward4/monitor', sequence: 3 }, fallbackId: 'src-3', receivedMs: 1_764_000_000_000 };
const monitor = { mac: '02:AA:bb:cc:dd:01', addr: '10.0.4.17' };
const reason = (bytes: Uint8Array): string => {
  try {
    parseTelemetryMessage(bytes, ctx);
  } catch (e) {
    if (e instanceof RecordRefused) return e.reason;
    throw e;
  }
  return 'accepted';
};

describe('WUSTL-EHMS telemetry messages', () => {
  it('keeps identifiers apart from features, and ground truth apart from both', () => {
    const r = parseTelemetryMessage(encode(normalMessage(monitor, jitter(1), { 'Attack Category': 'normal', Label: 0 })), ctx);
    expect(r.endpoints).toMatchObject({ origAddr: '10.0.4.17', origMac: '02:aa:bb:cc:dd:01', origPort: 50000, respPort: 1883, flowId: 'src-3' });
    expect(r.id).toBe('src-3');
    expect(r.timeMs).toBe(ctx.receivedMs);
    expect(Object.keys(r.network)).not.toContain('SrcAddr');
    expect(Object.keys(r.vitals)).toEqual(['Temp', 'SpO2', 'Pulse_Rate', 'SYS', 'DIA', 'Heart_rate', 'Resp_Rate', 'ST']);
    expect(r.truth).toEqual({ label: 'normal' });
    expect(r.position).toEqual(ctx.position);
  });

  it('accepts physiologically impossible vital signs, so the detector can report them', () => {
    const r = parseTelemetryMessage(encode(normalMessage(monitor, jitter(2), { SpO2: 140, Heart_rate: 0 })), ctx);
    expect(r.vitals.SpO2).toBe(140);
  });

  it('refuses, with a reason, what is not a telemetry message', () => {
    const ok = normalMessage(monitor, jitter(3));
    const { SrcAddr: _a, SrcMac: _m, ...anonymous } = ok;
    const cases: [unknown, string][] = [
      [{ ...ok, SpO2: '97' }, 'SpO2: not a number'],
      [{ ...ok, SpO2: null }, 'SpO2: not a number'],
      [{ ...ok, Rate: -1 }, 'Rate: out of range: "-1"'],
      [{ ...ok, Temp: 1e308 }, 'Temp: out of range: "1e+308"'],
      [{ ...ok, Rate: undefined }, 'Rate: missing'],
      [{ ...ok, colour: 'red' }, 'unknown member "colour"'],
      [{ ...ok, ['__proto__\u0000']: 1 }, 'unknown member "__proto__\\x00"'],
      [{ ...ok, SrcAddr: '10.0.0.300' }, 'SrcAddr: not an IP address: "10.0.0.300"'],
      [{ ...ok, SrcMac: 'aa:bb' }, 'SrcMac: not a MAC address: "aa:bb"'],
      [{ ...ok, Sport: 70000 }, 'Sport: not a port: 70000'],
      [{ ...ok, Label: 'yes' }, 'Label: not 0 or 1'],
      [{ ...ok, ts: 5 }, 'ts: out of range: "5"'],
      [anonymous, 'SrcAddr or SrcMac is needed to know the device'],
      [[1, 2], 'not a JSON object'],
      ['x', 'not a JSON object'],
    ];
    for (const [msg, why] of cases) expect(reason(encode(msg)), JSON.stringify(msg).slice(0, 60)).toBe(why);
    expect(reason(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]))).toBe('not UTF-8 JSON');
    expect(reason(Buffer.from('{"SpO2": 97'))).toBe('not UTF-8 JSON');
    expect(reason(Buffer.alloc(16 * 1024 + 1, 0x20))).toBe('message of 16385 bytes exceeds 16384');
  });

  it('never throws anything but RecordRefused, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          parseTelemetryMessage(bytes, ctx);
        } catch (e) {
          expect(e).toBeInstanceOf(RecordRefused);
        }
      }),
      { numRuns: 500 },
    );
    const ok = normalMessage(monitor, jitter(4));
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(ok)), fc.jsonValue(), (key, value) => {
        try {
          parseTelemetryMessage(encode({ ...ok, [key]: value }), ctx);
        } catch (e) {
          expect(e).toBeInstanceOf(RecordRefused);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('formats a record back into a message that parses to the same record', () => {
    const r = parseTelemetryMessage(encode(normalMessage(monitor, jitter(5), { FlowId: 'flow-9', ts: 1_764_000_123_456 })), ctx);
    expect(parseTelemetryMessage(formatTelemetryMessage(r), ctx)).toEqual(r);
  });
});
