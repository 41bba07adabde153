/**
 * Audit events for a SIEM (issue 5 §7): Splunk, Elastic or Wazuh take them as JSON lines
 * or as RFC 5424 syslog messages. What leaves the vault is the event's who, what, when,
 * outcome and the ids involved — never a patient's name or any other record content: the
 * search parameters a record keeps (`query`, which can hold a name searched for) stay in
 * the sealed ledger entry and are not exported.
 */
import type { AuditRecord } from '../ledger/index.js';

/** One exported event: flat, stable field names, ISO time. */
export interface SiemEvent {
  readonly ledgerIndex: number;
  readonly time: string;
  readonly type: string;
  readonly subtype: string;
  readonly action: string;
  readonly outcome: 'success' | 'minor-failure' | 'serious-failure' | 'major-failure';
  readonly outcomeCode?: string;
  readonly who: string;
  readonly client?: string;
  readonly roles?: readonly string[];
  readonly address?: string;
  /** The bearer token's id (jti), never the token: correlates the uses of one token. */
  readonly tokenId?: string;
  readonly purposeOfUse?: string;
  readonly breakGlass?: boolean;
  readonly patients: readonly string[];
  readonly entities: readonly string[];
}

const OUTCOMES = { '0': 'success', '4': 'minor-failure', '8': 'serious-failure', '12': 'major-failure' } as const;

export function siemEvent(index: number, r: AuditRecord): SiemEvent {
  return {
    ledgerIndex: index,
    time: new Date(r.at).toISOString(),
    type: r.type,
    subtype: r.subtype,
    action: r.action,
    outcome: OUTCOMES[r.outcome],
    ...(r.outcomeCode === undefined ? {} : { outcomeCode: r.outcomeCode }),
    who: r.agent.who,
    ...(r.agent.client === undefined ? {} : { client: r.agent.client }),
    ...(r.agent.roles === undefined ? {} : { roles: r.agent.roles }),
    ...(r.agent.address === undefined ? {} : { address: r.agent.address }),
    ...(r.agent.token === undefined ? {} : { tokenId: r.agent.token }),
    ...(r.purposeOfUse === undefined ? {} : { purposeOfUse: r.purposeOfUse }),
    ...(r.breakGlass === true ? { breakGlass: true } : {}),
    patients: r.patients,
    entities: r.entities,
  };
}

/** RFC 5424 §6.2.1: facility 13 (log audit); a failure is a warning (4), a success a notice (5). */
const FACILITY_LOG_AUDIT = 13;
/** RFC 5612: the enterprise number reserved for documentation and examples. */
const SD_ID = 'custodia@32473';

/** RFC 5424 §6.3.3: `"`, `\` and `]` are escaped in a PARAM-VALUE. */
const sdValue = (v: string): string => v.replace(/[\\"\]]/g, (c) => `\\${c}`);
/** RFC 5424 §6.2: header fields are printable US-ASCII without spaces, or NILVALUE. */
const headerField = (v: string, max: number): string => v.replace(/[^\x21-\x7e]/g, '_').slice(0, max) || '-';

/**
 * One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG`, the
 * event's key fields as structured data and the whole event as JSON in the message.
 */
export function syslogMessage(e: SiemEvent, hostname: string, procId: string): string {
  const severity = e.outcome === 'success' ? 5 : 4;
  const pri = FACILITY_LOG_AUDIT * 8 + severity;
  const params: [string, string][] = [
    ['idx', String(e.ledgerIndex)],
    ['type', e.type],
    ['subtype', e.subtype],
    ['action', e.action],
    ['outcome', e.outcome],
    ['who', e.who],
    ...(e.address === undefined ? [] : ([['address', e.address]] as [string, string][])),
    ...(e.tokenId === undefined ? [] : ([['token', e.tokenId]] as [string, string][])),
    ...e.patients.slice(0, 20).map((p): [string, string] => ['patient', p]),
  ];
  const sd = `[${SD_ID} ${params.map(([k, v]) => `${k}="${sdValue(v)}"`).join(' ')}]`;
  // MSG: UTF-8 with a BOM (§6.4), the event as JSON.
  return `<${pri}>1 ${e.time} ${headerField(hostname, 255)} custodia ${headerField(procId, 128)} ${headerField(`${e.type}.${e.subtype}`, 32)} ${sd} \uFEFF${JSON.stringify(e)}`;
}

/** RFC 6587 §3.4.1 octet-counting framing for syslog over TCP and TLS (RFC 5425 §4.3). */
export function octetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}
