/**
 * The SIEM export (issue 5 §7): the ledger's audit events as JSON lines and as RFC 5424
 * syslog over TCP and TLS (RFC 6587 octet counting), resumable from a state file, and
 * never carrying a patient's name — not even the one a search asked for.
 */
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSelfSignedCertificate, exportAuditEvents, jsonLinesSink, syslogSink, type SiemEvent } from '../../src/app/index.js';
import { secureRandom, systemClock } from '../../src/kernel/index.js';
import { startListeningVault, type ListeningVault } from '../helpers/listening-vault.js';

const NAME = 'Qwzxyvander';

/** A collector: every octet-counted frame received, as text. */
function collector(frames: string[]): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const space = buf.indexOf(0x20);
      if (space < 0) return;
      const len = Number(buf.subarray(0, space).toString('ascii'));
      if (buf.length < space + 1 + len) return;
      frames.push(buf.subarray(space + 1, space + 1 + len).toString('utf8'));
      buf = buf.subarray(space + 1 + len);
    }
  };
}

const RFC5424 = /^<(\d{1,3})>1 (\S+) (\S+) custodia (\S+) (\S+) \[custodia@32473 ([^\]]*)\] \uFEFF(\{.*\})$/s;

describe('ledger export for a SIEM', () => {
  let lv: ListeningVault;
  let patientId: string;
  let dir: string;

  beforeAll(async () => {
    lv = await startListeningVault('sqlite');
    dir = mkdtempSync(join(tmpdir(), 'custodia-siem-'));
    const p = await lv.http('POST', '/fhir/Patient', { resourceType: 'Patient', name: [{ family: NAME, given: ['Ottilie'] }] });
    expect(p.status).toBe(201);
    patientId = p.body.id;
    expect((await lv.http('GET', `/fhir/Patient?family=${NAME}`)).status).toBe(200);
    expect((await lv.http('GET', `/fhir/Patient/${patientId}`)).status).toBe(200);
    expect((await lv.http('GET', '/fhir/Patient/nobody-here')).status).toBe(404);
  });

  afterAll(async () => {
    await lv?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes every audit event as a JSON line, with ids but no name', async () => {
    let text = '';
    const r = await exportAuditEvents(lv.config, jsonLinesSink((t) => (text += t)));
    const events = text.trim().split('\n').map((l) => JSON.parse(l) as SiemEvent);
    expect(r.exported).toBe(events.length);
    expect(events.map((e) => e.subtype)).toEqual(expect.arrayContaining(['create', 'search-type', 'read']));
    const search = events.find((e) => e.subtype === 'search-type')!;
    expect(search).toMatchObject({ type: 'rest', action: 'R', outcome: 'success', who: 'operator', patients: [patientId] });
    // The bearer token's id (never the token): the uses of one token correlate in the SIEM.
    expect(search.tokenId).toMatch(/^[0-9a-f-]{36}$/);
    expect(events.find((e) => e.subtype === 'read' && e.outcome === 'minor-failure')).toMatchObject({ outcomeCode: 'resource-not-found' });
    expect(text).toContain(patientId);
    expect(text.toLowerCase()).not.toContain(NAME.toLowerCase());
    expect(text).not.toContain('Ottilie');
    expect(Object.keys(search)).not.toContain('query');
  });

  it('resumes from a state file: a second run sends only what is new', async () => {
    const state = join(dir, 'siem.state');
    const first = await exportAuditEvents(lv.config, async () => undefined, { stateFile: state });
    expect(Number(readFileSync(state, 'utf8'))).toBe(first.next);
    const again = await exportAuditEvents(lv.config, async () => undefined, { stateFile: state });
    expect(again.exported).toBe(0);
    expect((await lv.http('GET', `/fhir/Patient/${patientId}`)).status).toBe(200);
    const more: SiemEvent[] = [];
    const third = await exportAuditEvents(lv.config, async (e) => void more.push(...e), { stateFile: state });
    expect(third.exported).toBe(1);
    expect(more[0]).toMatchObject({ subtype: 'read', patients: [patientId] });
  });

  it('sends RFC 5424 messages, octet-counted, over TCP and over TLS', async () => {
    const expected = (await exportAuditEvents(lv.config, async () => undefined)).exported;
    const certs = await ensureSelfSignedCertificate({ certFile: join(dir, 'tls', 'cert.pem'), keyFile: join(dir, 'tls', 'key.pem') }, systemClock, secureRandom);
    for (const scheme of ['tcp', 'tls'] as const) {
      const frames: string[] = [];
      const onData = collector(frames);
      const server: Server =
        scheme === 'tcp'
          ? createServer((s) => s.on('data', onData))
          : createTlsServer({ cert: readFileSync(certs.certFile), key: readFileSync(certs.keyFile) }, (s) => s.on('data', onData));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      try {
        const target = await syslogSink(`${scheme}://${scheme === 'tls' ? 'localhost' : '127.0.0.1'}:${port}`, scheme === 'tls' ? certs.certFile : undefined);
        const r = await exportAuditEvents(lv.config, target.sink);
        await target.close();
        await new Promise((res) => setTimeout(res, 100));
        expect(r.exported).toBe(expected);
        expect(frames).toHaveLength(expected);
        for (const f of frames) {
          const m = RFC5424.exec(f);
          expect(m, f).not.toBeNull();
          const event = JSON.parse(m![7]!) as SiemEvent;
          // facility 13 (log audit); notice for a success, warning for a failure.
          expect(Number(m![1])).toBe(13 * 8 + (event.outcome === 'success' ? 5 : 4));
          expect(m![2]).toBe(event.time);
          expect(m![6]).toContain(`idx="${event.ledgerIndex}"`);
          if (event.tokenId !== undefined) expect(m![6]).toContain(`token="${event.tokenId}"`);
          expect(f.toLowerCase()).not.toContain(NAME.toLowerCase());
        }
      } finally {
        await new Promise((r) => server.close(r));
      }
    }
  });

  it('refuses a malformed collector address', async () => {
    await expect(syslogSink('udp://127.0.0.1:514')).rejects.toThrow(/tcp:\/\/host:port or tls:\/\/host:port/);
    await expect(syslogSink('tcp://127.0.0.1:99999')).rejects.toThrow(/tcp:\/\/host:port/);
  });
});
