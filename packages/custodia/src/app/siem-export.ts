/**
 * `custodia ledger export`: the audit events of the ledger, in log order, to a SIEM — JSON
 * lines on stdout, or RFC 5424 syslog over TCP or TLS (RFC 6587 octet counting, RFC 5425).
 * It reads the vault's database with its key store (audit entries are sealed), so it runs
 * where the data directory is; events whose patient was erased cannot be opened and are
 * counted, not sent. `--follow` keeps polling for new entries; `--state FILE` remembers
 * the next index across runs (at-least-once delivery: a crash between sending and saving
 * sends the last batch again).
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { CustodiaError, isCustodiaError, secureRandom, systemClock } from '../kernel/index.js';
import { decodeEntry } from '../ledger/index.js';
import { writeFileAtomically } from '../store/index.js';
import type { VaultConfig } from './config.js';
import { octetCounted, siemEvent, syslogMessage, type SiemEvent } from './siem-event.js';
import { openVaultDatabase } from './vault.js';

export type SiemSink = (events: readonly SiemEvent[]) => Promise<void>;

export interface ExportOptions {
  readonly since?: number;
  /** Keep polling for new entries until `signal` aborts. */
  readonly follow?: boolean;
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
  /** A file holding the next index to export (read at start, written after each batch). */
  readonly stateFile?: string;
}

export interface ExportReport {
  readonly exported: number;
  /** Audit entries of erased patients: unreadable by design, not sent. */
  readonly erased: number;
  /** The index to resume from. */
  readonly next: number;
}

const BATCH = 1000;

function startIndex(o: ExportOptions): number {
  if (o.since !== undefined) return o.since;
  if (o.stateFile === undefined) return 0;
  let text: string;
  try {
    text = readFileSync(o.stateFile, 'utf8').trim();
  } catch {
    return 0;
  }
  // The state file is local configuration, but parsed as input all the same.
  if (!/^(?:0|[1-9][0-9]{0,15})$/.test(text)) throw new CustodiaError('config-invalid', `${o.stateFile} does not hold a ledger index`);
  return Number(text);
}

export async function exportAuditEvents(config: VaultConfig, sink: SiemSink, o: ExportOptions = {}): Promise<ExportReport> {
  const db = await openVaultDatabase(config, systemClock, secureRandom);
  let next = startIndex(o);
  let exported = 0;
  let erased = 0;
  const aborted = (): boolean => o.signal?.aborted === true;
  try {
    for (;;) {
      const leaves = await db.ledger.scanLeaves(next, BATCH);
      if (leaves.length === 0) {
        if (o.follow !== true || aborted()) break;
        await new Promise((r) => setTimeout(r, o.pollMs ?? 1000));
        if (aborted()) break;
        continue;
      }
      const events: SiemEvent[] = [];
      for (const leaf of leaves) {
        if (leaf.kind !== 'audit') continue;
        try {
          const entry = decodeEntry(db.ledger.openLeaf(leaf));
          if (entry.kind === 'audit') events.push(siemEvent(leaf.idx, entry.event));
        } catch (e) {
          if (!isCustodiaError(e, 'resource-erased')) throw e;
          erased++;
        }
      }
      if (events.length > 0) await sink(events);
      exported += events.length;
      next = leaves[leaves.length - 1]!.idx + 1;
      if (o.stateFile !== undefined) writeFileAtomically(o.stateFile, `${next}\n`, 0o600, secureRandom);
    }
  } finally {
    await db.close();
  }
  return { exported, erased, next };
}

/** JSON lines on a stream (stdout). */
export function jsonLinesSink(write: (text: string) => void): SiemSink {
  return async (events) => write(events.map((e) => `${JSON.stringify(e)}\n`).join(''));
}

/**
 * RFC 5424 messages over TCP (`tcp://host:port`) or TLS (`tls://host:port`, RFC 5425; the
 * collector's certificate checked against `caFile`, or the system's CAs).
 */
export async function syslogSink(url: string, caFile?: string): Promise<{ sink: SiemSink; close: () => Promise<void> }> {
  // Operator input: parsed strictly.
  const m = /^(tcp|tls):\/\/([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):([0-9]{1,5})$/.exec(url);
  if (m === null || Number(m[3]) < 1 || Number(m[3]) > 65535) throw new CustodiaError('config-invalid', '--syslog is tcp://host:port or tls://host:port');
  const host = m[2]!.replace(/^\[|\]$/g, '');
  const port = Number(m[3]);
  const socket: Socket = await new Promise((resolve, reject) => {
    const s =
      m[1] === 'tls'
        ? tlsConnect({ host, port, servername: host, minVersion: 'TLSv1.2', ...(caFile === undefined ? {} : { ca: readFileSync(caFile) }) }, () => resolve(s))
        : tcpConnect({ host, port }, () => resolve(s));
    s.once('error', (e) => reject(new CustodiaError('storage-unavailable', `Cannot reach the syslog collector at ${url}`, { cause: e })));
  });
  const host0 = hostname();
  const pid = String(process.pid);
  return {
    sink: (events) =>
      new Promise<void>((resolve, reject) => {
        const frames = Buffer.concat(events.map((e) => octetCounted(syslogMessage(e, host0, pid))));
        socket.write(frames, (e) => (e === undefined || e === null ? resolve() : reject(new CustodiaError('storage-unavailable', 'The syslog collector closed the connection', { cause: e }))));
      }),
    close: () => new Promise<void>((resolve) => socket.end(() => resolve())),
  };
}
