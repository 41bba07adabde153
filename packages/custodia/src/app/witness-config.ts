/**
 * Witness settings (issue 5 §3), from the command line:
 *
 * - the log's witnesses, `--witness URL=VKEY` (repeatable), where URL is the witness's
 *   submission prefix (C2SP tlog-witness: the log POSTs `<URL>/add-checkpoint`) and VKEY
 *   its cosignature verifier key (type 0x04), and `--witness-quorum N`;
 * - the logs a witness cosigns, `--log` / `--witness-for ORIGIN=VKEY` (repeatable): the
 *   log's origin line and a verifier key (type 0x01) trusted to sign its checkpoints.
 *
 * A vkey ends in base64 (which may end in `=`) and an origin or URL may hold `=` too, so
 * the split is where the right-hand side is a well-formed vkey whose key ID matches.
 */
import { CustodiaError } from '../kernel/index.js';
import { isLoopback } from './loopback.js';
import { cosignatureVerifier, ed25519NoteVerifier, isValidKeyName, NoteVerifierSet, parseVerifierKey, witnessKeyRef } from '../ledger/index.js';

/** A witness the log asks for cosignatures. */
export interface WitnessPeer {
  /** The submission prefix, without a trailing slash. */
  readonly url: string;
  /** The witness's cosignature verifier key (C2SP vkey, type 0x04). */
  readonly vkey: string;
}

/** A log a witness cosigns: its origin and one verifier key of the log (type 0x01). */
export interface WitnessedLog {
  readonly origin: string;
  readonly vkey: string;
}

const invalid = (m: string): never => {
  throw new CustodiaError('config-invalid', m);
};

/** Splits `LEFT=VKEY` where VKEY parses as a verifier key; the first such `=` wins. */
function splitAtKey(spec: string, what: string): { left: string; vkey: string } {
  for (let at = spec.indexOf('='); at > 0; at = spec.indexOf('=', at + 1)) {
    const vkey = spec.slice(at + 1);
    try {
      parseVerifierKey(vkey);
      return { left: spec.slice(0, at), vkey };
    } catch {
      // not here: an '=' inside the left-hand side, or no key at all
    }
  }
  return invalid(`${what} must be ${what === '--witness' ? 'URL' : 'ORIGIN'}=VKEY with a valid verifier key (C2SP signed-note vkey)`);
}

/**
 * `URL=VKEY` of `--witness`.
 *
 * @example
 *   parseWitnessPeer('https://witness.example/w1=witness.example/w1+da77ade7+BOvN…');
 *   // { url: 'https://witness.example/w1', vkey: 'witness.example/w1+da77ade7+BOvN…' }
 */
export function parseWitnessPeer(spec: string): WitnessPeer {
  const { left, vkey } = splitAtKey(spec, '--witness');
  let url: URL;
  try {
    url = new URL(left);
  } catch {
    return invalid('--witness needs an absolute http(s) URL before the "="');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    invalid('--witness needs an http(s) URL without credentials, query or fragment');
  }
  cosignatureVerifier(vkey); // type 0x04, or config-invalid
  return Object.freeze({ url: url.href.replace(/\/+$/, ''), vkey });
}

/**
 * `ORIGIN=VKEY` of `--witness-for` and `custodia witness serve --log`.
 *
 * @example
 *   parseWitnessedLog('hospital-b.example/ledger=hospital-b.example/ledger+1a2b3c4d+AcP…');
 */
export function parseWitnessedLog(spec: string, option = '--witness-for'): WitnessedLog {
  const { left, vkey } = splitAtKey(spec, option);
  // The origin is a checkpoint's first line: non-empty text without control characters; C2SP recommends a key-name-like value.
  if (!isValidKeyName(left) || left.length > 256) invalid(`${option}: the origin must be 1–256 characters without spaces, "+" or control characters`);
  try {
    ed25519NoteVerifier(vkey);
  } catch {
    invalid(`${option}: the log's verifier key must be an Ed25519 note key (signature type 0x01)`);
  }
  return Object.freeze({ origin: left, vkey });
}

/** The trusted keys per origin, refusing a key given twice. */
export function logVerifiers(logs: readonly WitnessedLog[]): Map<string, NoteVerifierSet> {
  const byOrigin = new Map<string, string[]>();
  for (const l of logs) byOrigin.set(l.origin, [...(byOrigin.get(l.origin) ?? []), l.vkey]);
  return new Map([...byOrigin].map(([origin, vkeys]) => [origin, new NoteVerifierSet(vkeys.map((k) => ed25519NoteVerifier(k)))]));
}

/** The URL's host as `isLoopback` wants it (IPv6 without brackets). */
const hostOf = (url: string): string => new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * The witnesses and quorum: each witness key once, quorum from 1 to the number of
 * witnesses (default: all of them). A plain-http witness beyond loopback is refused
 * unless `allowHttp` (`--witness-insecure-http`): cosignatures are signed, but on plain
 * HTTP anyone on the path can cut the log off from its witness or pose as it unnoticed
 * until the quorum stalls.
 */
export function resolveWitnesses(specs: readonly string[], quorum: number | string | undefined, allowHttp = false): { witnesses: readonly WitnessPeer[]; quorum: number } {
  const witnesses = specs.map(parseWitnessPeer);
  for (const w of witnesses) {
    if (!allowHttp && w.url.startsWith('http:') && !isLoopback(hostOf(w.url))) {
      invalid(`--witness ${w.url} is plain HTTP beyond loopback: give the witness TLS (https, with --witness-ca for a private CA) or pass --witness-insecure-http`);
    }
  }
  const refs = witnesses.map((w) => {
    const k = parseVerifierKey(w.vkey);
    return witnessKeyRef(k.name, k.keyId);
  });
  if (new Set(refs).size !== refs.length) invalid('--witness: the same witness key is given twice');
  if (quorum === undefined) return { witnesses: Object.freeze(witnesses), quorum: witnesses.length };
  const q = typeof quorum === 'number' ? quorum : /^\d{1,3}$/.test(quorum) ? Number(quorum) : Number.NaN;
  if (witnesses.length === 0) invalid('--witness-quorum needs at least one --witness');
  if (!Number.isInteger(q) || q < 1 || q > witnesses.length) invalid(`--witness-quorum must be a whole number from 1 to the number of witnesses (${witnesses.length})`);
  return { witnesses: Object.freeze(witnesses), quorum: q };
}
