/**
 * Accounting of disclosures (HIPAA, 45 CFR 164.528): a patient may ask for the
 * disclosures of their protected health information made in the six years before the
 * request, except those the rule excludes — among them disclosures for treatment, payment
 * and health-care operations (§164.528(a)(1)(i)) and to the individual themself (ii). Each
 * entry carries what §164.528(b)(2) asks: the date, the recipient, a brief description of
 * what was disclosed, and the purpose.
 *
 * Here a disclosure is a successful access to the patient's data (a read, search, history
 * or export that returned it) by someone other than the patient, under a purpose of use
 * (HL7 v3 ActReason) outside treatment, payment and operations. Break-the-glass is
 * emergency treatment: excluded, like every treatment purpose.
 */
import type { AuditRecord } from '../ledger/index.js';

/**
 * §164.528(a)(1)(i): treatment, payment and health-care operations, as HL7 v3
 * PurposeOfUse codes: TREAT and ETREAT (and BTG, emergency treatment); HPAYMT and its
 * specializations; HOPERAT and those of its specializations that are operations as
 * §164.501 defines them (quality, competence, auditing and compliance, business
 * management). Deliberately not here, so they are accounted for: public health, research,
 * legal and law enforcement, government, organ donation, decedents, military and anything
 * unknown (§164.512 disclosures are accountable).
 */
export const TPO_PURPOSES: ReadonlySet<string> = new Set([
  'TREAT', 'ETREAT', 'BTG',
  'HPAYMT', 'CLMATTCH', 'COVAUTH', 'COVERAGE', 'ELIGDTRM', 'ELIGVER', 'ENROLLM', 'REMITADV',
  'HOPERAT', 'CAREMGT', 'HACCRED', 'HCOMPL', 'HOUTCOMS', 'HPRGRP', 'HQUALIMP', 'HSYSADMIN', 'MEMADMIN', 'PATADMIN', 'PATSFTY', 'PERFMSR', 'RECORDMGT', 'TRAIN',
]);

/** §164.528 look-back: six years before the request. */
export const LOOK_BACK_MS = 6 * 365.25 * 24 * 3600_000;

export interface Disclosure {
  /** Ledger index of the audit event (its proof can be requested with `$access-log`). */
  readonly ledgerIndex: number;
  readonly at: number;
  /** Who received it: the user or client, and through which app. */
  readonly recipient: string;
  readonly client?: string;
  /** What was disclosed, briefly. */
  readonly description: string;
  readonly purpose: string;
}

const DISCLOSING = new Set(['read', 'vread', 'search-type', 'search-system', 'history-instance', 'history-type', 'history-system', 'batch', 'transaction']);

/** Whether an audit event about `patientId` is a disclosure to account for (null otherwise). */
export function disclosureOf(index: number, r: AuditRecord, patientId: string): Disclosure | null {
  if (r.outcome !== '0' || !r.patients.includes(patientId)) return null;
  const disclosing = (r.type === 'rest' && DISCLOSING.has(r.subtype)) || r.type === 'export';
  if (!disclosing) return null;
  const purpose = r.purposeOfUse ?? 'TREAT';
  if (TPO_PURPOSES.has(purpose)) return null;
  // §164.528(a)(1)(ii): not to the individual themself.
  if (r.agent.who === `Patient/${patientId}` || r.agent.onBehalfOf === `Patient/${patientId}`) return null;
  const types = [...new Set(r.entities.map((e) => e.split('/')[0]))].sort();
  const count = r.entities.length + (r.entitiesTruncated === true ? '+' : '');
  return {
    ledgerIndex: index,
    at: r.at,
    recipient: r.agent.who,
    ...(r.agent.client === undefined ? {} : { client: r.agent.client }),
    description: `${r.subtype}: ${count} record version(s)${types.length > 0 ? ` (${types.join(', ')})` : ''}`,
    purpose,
  };
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A readable, printable page (the form a patient is handed); every value escaped. */
export function disclosuresHtml(patientId: string, start: number, end: number, list: readonly Disclosure[]): string {
  const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  const rows = list
    .map((d) => `<tr><td>${escapeHtml(new Date(d.at).toISOString())}</td><td>${escapeHtml(d.recipient)}${d.client === undefined ? '' : ` (via ${escapeHtml(d.client)})`}</td><td>${escapeHtml(d.description)}</td><td>${escapeHtml(d.purpose)}</td><td>${d.ledgerIndex}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Accounting of disclosures</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;padding:.3em .6em;text-align:left}</style></head>
<body><h1>Accounting of disclosures</h1>
<p>Patient ${escapeHtml(patientId)}, from ${day(start)} to ${day(end)} (45 CFR 164.528). Disclosures for treatment, payment and health-care operations, and to you, are not listed, as the rule allows.</p>
<table><thead><tr><th>Date</th><th>Recipient</th><th>What was disclosed</th><th>Purpose</th><th>Audit entry</th></tr></thead>
<tbody>
${rows === '' ? '<tr><td colspan="5">No disclosures in this period.</td></tr>' : rows}
</tbody></table></body></html>
`;
}
