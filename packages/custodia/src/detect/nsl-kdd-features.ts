/**
 * The NSL-KDD connection records (Tavallaee, Bagheri, Lu, Ghorbani, "A Detailed Analysis
 * of the KDD CUP 99 Data Set", IEEE CISDA 2009) as model features. A record is the 41
 * features of KDD Cup 1999 (names and types as in the NSL-KDD ARFF header), then the
 * label and, in the .txt files, a difficulty level (how many of 21 learners got it wrong).
 *
 * Features used (39): all 41 but two.
 * - Basic (1–9): duration, protocol_type, service, flag, src_bytes, dst_bytes, land,
 *   wrong_fragment, urgent.
 * - Content (10–22): hot, num_failed_logins, logged_in, num_compromised, root_shell,
 *   su_attempted, num_root, num_file_creations, num_shells, num_access_files,
 *   is_guest_login.
 * - Time- and host-based traffic (23–41): count … dst_host_srv_rerror_rate.
 *
 * Left out:
 * - `num_outbound_cmds`: zero in every record of the 20% training subset (the fixture),
 *   and reported to be zero throughout KDD Cup 1999. A column with one value carries no
 *   information, and an isolation tree can never split on it.
 * - `is_host_login`: zero in every record of the 20% training subset (the fixture),
 *   hence never split on either. A model trained on it would not notice a 1, and a
 *   schema that pretends otherwise documents a feature that does nothing.
 *
 * No identifier is a feature. KDD'99 records carry no addresses, MAC addresses, source
 * ports, timestamps or connection ids; those are what let notebook models learn *which
 * host was the attacker in this capture* instead of what an attack looks like. `service`
 * stays: it is the destination's network service (http, smtp, private = unassigned
 * ports, …), derived from the protocol and destination port as a *role*, the same
 * category on every network, and observable before any label. It is the "port used as a
 * feature", not "as an identifier". Its risk is the data set's: some attacks used a few
 * services almost exclusively (neptune → private), so a supervised model can lean on
 * it; the unsupervised model trained on normal traffic can only learn which services
 * normal traffic uses. We measured the unsupervised model with and without it (see the
 * real-data test and docs/detect.md).
 *
 * Columns and vocabularies are those of nsl-kdd-record.ts (the ARFF header).
 *
 * Encoding: protocol_type, service and flag are categorical with the ARFF vocabularies;
 * land, logged_in and is_guest_login are the numbers 0/1; duration, src_bytes and
 * dst_bytes are heavy-tailed (0 to 10⁹) and are taken as ln(1 + x); everything else is
 * used as is (counts up to 511, rates in [0, 1]).
 */
import { CustodiaError } from '../kernel/index.js';
import { defineFeatureSchema, type FeatureSchema, type FeatureSpec } from './feature-schema.js';
import type { FeatureRecord } from './feature-encoder.js';
import { NSL_KDD_FEATURES, NSL_KDD_FLAGS, NSL_KDD_PROTOCOLS, NSL_KDD_SERVICES } from './nsl-kdd-record.js';

/** Columns 42 and 43 of the .txt files: the label (`normal` or an attack type) and the difficulty (0–21). */
export const NSL_KDD_LABEL_COLUMNS: readonly string[] = Object.freeze(['label', 'difficulty']);

/** Feature columns that the model does not use, and why (see the header comment). */
export const NSL_KDD_EXCLUDED: Readonly<Record<string, string>> = Object.freeze({
  num_outbound_cmds: 'constant (0) in the 20% training subset',
  is_host_login: 'constant (0) in the 20% training subset',
});

const CATEGORICAL: Readonly<Record<string, readonly string[]>> = { protocol_type: NSL_KDD_PROTOCOLS, service: NSL_KDD_SERVICES, flag: NSL_KDD_FLAGS };
const LOG1P = new Set(['duration', 'src_bytes', 'dst_bytes']);

function spec(name: string): FeatureSpec {
  const vocabulary = CATEGORICAL[name];
  if (vocabulary !== undefined) return { name, kind: 'categorical', vocabulary };
  return LOG1P.has(name) ? { name, kind: 'numeric', transform: 'log1p' } : { name, kind: 'numeric' };
}

/**
 * The NSL-KDD feature schema, version 1: the 39 used features in file order.
 *
 * @example
 *   const encoder = new FeatureEncoder(NSL_KDD_SCHEMA);
 */
export const NSL_KDD_SCHEMA: FeatureSchema = defineFeatureSchema({
  id: 'nsl-kdd',
  version: 1,
  features: NSL_KDD_FEATURES.filter((c) => !(c in NSL_KDD_EXCLUDED)).map(spec),
});

/** One NSL-KDD line, split: its features by name and, when present, its label and difficulty. */
export interface NslKddRow {
  readonly features: FeatureRecord;
  readonly label?: string;
  readonly difficulty?: string;
}

/**
 * Names the already-split fields of one NSL-KDD record: 41 fields (unlabelled), 42
 * (with the label, as in the ARFF files) or 43 (with label and difficulty, as in the
 * .txt files). Values stay strings; the encoder checks them. Splitting the raw line
 * (CSV, quoting, line numbers for errors) is the flow parser's job.
 *
 * @example
 *   nslKddRow(line.split(',')).label; // 'normal'
 */
export function nslKddRow(fields: readonly string[]): NslKddRow {
  const n = NSL_KDD_FEATURES.length;
  if (fields.length < n || fields.length > n + 2) throw new CustodiaError('import-failed', `An NSL-KDD record has ${n} to ${n + 2} fields`);
  const features: Record<string, string> = {};
  for (let i = 0; i < n; i++) features[NSL_KDD_FEATURES[i]!] = fields[i]!;
  const label = fields[n];
  const difficulty = fields[n + 1];
  return {
    features,
    ...(label === undefined ? {} : { label }),
    ...(difficulty === undefined ? {} : { difficulty }),
  };
}
